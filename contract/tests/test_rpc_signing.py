"""sign → respond → resumed outcome through the RPC; timeout, fan-out, restart, governance."""

from __future__ import annotations

import base64
import json

import pytest
from near import ContractPanicError, actions

from chainsig_core import kdf
from chainsig_core.keys import PublicKey
from chainsig_core.signatures import parse_signature_response, verify_signature

PAYLOAD = bytes(range(32, 64))


def sign_action(path="p", payload=PAYLOAD, domain_id=0, deposit="1 yocto"):
    kind = "Ecdsa" if domain_id == 0 else "Eddsa"
    return actions.function_call("sign", {"request": {"path": path, "payload_v2": {kind: payload.hex()},
                                                      "domain_id": domain_id}}, gas="50 Tgas", deposit=deposit)


def submit(host, build_tx, account, action, nonce):
    key = host.key(account)
    head = host.client().rpc("block", {"finality": "optimistic"})["header"]["hash"]
    tx = build_tx(key, host.contract_id, [action], nonce, head)
    return host.client().rpc("broadcast_tx_async", [tx])


def wait(host, tx_hash, level="EXECUTED_OPTIMISTIC"):
    return host.client().rpc("tx", {"tx_hash": tx_hash, "sender_account_id": "alice.devnet", "wait_until": level})


def request_of(account, path, payload=PAYLOAD, domain_id=0):
    kind = "Ecdsa" if domain_id == 0 else "Eddsa"
    return {"domain_id": domain_id, "payload": {kind: payload.hex()}, "tweak": list(kdf.tweak(account, path))}


def respond(host, node, request, response):
    return host.client(node).call(host.contract_id, "respond", {"request": request, "response": response},
                                  gas="50 Tgas")


@pytest.mark.parametrize("domain_id,payload", [(0, PAYLOAD), (1, b"a solana message")])
def test_sign_respond_resumes_with_a_verifying_signature(live_host, build_tx, dev_responses, domain_id, payload):
    tx_hash = submit(live_host, build_tx, "alice.devnet", sign_action(domain_id=domain_id, payload=payload), 1)
    included = wait(live_host, tx_hash, "INCLUDED")
    assert included["final_execution_status"] in ("INCLUDED", "INCLUDED_FINAL")
    respond(live_host, "node1.devnet", request_of("alice.devnet", "p", payload, domain_id),
            dev_responses("alice.devnet", "p", payload, domain_id))
    result = wait(live_host, tx_hash)
    value = json.loads(base64.b64decode(result["status"]["SuccessValue"]))
    root = PublicKey.from_near_string(live_host.client().view(live_host.contract_id, "public_key",
                                                              {"domain_id": domain_id}))
    verify_signature(kdf.derive_public_key(root, "alice.devnet", "p"), payload, parse_signature_response(value))
    callback = result["receipts_outcome"][-1]
    assert callback["outcome"]["executor_id"] == live_host.contract_id


def test_sign_requests_are_visible_in_chunk_receipts(live_host, build_tx):
    tx_hash = submit(live_host, build_tx, "alice.devnet", sign_action(path="indexed"), 1)
    wait(live_host, tx_hash, "INCLUDED")
    record = live_host.client().rpc("EXPERIMENTAL_tx_status", {"tx_hash": tx_hash, "sender_account_id": "alice.devnet",
                                                               "wait_until": "INCLUDED"})
    assert record["final_execution_status"].startswith("INCLUDED")
    near = live_host.client()
    head = near.rpc("block", {"finality": "optimistic"})["header"]["height"]
    found = []
    for height in range(head, max(head - 400, 0) - 1, -1):  # newest first: a busy machine makes many blocks
        if found:
            break
        block = near.rpc("block", {"block_id": height})
        chunk = near.rpc("chunk", {"chunk_id": block["chunks"][0]["chunk_hash"]})
        for receipt in chunk["receipts"]:
            for action in receipt["receipt"]["Action"]["actions"]:
                if isinstance(action, dict) and action.get("FunctionCall", {}).get("method_name") == "sign":
                    found.append((receipt["predecessor_id"], block["header"]["random_value"],
                                  json.loads(base64.b64decode(action["FunctionCall"]["args"]))))
    assert found and found[0][0] == "alice.devnet" and found[0][2]["request"]["path"] == "indexed"


def test_unanswered_request_times_out_after_200_blocks(live_host, build_tx):
    from near.rpc import raise_for_execution_failure

    tx_hash = submit(live_host, build_tx, "alice.devnet", sign_action(path="slow"), 1)
    result = wait(live_host, tx_hash)  # ~5 s of 25 ms blocks, within the RPC's wait
    with pytest.raises(ContractPanicError) as info:
        raise_for_execution_failure(result)
    assert info.value.panic == "Smart contract panicked: Request has timed out."
    heights = [live_host.client().rpc("block", {"block_id": o["block_hash"]})["header"]["height"]
               for o in result["receipts_outcome"]]
    assert heights[-2] - heights[0] >= 200  # the callback ran 200 blocks after sign
    assert live_host.client().view(live_host.contract_id, "get_pending_request",
                                   {"request": request_of("alice.devnet", "slow")}) is None


def test_identical_requests_share_one_response(live_host, build_tx, dev_responses):
    hashes = [submit(live_host, build_tx, "alice.devnet", sign_action(path="shared"), n) for n in (1, 2, 3)]
    for tx_hash in hashes:
        wait(live_host, tx_hash, "INCLUDED")
    respond(live_host, "node0.devnet", request_of("alice.devnet", "shared"),
            dev_responses("alice.devnet", "shared", PAYLOAD))
    values = {wait(live_host, h)["status"]["SuccessValue"] for h in hashes}
    assert len(values) == 1


def test_respond_errors_through_the_rpc(live_host, build_tx, dev_responses):
    tx_hash = submit(live_host, build_tx, "alice.devnet", sign_action(path="guarded"), 1)
    wait(live_host, tx_hash, "INCLUDED")
    request = request_of("alice.devnet", "guarded")
    good = dev_responses("alice.devnet", "guarded", PAYLOAD)
    with pytest.raises(ContractPanicError) as info:
        respond(live_host, "bob.devnet", request, good)
    assert info.value.panic == "Smart contract panicked: Not a participant: bob.devnet"
    with pytest.raises(ContractPanicError) as info:
        respond(live_host, "node0.devnet", request, dev_responses("alice.devnet", "other", PAYLOAD))
    assert info.value.panic == "Smart contract panicked: The provided signature is invalid."
    with pytest.raises(ContractPanicError) as info:
        respond(live_host, "node0.devnet", request_of("alice.devnet", "never"),
                dev_responses("alice.devnet", "never", PAYLOAD))
    assert "This sign request has timed out, was completed, or never existed." in info.value.panic
    respond(live_host, "node0.devnet", request, good)
    assert "SuccessValue" in wait(live_host, tx_hash)["status"]


def test_sign_errors_through_the_rpc(live_host):
    alice = live_host.client("alice.devnet")
    with pytest.raises(ContractPanicError) as info:
        alice.call(live_host.contract_id, "sign", {"request": {"path": "p", "payload_v2": {"Ecdsa": "00" * 32},
                                                               "domain_id": 0}}, gas="50 Tgas", deposit="1 yocto")
    assert "Malformed payload" in info.value.panic
    with pytest.raises(ContractPanicError) as info:
        alice.call(live_host.contract_id, "sign", {"request": {"path": "p", "payload_v2": {"Ecdsa": "11" * 32},
                                                               "domain_id": 0}}, gas="50 Tgas")
    assert "Attached deposit is lower than required. Attached: 0, required: 1" in info.value.panic
    with pytest.raises(ContractPanicError) as info:
        alice.call(live_host.contract_id, "sign", {"request": {"path": "p", "payload_v2": {"Ecdsa": "11" * 32},
                                                               "domain_id": 3}}, gas="50 Tgas", deposit="1 yocto")
    assert "The provided domain ID, 3, was not found." in info.value.panic


def test_restart_keeps_pending_requests_and_deadlines(live_host, build_tx, dev_responses):
    tx_hash = submit(live_host, build_tx, "alice.devnet", sign_action(path="durable"), 1)
    wait(live_host, tx_hash, "INCLUDED")
    deadlines = {d: y["deadline"] for d, y in live_host.chain.yields.items()}
    assert len(deadlines) == 1
    live_host.stop()
    live_host.start()
    assert {d: y["deadline"] for d, y in live_host.chain.yields.items()} == deadlines
    request = request_of("alice.devnet", "durable")
    assert live_host.client().view(live_host.contract_id, "get_pending_request", {"request": request}) is not None
    respond(live_host, "node2.devnet", request, dev_responses("alice.devnet", "durable", PAYLOAD))
    assert "SuccessValue" in wait(live_host, tx_hash)["status"]


def test_stop_answers_waiting_clients_at_once(live_host, build_tx):
    """A client long-polling for a yielded request must not hold the host's shutdown for the
    wait timeout (30 s here): stop() answers it with NEAR's timeout error and ends promptly."""
    import threading
    import time

    tx_hash = submit(live_host, build_tx, "alice.devnet", sign_action(path="held"), 1)
    wait(live_host, tx_hash, "INCLUDED")
    outcome: list[BaseException | dict] = []

    def poll() -> None:
        try:
            outcome.append(wait(live_host, tx_hash, "FINAL"))
        except Exception as exc:  # the answer under test
            outcome.append(exc)

    waiter = threading.Thread(target=poll)
    waiter.start()
    time.sleep(0.5)  # the poll is inside the host's wait
    started = time.monotonic()
    live_host.stop()
    assert time.monotonic() - started < 5
    waiter.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], Exception), outcome


def test_keygen_through_transactions(live_host_factory):
    from chainsig_core.keys import Curve
    from chainsig_core.signers.dev import dev_root_public_key

    host = live_host_factory({"participants": 3, "users": ["alice"], "contract": {"state": "initializing"}},
                             name="keygen")
    near = host.client()
    assert "Initializing" in near.view(host.contract_id, "state")
    keys = {"Secp256k1": dev_root_public_key(Curve.SECP256K1).to_near_string(),
            "Edwards25519": dev_root_public_key(Curve.ED25519).to_near_string()}
    while "Initializing" in (state := near.view(host.contract_id, "state")):
        event = state["Initializing"]["generating_key"]
        key_event_id = {"epoch_id": event["epoch_id"], "domain_id": event["domain"]["id"],
                        "attempt_id": event["next_attempt_id"]}
        host.client("node0.devnet").call(host.contract_id, "start_keygen_instance", {"key_event_id": key_event_id})
        for i in range(3):
            host.client(f"node{i}.devnet").call(host.contract_id, "vote_pk", {
                "key_event_id": key_event_id, "public_key": keys[event["domain"]["curve"]]})
    assert near.view(host.contract_id, "public_key", {"domain_id": 1}) == keys["Edwards25519"]


def test_failed_calls_keep_their_logs_and_nears_error_kinds(live_host):
    alice = live_host.client("alice.devnet")
    with pytest.raises(ContractPanicError) as info:
        alice.call(live_host.contract_id, "sign", {"request": {"path": "p", "payload_v2": {"Ecdsa": "11" * 32},
                                                               "domain_id": 0}}, gas="50 Tgas")
    assert any(log.startswith("sign: predecessor='alice.devnet'") for log in info.value.logs)
    with pytest.raises(ContractPanicError) as info:
        alice.call(live_host.contract_id, "no_such_method", {})
    failure = info.value.data["status"]["Failure"]["ActionError"]["kind"]
    assert failure == {"FunctionCallError": {"MethodResolveError": "MethodNotFound"}}


def test_view_methods_can_be_called_in_a_transaction(live_host):
    result = live_host.client("alice.devnet").call(live_host.contract_id, "version", {})
    assert result.json_value() == "3.14.0"
