"""The local Solana JSON-RPC server: Solana's shapes through solana-py, and bad requests."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import subprocess
import sys
from typing import Any

import pytest


def _client_run(url: str, work: Any) -> Any:
    from solana.rpc.async_api import AsyncClient

    async def main() -> Any:
        async with AsyncClient(url) as client:
            return await work(client)

    return asyncio.run(main())


def _transfer(client_blockhash: Any, payer: Any, to: Any, lamports: int, v0: bool = True) -> Any:
    from solders.message import Message, MessageV0
    from solders.system_program import TransferParams, transfer
    from solders.transaction import VersionedTransaction

    ix = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=lamports))
    msg = MessageV0.try_compile(payer.pubkey(), [ix], [], client_blockhash) if v0 else Message.new_with_blockhash([ix], payer.pubkey(), client_blockhash)
    return VersionedTransaction(msg, [payer])


def test_solana_py_round_trip(local_rpc, rpc_call, new_keypair) -> None:
    from solana.rpc.core import RPCException

    payer, to = new_keypair(), new_keypair().pubkey()

    async def work(c: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"connected": await c.is_connected()}
        airdrop = (await c.request_airdrop(payer.pubkey(), 2 * 10**9)).value
        out["airdrop_status"] = (await c.get_signature_statuses([airdrop])).value[0]
        first = (await c.get_latest_blockhash()).value
        out["sim"] = (await c.simulate_transaction(_transfer(first.blockhash, payer, to, 10**6))).value
        sig = (await c.send_transaction(_transfer(first.blockhash, payer, to, 10**6))).value
        out["status"] = (await c.get_signature_statuses([sig])).value[0]
        second = (await c.get_latest_blockhash()).value
        out["blockhashes"] = (first, second)
        # The older blockhash stays valid for 150 blocks: a legacy transfer with it lands.
        await c.send_transaction(_transfer(first.blockhash, payer, to, 2 * 10**6, v0=False))
        out["to_balance"] = (await c.get_balance(to)).value
        out["info"] = (await c.get_account_info(to)).value
        out["rent0"] = (await c.get_minimum_balance_for_rent_exemption(0)).value
        try:
            await c.send_transaction(_transfer(first.blockhash, payer, to, 10**6))
        except RPCException as exc:
            out["dup"] = exc.args[0]
        out["version"] = (await c.get_version()).value
        out["slot"] = (await c.get_slot()).value
        out["height"] = (await c.get_block_height()).value
        out["multi"] = (await c.get_multiple_accounts([to, new_keypair().pubkey()])).value
        out["epoch"] = (await c.get_epoch_info()).value
        return out

    out = _client_run(local_rpc.url, work)
    assert out["connected"] is True
    assert out["airdrop_status"].err is None
    assert out["sim"].err is None and out["sim"].units_consumed > 0
    assert out["status"].err is None and int(out["status"].confirmation_status) == 2
    first, second = out["blockhashes"]
    assert first.blockhash != second.blockhash and second.last_valid_block_height == first.last_valid_block_height + 1
    assert out["to_balance"] == 3 * 10**6
    assert out["info"].lamports == 3 * 10**6 and str(out["info"].owner) == "11111111111111111111111111111111"
    assert out["rent0"] == 890880
    valid = rpc_call({"jsonrpc": "2.0", "id": 1, "method": "isBlockhashValid", "params": [str(first.blockhash)]})[1]
    assert valid["result"]["value"] is True
    assert "already been processed" in out["dup"].message
    assert "LiteSVM" in out["version"].solana_core
    assert out["slot"] == out["height"] == local_rpc.node.slot
    assert out["multi"][0].lamports == 3 * 10**6 and out["multi"][1] is None
    epoch = out["epoch"]
    assert epoch.absolute_slot == out["slot"] and 0 <= epoch.slot_index < epoch.slots_in_epoch


def test_preflight_failure_has_solanas_shape(local_rpc, rpc_call, new_keypair) -> None:
    payer = new_keypair()
    local_rpc.node.airdrop(payer.pubkey(), 10**9)
    blockhash, _ = local_rpc.node.latest_blockhash()
    from solders.hash import Hash

    tx = _transfer(Hash.from_string(blockhash), payer, new_keypair().pubkey(), 5 * 10**9)
    status, body = rpc_call({"jsonrpc": "2.0", "id": 7, "method": "sendTransaction",
                              "params": [base64.b64encode(bytes(tx)).decode(), {"encoding": "base64"}]})
    assert status == 200 and body["id"] == 7
    error = body["error"]
    assert error["code"] == -32002
    assert error["message"] == "Transaction simulation failed: Error processing Instruction 0: custom program error: 0x1"
    assert error["data"]["err"] == {"InstructionError": [0, {"Custom": 1}]}
    assert any("insufficient lamports" in line for line in error["data"]["logs"])
    # Unknown blockhash and tampered signatures.
    stale = _transfer(Hash.default(), payer, new_keypair().pubkey(), 1)
    _, body = rpc_call({"jsonrpc": "2.0", "id": 1, "method": "sendTransaction", "params": [base64.b64encode(bytes(stale)).decode(), {"encoding": "base64"}]})
    assert body["error"]["code"] == -32002 and body["error"]["data"]["err"] == "BlockhashNotFound"
    raw = bytearray(bytes(tx))
    raw[5] ^= 1
    _, body = rpc_call({"jsonrpc": "2.0", "id": 1, "method": "sendTransaction", "params": [base64.b64encode(bytes(raw)).decode(), {"encoding": "base64"}]})
    assert body["error"] == {"code": -32003, "message": "Transaction signature verification failure"}
    # With skipPreflight a failing transaction lands, pays its fee and reports its error.
    _, body = rpc_call({"jsonrpc": "2.0", "id": 1, "method": "sendTransaction", "params": [base64.b64encode(bytes(tx)).decode(), {"encoding": "base64", "skipPreflight": True}]})
    signature = body["result"]
    _, body = rpc_call({"jsonrpc": "2.0", "id": 2, "method": "getSignatureStatuses", "params": [[signature]]})
    (entry,) = body["result"]["value"]
    assert entry["err"] == {"InstructionError": [0, {"Custom": 1}]} and entry["status"] == {"Err": entry["err"]}
    assert body["result"]["context"]["apiVersion"]


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (b"{", -32700, "Parse error"),
        (b"\xff\xfe", -32700, "Parse error"),
        (b"[]", -32600, "Invalid request"),
        (b"42", -32600, "Invalid request"),
        ({"jsonrpc": "1.0", "id": 1, "method": "getSlot"}, -32600, "Invalid request"),
        ({"jsonrpc": "2.0", "id": 1}, -32600, "Invalid request"),
        ({"jsonrpc": "2.0", "id": [1], "method": "getSlot"}, -32600, "Invalid request"),
        ({"jsonrpc": "2.0", "id": 1, "method": "getNothing"}, -32601, "Method not found"),
        ({"jsonrpc": "2.0", "id": 1, "method": "getBalance"}, -32602, "Invalid params: `params` should have at least 1 argument(s)"),
        ({"jsonrpc": "2.0", "id": 1, "method": "getBalance", "params": {"a": 1}}, -32602, None),
        ({"jsonrpc": "2.0", "id": 1, "method": "getBalance", "params": ["0OIl"]}, -32602, "Invalid param: Invalid"),
        ({"jsonrpc": "2.0", "id": 1, "method": "getBalance", "params": ["abc"]}, -32602, "Invalid param: WrongSize"),
        ({"jsonrpc": "2.0", "id": 1, "method": "getBalance", "params": [5]}, -32602, None),
        ({"jsonrpc": "2.0", "id": 1, "method": "getBalance", "params": ["11111111111111111111111111111111", {"commitment": "soon"}]}, -32602, None),
        ({"jsonrpc": "2.0", "id": 1, "method": "getBalance", "params": ["11111111111111111111111111111111", {"minContextSlot": 10**15}]}, -32016, "Minimum context slot has not been reached"),
        ({"jsonrpc": "2.0", "id": 1, "method": "sendTransaction", "params": ["!!", {"encoding": "base64"}]}, -32602, None),
        ({"jsonrpc": "2.0", "id": 1, "method": "sendTransaction", "params": ["AAAA", {"encoding": "base64"}]}, -32602, None),
        ({"jsonrpc": "2.0", "id": 1, "method": "sendTransaction", "params": ["A" * 2000, {"encoding": "base64"}]}, -32602, None),
        ({"jsonrpc": "2.0", "id": 1, "method": "sendTransaction", "params": ["abc", {"encoding": "hex"}]}, -32602, None),
        ({"jsonrpc": "2.0", "id": 1, "method": "requestAirdrop", "params": ["11111111111111111111111111111112", -1]}, -32602, None),
        ({"jsonrpc": "2.0", "id": 1, "method": "requestAirdrop", "params": ["11111111111111111111111111111112", True]}, -32602, None),
        ({"jsonrpc": "2.0", "id": 1, "method": "getSignatureStatuses", "params": [["x" * 88] * 257]}, -32602, "Invalid params: Too many inputs provided; max 256"),
        ({"jsonrpc": "2.0", "id": 1, "method": "getSignatureStatuses", "params": [["abc"]]}, -32602, "Invalid param: WrongSize"),
        ({"jsonrpc": "2.0", "id": 1, "method": "getMinimumBalanceForRentExemption", "params": ["ten"]}, -32602, None),
        ({"jsonrpc": "2.0", "id": 1, "method": "getTokenAccountBalance", "params": ["11111111111111111111111111111112"]}, -32602, "Invalid param: could not find account"),
        ({"jsonrpc": "2.0", "id": 1, "method": "getTokenAccountBalance", "params": ["11111111111111111111111111111111"]}, -32602, "Invalid param: not a Token account"),
        ({"jsonrpc": "2.0", "id": 1, "method": "getTokenSupply", "params": ["11111111111111111111111111111111"]}, -32602, "Invalid param: not a Token mint"),
        ({"jsonrpc": "2.0", "id": 1, "method": "getAccountInfo", "params": ["SysvarS1otHashes111111111111111111111111111"]}, -32602, "Invalid params: Encoded binary (base 58) data should be less than 128 bytes, please use Base64 encoding."),
        ({"jsonrpc": "2.0", "id": 1, "method": "getAccountInfo", "params": ["11111111111111111111111111111111", {"encoding": "base64+zstd"}]}, -32602, None),
        ({"jsonrpc": "2.0", "id": 1, "method": "getFeeForMessage", "params": ["AAAA"]}, -32602, None),
    ],
)
def test_bad_requests_get_solana_errors(rpc_call, body, code, message) -> None:
    status, answer = rpc_call(body)
    assert status == 200
    assert answer["jsonrpc"] == "2.0" and "result" not in answer
    assert answer["error"]["code"] == code
    if message is not None:
        assert answer["error"]["message"] == message
    assert isinstance(answer["error"]["message"], str) and answer["error"]["message"]
    # The server is still healthy afterwards.
    assert rpc_call({"jsonrpc": "2.0", "id": "after", "method": "getHealth"})[1] == {"jsonrpc": "2.0", "result": "ok", "id": "after"}


def test_batches_notifications_and_http(rpc_call) -> None:
    status, answer = rpc_call([
        {"jsonrpc": "2.0", "id": 1, "method": "getSlot"},
        {"jsonrpc": "2.0", "method": "getSlot"},  # notification: no answer
        {"jsonrpc": "2.0", "id": 2, "method": "nope"},
        7,
    ])
    assert status == 200
    assert [a.get("id") for a in answer] == [1, 2, None]
    assert "result" in answer[0] and answer[1]["error"]["code"] == -32601 and answer[2]["error"]["code"] == -32600
    assert rpc_call({"jsonrpc": "2.0", "method": "getSlot"}) == (200, None)
    assert rpc_call(b"", method="GET")[0] == 405
    assert rpc_call(b"", method="GET", path="/health") == (200, "ok")
    assert rpc_call(b"x" * (60 * 1024))[0] == 413


def test_token_methods(local_rpc, rpc_call, helpers, new_keypair) -> None:
    owner = new_keypair().pubkey()
    with local_rpc.node.lock:
        mint = helpers.create_mint(local_rpc.node.svm, decimals=3, supply_to=str(owner), amount=12345)
    from spl.token.instructions import get_associated_token_address
    from solders.pubkey import Pubkey

    ata = str(get_associated_token_address(owner, Pubkey.from_string(mint)))
    _, body = rpc_call({"jsonrpc": "2.0", "id": 1, "method": "getTokenAccountBalance", "params": [ata]})
    assert body["result"]["value"] == {"amount": "12345", "decimals": 3, "uiAmount": 12.345, "uiAmountString": "12.345"}
    _, body = rpc_call({"jsonrpc": "2.0", "id": 1, "method": "getTokenSupply", "params": [mint]})
    assert body["result"]["value"]["amount"] == "12345"
    _, body = rpc_call({"jsonrpc": "2.0", "id": 1, "method": "getAccountInfo", "params": [ata, {"encoding": "base64", "dataSlice": {"offset": 0, "length": 32}}]})
    value = body["result"]["value"]
    assert base64.b64decode(value["data"][0]) == bytes(Pubkey.from_string(mint)) and value["space"] == 165

    async def parsed(c: Any) -> Any:
        return (await c.get_account_info_json_parsed(Pubkey.from_string(ata))).value, (await c.get_account_info_json_parsed(Pubkey.from_string(mint))).value

    account, mint_info = _client_run(local_rpc.url, parsed)
    assert account.data.program == "spl-token" and account.data.parsed["type"] == "account"
    assert account.data.parsed["info"]["tokenAmount"]["uiAmountString"] == "12.345"
    assert account.data.parsed["info"]["owner"] == str(owner)
    assert mint_info.data.parsed["info"]["supply"] == "12345" and mint_info.data.parsed["type"] == "mint"


def test_local_rpc_runs_as_its_own_process(tmp_path) -> None:
    """``chainsig solana local-rpc --port 0 --json`` prints its URL and serves until SIGTERM."""
    env = {**os.environ, "CHAINSIG_LOAD_PLUGINS": "solana", "CHAINSIG_CONFIG": str(tmp_path / "c.toml")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "chainsig_core", "solana", "local-rpc", "--port", "0", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        info = json.loads(line)
        assert info["pid"] == proc.pid and info["rpc_url"].startswith("http://127.0.0.1:")

        async def work(c: Any) -> Any:
            return (await c.get_latest_blockhash()).value

        assert _client_run(info["rpc_url"], work).last_valid_block_height > 0
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, proc.stderr.read()  # type: ignore[union-attr]


def test_local_rpc_refuses_a_public_address(tmp_path) -> None:
    env = {**os.environ, "CHAINSIG_LOAD_PLUGINS": "solana", "CHAINSIG_CONFIG": str(tmp_path / "c.toml")}
    done = subprocess.run([sys.executable, "-m", "chainsig_core", "solana", "local-rpc", "--host", "0.0.0.0"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2
    assert "loopback only" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 5000 + b"]" * 5000,
        b'{"a":' * 3000 + b"1" + b"}" * 3000,
        b"[" * 20000,
        b"[" * 129 + b"]" * 129,
        b'{"jsonrpc":"2.0","id":1,"method":"getBalance","params":' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'[{"jsonrpc":"2.0","id":1,"method":"getSlot","params":[NaN]}]',
    ],
    ids=["arrays", "objects", "unclosed", "129", "in-params", "nan"],
)
def test_deeply_nested_json_is_a_parse_error(rpc_call, caplog, body) -> None:
    """Review s3 #7: 5000 nested arrays gave aiohttp's "500 Server got itself in trouble" page
    and a RecursionError traceback on stderr."""
    import logging

    caplog.set_level(logging.DEBUG)
    status, answer = rpc_call(body)
    assert status == 200
    assert answer == {"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": None}
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert rpc_call({"jsonrpc": "2.0", "id": "after", "method": "getHealth"})[1] == {"jsonrpc": "2.0", "result": "ok", "id": "after"}


def test_nesting_up_to_the_limit_is_accepted(rpc_call) -> None:
    from chainsig_core.jsonlimits import MAX_JSON_DEPTH

    # request object + params list + (limit - 2) levels of a parameter = the limit
    deep = b"[" * (MAX_JSON_DEPTH - 2) + b"]" * (MAX_JSON_DEPTH - 2)
    status, answer = rpc_call(b'{"jsonrpc":"2.0","id":1,"method":"getSlot","params":[' + deep + b"]}")
    assert status == 200 and answer["error"]["code"] == -32602  # the method's own answer, not a parse error
    status, answer = rpc_call(b'{"jsonrpc":"2.0","id":1,"method":"getSlot","params":[' + b"[" * (MAX_JSON_DEPTH - 1)
                              + b"]" * (MAX_JSON_DEPTH - 1) + b"]}")
    assert answer["error"]["code"] == -32700
    # brackets inside strings are not nesting
    status, answer = rpc_call({"jsonrpc": "2.0", "id": 1, "method": "getBalance", "params": ["[" * 2000]})
    assert answer["error"]["code"] == -32602
