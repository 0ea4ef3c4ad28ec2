"""The indexer against a loopback HTTP server serving NEAR's documented block/chunk shapes."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

from chainsig_core import kdf
from chainsig_mpc.node.indexer import (
    BlockEvent,
    ContractIndexer,
    RequestTracker,
    RespondEvent,
    SignRequestEvent,
    YIELD_TIMEOUT_BLOCKS,
)

CONTRACT = "v1.signer.devnet"
ECDSA_PAYLOAD = bytes(range(1, 33))
RANDOM_103 = bytes(range(100, 132))


def sign_args(path: str, payload: bytes = ECDSA_PAYLOAD, domain_id: int = 0, kind: str = "Ecdsa") -> dict:
    return {"request": {"path": path, "payload_v2": {kind: payload.hex()}, "domain_id": domain_id}}


def populate(near, shapes) -> None:
    action_receipt, data_receipt, function_call = shapes.action_receipt, shapes.data_receipt, shapes.function_call
    """Blocks 101–105: 102 skipped by the chain; shard 1 has no new chunk in 103."""
    near.add_block(101, [[], []])
    near.add_block(103, [[
        action_receipt("r-sign-1", "alice.near", CONTRACT, [function_call("sign", sign_args("ethereum-1"))]),
    ], None], random_value=RANDOM_103)
    respond_args = {
        "request": {"domain_id": 0, "payload": {"Ecdsa": ECDSA_PAYLOAD.hex().upper()},
                    "tweak": list(kdf.tweak("alice.near", "ethereum-1"))},
        "response": {"scheme": "Secp256k1", "big_r": {"affine_point": "02" + "11" * 32},
                     "s": {"scalar": "22" * 32}, "recovery_id": 0},
    }
    near.add_block(104, [[
        action_receipt("r-legacy", "bob.near", CONTRACT, [function_call(
            "sign", {"request": {"path": "", "payload": list(ECDSA_PAYLOAD), "key_version": 0}})]),
        action_receipt("r-other", "carol.near", "not-the-signer.near", [function_call("sign", sign_args("x"))]),
        action_receipt("r-transfer", "carol.near", CONTRACT, [{"Transfer": {"deposit": "1000"}}]),
        action_receipt("r-create", "carol.near", CONTRACT, ["CreateAccount"]),
        data_receipt("r-data", CONTRACT),
        action_receipt("r-bad-b64", "eve.near", CONTRACT, [{"FunctionCall": {
            "method_name": "sign", "args": "%%%not base64", "gas": 1, "deposit": "1"}}]),
        action_receipt("r-bad-args", "eve.near", CONTRACT, [function_call(
            "sign", {"request": {"path": "p", "payload_v2": {"Ecdsa": "00"}, "domain_id": 0}})]),
        action_receipt("r-both", "eve.near", CONTRACT, [function_call(
            "sign", {"request": {"path": "p", "payload": list(ECDSA_PAYLOAD),
                                 "payload_v2": {"Ecdsa": ECDSA_PAYLOAD.hex()}}})]),
    ], [
        action_receipt("r-eddsa", "dave.near", CONTRACT, [function_call(
            "sign", sign_args("solana-1", b"any message", 1, "Eddsa"))]),
        action_receipt("r-respond", "node1.near", CONTRACT, [function_call("respond", respond_args)]),
    ]])
    near.add_block(105, [[], []])


def collect(run, indexer: ContractIndexer) -> list:
    async def go():
        return [event async for event in indexer.catch_up()]

    return run(go())


def test_follows_blocks_and_chunks_and_finds_sign_and_respond_calls(run, near_rpc, shapes):
    populate(near_rpc, shapes)
    indexer = ContractIndexer(near_rpc.url, CONTRACT, start_height=100)
    events = collect(run, indexer)
    run(indexer.aclose())
    signs = [e for e in events if isinstance(e, SignRequestEvent)]
    assert [e.request_id for e in signs] == ["r-sign-1", "r-legacy", "r-eddsa"]
    first = signs[0]
    assert (first.predecessor, first.path, first.payload_kind, first.payload, first.domain_id) == (
        "alice.near", "ethereum-1", "Ecdsa", ECDSA_PAYLOAD, 0)
    assert first.tweak == kdf.tweak("alice.near", "ethereum-1")
    assert first.random_value == RANDOM_103
    assert (first.block_height, first.block_hash) == (103, near_rpc.blocks[103]["header"]["hash"])
    assert first.timeout_height == 103 + YIELD_TIMEOUT_BLOCKS
    assert first.signature_request() == {"domain_id": 0, "payload": {"Ecdsa": ECDSA_PAYLOAD.hex()},
                                         "tweak": first.tweak.hex()}
    assert (signs[1].path, signs[1].payload, signs[1].domain_id) == ("", ECDSA_PAYLOAD, 0)
    assert (signs[2].payload_kind, signs[2].payload, signs[2].domain_id) == ("Eddsa", b"any message", 1)
    assert signs[2].tweak == kdf.tweak("dave.near", "solana-1")
    responds = [e for e in events if isinstance(e, RespondEvent)]
    assert [(r.receipt_id, r.responder, r.request_key) for r in responds] == [
        ("r-respond", "node1.near", first.request_key)]
    assert [e.height for e in events if isinstance(e, BlockEvent)] == [101, 103, 104, 105]
    assert isinstance(events[-1], BlockEvent) and indexer.last_height == 105
    # Shard 1's repeated chunk header in block 103 was not fetched again.
    fetched = [p["chunk_id"] for p in near_rpc.requested("chunk")]
    assert len(fetched) == len(set(fetched)) == 7
    assert [p for p in near_rpc.requested("block") if "block_id" in p] == [{"block_id": h} for h in range(101, 106)]


def test_catches_up_over_many_missed_heights_in_order(run, near_rpc, shapes):
    near_rpc.add_block(10, [[]])
    indexer = ContractIndexer(near_rpc.url, CONTRACT, start_height=None)
    assert collect(run, indexer) == [] and indexer.last_height == 10  # starts at the final block
    for height in range(11, 40):
        if height % 7 == 0:
            continue  # heights NEAR skipped
        near_rpc.add_block(height, [[shapes.action_receipt(f"r{height}", "alice.near", CONTRACT,
                                                    [shapes.function_call("sign", sign_args(f"p{height}"))])]])
    events = collect(run, indexer)
    signs = [e for e in events if isinstance(e, SignRequestEvent)]
    assert [e.block_height for e in signs] == [h for h in range(11, 40) if h % 7]
    assert [e.path for e in signs] == [f"p{h}" for h in range(11, 40) if h % 7]
    assert indexer.last_height == 39
    assert collect(run, indexer) == []  # nothing new
    run(indexer.aclose())


@pytest.mark.parametrize("failure", ["http500", "internal", "garbage", "timeout_error"])
def test_survives_rpc_errors_without_losing_a_block(run, near_rpc, shapes, failure, caplog):
    populate(near_rpc, shapes)
    reference = collect(run, ContractIndexer(near_rpc.url, CONTRACT, start_height=100))
    near_rpc.server.clear()
    near_rpc.fail(3, failure)
    indexer = ContractIndexer(near_rpc.url, CONTRACT, start_height=100, max_backoff=0.02)
    events = collect(run, indexer)
    run(indexer.aclose())
    assert events == reference
    assert indexer.rpc_errors == 3
    assert "retrying" in caplog.text


def test_fails_over_mid_block_without_dropping_its_receipts(run, near_rpc, shapes):
    populate(near_rpc, shapes)
    indexer = ContractIndexer(near_rpc.url, CONTRACT, start_height=103, max_backoff=0.02)
    original = near_rpc._handle
    calls = {"chunk": 0}

    def flaky(request):
        if request.json().get("method") == "chunk":
            calls["chunk"] += 1
            if calls["chunk"] == 2:  # the second chunk of block 104 fails once
                return near_rpc._error("INTERNAL_ERROR", "INTERNAL_ERROR")
        return original(request)

    near_rpc.server.add("POST", "/", handler=flaky)
    events = collect(run, indexer)
    run(indexer.aclose())
    assert [e.request_id for e in events if isinstance(e, SignRequestEvent)] == ["r-legacy", "r-eddsa"]
    assert [e.receipt_id for e in events if isinstance(e, RespondEvent)] == ["r-respond"]


def test_unreachable_rpc_is_retried_then_followed(run, near_rpc, shapes):
    indexer = ContractIndexer("http://127.0.0.1:9/", CONTRACT, start_height=0, max_backoff=0.01, rpc_timeout=1)

    async def go():
        task = asyncio.ensure_future(collect_async(indexer))
        await asyncio.sleep(0.3)
        assert not task.done() and indexer.rpc_errors >= 2
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await indexer.aclose()

    run(go())


async def collect_async(indexer):
    return [event async for event in indexer.catch_up()]


def test_events_stream_follows_new_blocks(run, near_rpc, shapes):
    near_rpc.add_block(1, [[]])

    async def go():
        indexer = ContractIndexer(near_rpc.url, CONTRACT, start_height=None, poll_interval=0.02)
        stream = indexer.events()
        first = asyncio.ensure_future(stream.__anext__())
        await asyncio.sleep(0.1)
        near_rpc.add_block(2, [[shapes.action_receipt("r2", "alice.near", CONTRACT, [shapes.function_call("sign", sign_args("late"))])]])
        event = await asyncio.wait_for(first, 5)
        assert isinstance(event, SignRequestEvent) and event.path == "late"
        assert isinstance(await stream.__anext__(), BlockEvent)
        await stream.aclose()
        await indexer.aclose()

    run(go())


def test_is_pending_asks_the_contract_view(run, near_rpc, shapes):
    populate(near_rpc, shapes)
    indexer = ContractIndexer(near_rpc.url, CONTRACT, start_height=100)
    sign = next(e for e in collect(run, indexer) if isinstance(e, SignRequestEvent))
    assert run(indexer.is_pending(sign)) is False
    near_rpc.pending_views[json.dumps(sign.signature_request(), sort_keys=True)] = 7
    assert run(indexer.is_pending(sign)) is True
    query = near_rpc.requested("query")[-1]
    assert query["method_name"] == "get_pending_request" and query["account_id"] == CONTRACT
    assert json.loads(base64.b64decode(query["args_base64"])) == {"request": sign.signature_request()}
    run(indexer.aclose())


def _sign(request_id: str, height: int, path: str = "p") -> SignRequestEvent:
    tweak = kdf.tweak("alice.near", path)
    return SignRequestEvent(request_id, "alice.near", path, "Ecdsa", ECDSA_PAYLOAD, 0, height, "h",
                            bytes(32), tweak, {})


def test_tracker_skips_answered_and_timed_out_requests():
    tracker = RequestTracker()
    a, a_again, b = _sign("a", 10), _sign("a2", 12), _sign("b", 11, "other")
    for event in (a, b, a_again):
        tracker.observe(event)
    assert [e.request_id for e in tracker.pending()] == ["a", "b"]
    tracker.observe(RespondEvent("resp", "node1.near", a.request_key, {}, 13, "h"))
    assert [e.request_id for e in tracker.pending()] == ["b"]  # both identical requests answered
    assert tracker.is_answered(a.request_key)
    tracker.observe(BlockEvent(11 + YIELD_TIMEOUT_BLOCKS - 1, "h", bytes(32)))
    assert [e.request_id for e in tracker.pending()] == ["b"]
    tracker.observe(BlockEvent(11 + YIELD_TIMEOUT_BLOCKS, "h", bytes(32)))
    assert tracker.pending() == [] and tracker.timed_out == 1


def test_a_node_without_a_final_block_is_retried_not_fatal(run, near_rpc):
    # No block at all yet: `block` with finality final answers UNKNOWN_BLOCK.
    indexer = ContractIndexer(near_rpc.url, CONTRACT, start_height=None, max_backoff=0.01)

    async def go():
        task = asyncio.ensure_future(collect_async(indexer))
        await asyncio.sleep(0.2)
        assert not task.done() and indexer.rpc_errors >= 1
        near_rpc.add_block(5, [[]])
        assert await asyncio.wait_for(task, 5) == [] and indexer.last_height == 5
        await indexer.aclose()

    run(go())


def test_view_errors_are_indexer_errors_after_the_last_try(run, near_rpc, shapes):
    from chainsig_mpc.node.errors import IndexerError
    from chainsig_mpc.node.indexer import VIEW_ATTEMPTS

    populate(near_rpc, shapes)
    indexer = ContractIndexer(near_rpc.url, CONTRACT, start_height=102)
    sign = next(e for e in collect(run, indexer) if isinstance(e, SignRequestEvent))
    near_rpc.server.clear()
    near_rpc.fail(VIEW_ATTEMPTS, "internal")
    with pytest.raises(IndexerError, match=r"^query failed: RPC error \[INTERNAL_ERROR\]") as raised:
        run(indexer.is_pending(sign))
    assert "\n" not in str(raised.value)
    assert len(near_rpc.requested("query")) == VIEW_ATTEMPTS and indexer.rpc_errors == VIEW_ATTEMPTS
    assert run(indexer.is_pending(sign)) is False  # the RPC is back: the next question is answered
    run(indexer.aclose())


@pytest.mark.parametrize("failure", ["http500", "internal", "garbage", "timeout_error"])
def test_is_pending_survives_transient_rpc_failures(run, near_rpc, shapes, failure, caplog):
    import time

    from chainsig_mpc.node.indexer import VIEW_ATTEMPTS

    populate(near_rpc, shapes)
    indexer = ContractIndexer(near_rpc.url, CONTRACT, start_height=102)
    sign = next(e for e in collect(run, indexer) if isinstance(e, SignRequestEvent))
    near_rpc.pending_views[json.dumps(sign.signature_request(), sort_keys=True)] = 7
    near_rpc.server.clear()
    near_rpc.fail(VIEW_ATTEMPTS - 1, failure)
    started = time.monotonic()
    assert run(indexer.is_pending(sign)) is True  # the answer after the failures, not a default
    assert time.monotonic() - started < 2.0
    assert len(near_rpc.requested("query")) == VIEW_ATTEMPTS
    assert indexer.rpc_errors == VIEW_ATTEMPTS - 1
    assert "view retry" in caplog.text
    run(indexer.aclose())


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_is_pending_against_a_down_rpc_is_one_clear_error_without_the_url_secret(run, caplog):
    import time

    from chainsig_mpc.node.errors import IndexerError
    from chainsig_mpc.node.indexer import VIEW_ATTEMPTS

    free_port = _closed_port()
    url = f"http://127.0.0.1:{free_port}/v3/SECRET-PATH?apikey=SECRET-QUERY"
    indexer = ContractIndexer(url, CONTRACT, rpc_timeout=1)
    started = time.monotonic()
    with pytest.raises(IndexerError) as raised:
        run(indexer.is_pending(_sign("r", 5)))
    assert time.monotonic() - started < 2.0
    message = str(raised.value)
    assert message.startswith("query failed: ") and "\n" not in message
    assert isinstance(raised.value, ConnectionError)
    assert indexer.rpc_errors == VIEW_ATTEMPTS
    assert "SECRET" not in message and "SECRET" not in caplog.text
    assert f"http://127.0.0.1:{free_port}" in caplog.text  # the endpoint is still named
    run(indexer.aclose())


def test_a_view_error_in_the_answer_is_not_retried(run, near_rpc):
    from chainsig_core.testing.http_server import CannedResponse
    from chainsig_mpc.node.errors import IndexerError

    near_rpc.server.add("POST", "/", json={"jsonrpc": "2.0", "id": "1", "result": {
        "error": "wasm execution failed with error: MethodNotFound", "logs": [], "block_height": 1}})
    indexer = ContractIndexer(near_rpc.url, CONTRACT)
    with pytest.raises(IndexerError, match="^get_pending_request failed: wasm execution failed"):
        run(indexer.is_pending(_sign("r", 5)))
    assert len(near_rpc.server.requests) == 1 and indexer.rpc_errors == 0
    near_rpc.server.add("POST", "/", handler=lambda _r: CannedResponse(json={"jsonrpc": "2.0", "id": "1", "result": {}}))
    with pytest.raises(IndexerError, match="unexpected shape"):
        run(indexer.is_pending(_sign("r", 5)))
    run(indexer.aclose())


@pytest.mark.parametrize(("url", "shown"), [
    ("https://rpc.mainnet.near.org", "https://rpc.mainnet.near.org"),
    ("https://user:pw@near.example.com:8443/v1/KEY?token=KEY#KEY", "https://near.example.com:8443"),
    ("http://[::1]:3030/", "http://[::1]:3030"),
    ("not a url", "<malformed RPC URL>"),
    ("http://host:notaport/", "<malformed RPC URL>"),
])
def test_endpoint_of_drops_everything_that_may_hold_a_key(url, shown):
    from chainsig_mpc.node.indexer import endpoint_of

    assert endpoint_of(url) == shown


def test_lookback_starts_before_the_final_block_so_a_restarted_node_sees_pending_requests(run, near_rpc, shapes):
    for height in range(1, 12):
        near_rpc.add_block(height, [[shapes.action_receipt(f"r{height}", "alice.near", CONTRACT,
                                                           [shapes.function_call("sign", sign_args(f"p{height}"))])]])
    indexer = ContractIndexer(near_rpc.url, CONTRACT, lookback=4)
    events = collect(run, indexer)
    assert [e.block_height for e in events if isinstance(e, SignRequestEvent)] == [8, 9, 10, 11]
    assert indexer.last_height == 11
    deep = ContractIndexer(near_rpc.url, CONTRACT, lookback=YIELD_TIMEOUT_BLOCKS)  # reaches below genesis
    assert [e.height for e in collect(run, deep) if isinstance(e, BlockEvent)] == list(range(1, 12))
    for opened in (indexer, deep):
        run(opened.aclose())
    with pytest.raises(ValueError):
        ContractIndexer(near_rpc.url, CONTRACT, lookback=-1)


@pytest.mark.parametrize("payload", [bytes(32), b"\xff" * 32])  # zero, not below the curve order
def test_ecdsa_payloads_the_contract_refuses_are_not_requests(run, near_rpc, shapes, payload):
    near_rpc.add_block(5, [[
        shapes.action_receipt("r-bad", "eve.near", CONTRACT, [shapes.function_call("sign", sign_args("p", payload))]),
        shapes.action_receipt("r-legacy-bad", "eve.near", CONTRACT, [shapes.function_call(
            "sign", {"request": {"path": "p", "payload": list(payload)}})]),
        shapes.action_receipt("r-good", "eve.near", CONTRACT, [shapes.function_call("sign", sign_args("p"))]),
    ]])
    indexer = ContractIndexer(near_rpc.url, CONTRACT, start_height=4)
    events = collect(run, indexer)
    run(indexer.aclose())
    assert [e.request_id for e in events if isinstance(e, SignRequestEvent)] == ["r-good"]


@pytest.mark.parametrize("request_value", [
    None, [1], {"path": 5, "payload_v2": {"Ecdsa": "11" * 32}},
    {"path": "p", "payload_v2": {"Ecdsa": "00" * 32}},             # zero payload
    {"path": "p", "payload_v2": {"Ecdsa": "ff" * 32}},             # ≥ n
    {"path": "p", "payload_v2": {"Ecdsa": "11" * 31}},             # short
    {"path": "p", "payload_v2": {"Eddsa": "11" * 1233}},           # too long
    {"path": "p", "payload_v2": {"Other": "11"}},
    {"path": "p", "payload_v2": {"Ecdsa": "11" * 32}, "domain_id": -1},
    {"path": "p", "payload_v2": {"Ecdsa": "11" * 32}, "domain_id": True},
    {"path": "p", "payload_v2": {"Ecdsa": "11" * 32}, "domain_id": 0, "key_version": 0},
    {"path": "p", "payload": [1] * 31},
])
def test_sign_arguments_the_contract_refuses(request_value):
    from chainsig_core.errors import InvalidInputError
    from chainsig_mpc.node.signargs import parse_sign_request

    with pytest.raises(InvalidInputError):
        parse_sign_request({"request": request_value})


def test_sign_arguments_accepted():
    from chainsig_mpc.node.signargs import parse_sign_request

    h = "11" * 32
    assert parse_sign_request({"request": {"path": "p", "payload_v2": {"Ecdsa": h.upper()}, "domain_id": 0}}) == (
        "p", "Ecdsa", bytes.fromhex(h), 0)
    assert parse_sign_request({"request": {"path": "", "payload_v2": {"Eddsa": "6869"}, "domain_id": 1}}) == (
        "", "Eddsa", b"hi", 1)
    assert parse_sign_request({"request": {"path": "x", "payload": [1] * 32, "key_version": 0}}) == (
        "x", "Ecdsa", bytes([1] * 32), 0)
