"""Transactions through the RPC: NEAR's InvalidTxError kinds, access-key permissions, wait levels."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import httpx
import pytest
from near import (
    InvalidNonceError,
    RpcError,
    actions,
)


def head_hash(host, finality="final"):
    return host.client().rpc("block", {"finality": finality})["header"]["hash"]


def send_raw(host, signed_b64, wait_until="EXECUTED_OPTIMISTIC"):
    return host.client().rpc("send_tx", {"signed_tx_base64": signed_b64, "wait_until": wait_until})


def test_invalid_signature(live_host, build_tx):
    key = live_host.key("alice.devnet")
    tx = build_tx(key, "bob.devnet", [actions.transfer("1 NEAR")], 1, head_hash(live_host), tamper=True)
    with pytest.raises(RpcError) as info:
        send_raw(live_host, tx)
    assert info.value.code == "INVALID_TRANSACTION"
    assert info.value.data["data"] == {"TxExecutionError": {"InvalidTxError": "InvalidSignature"}}


def test_bad_nonce(live_host, build_tx):
    key = live_host.key("alice.devnet")
    send_raw(live_host, build_tx(key, "bob.devnet", [actions.transfer("1 NEAR")], 5, head_hash(live_host)))
    with pytest.raises(InvalidNonceError) as info:
        send_raw(live_host, build_tx(key, "bob.devnet", [actions.transfer("2 NEAR")], 5, head_hash(live_host)))
    assert info.value.ak_nonce == 5
    with pytest.raises(InvalidNonceError):
        send_raw(live_host, build_tx(key, "bob.devnet", [actions.transfer("2 NEAR")], 3, head_hash(live_host)))


def test_nonce_too_large(live_host, build_tx):
    key = live_host.key("alice.devnet")
    with pytest.raises(RpcError) as info:
        send_raw(live_host, build_tx(key, "bob.devnet", [actions.transfer("1 NEAR")], 10**15, head_hash(live_host)))
    assert "NonceTooLarge" in info.value.data["data"]["TxExecutionError"]["InvalidTxError"]


def expired(host, tx):
    """nearcore sends the unit variant as the string "Expired" (near-kit 1.3 only recognises a
    dict form, so the raw error data is checked)."""
    with pytest.raises(RpcError) as info:
        send_raw(host, tx)
    return info.value.data["data"] == {"TxExecutionError": {"InvalidTxError": "Expired"}}


def test_expired_and_unknown_block_hash(live_host_factory, build_tx):
    host = live_host_factory({"participants": 3, "users": ["alice"], "transaction_validity_period": 50})
    key = host.key("alice.devnet")
    assert expired(host, build_tx(key, "devnet", [actions.transfer("1 NEAR")], 1, "11111111111111111111111111111112"))
    old = host.client().rpc("block", {"block_id": 0})["header"]["hash"]
    import time

    deadline = time.monotonic() + 30
    while host.chain.head["height"] <= 60 and time.monotonic() < deadline:  # > 50 blocks later
        time.sleep(0.05)
    assert expired(host, build_tx(key, "devnet", [actions.transfer("1 NEAR")], 1, old))
    # a recent block hash is accepted
    try:
        send_raw(host, build_tx(key, "devnet", [actions.transfer("1 NEAR")], 1, head_hash(host, "optimistic")))
    except RpcError as exc:
        raise AssertionError(exc.data) from None


def test_unknown_signer_and_key(live_host, build_tx):
    from chainsig_core.credentials import generate_access_key

    ghost = generate_access_key("ghost.devnet")
    with pytest.raises(RpcError) as info:
        send_raw(live_host, build_tx(ghost, "bob.devnet", [actions.transfer("1 yocto")], 1, head_hash(live_host)))
    assert info.value.data["data"]["TxExecutionError"]["InvalidTxError"] == {
        "SignerDoesNotExist": {"signer_id": "ghost.devnet"}}
    stranger = generate_access_key("alice.devnet")
    with pytest.raises(RpcError) as info:
        send_raw(live_host, build_tx(stranger, "bob.devnet", [actions.transfer("1 yocto")], 1, head_hash(live_host)))
    assert "AccessKeyNotFound" in info.value.data["data"]["TxExecutionError"]["InvalidTxError"]["InvalidAccessKeyError"]


def test_not_enough_balance(live_host):
    from near import InsufficientBalanceError

    with pytest.raises(InsufficientBalanceError):
        live_host.client("alice.devnet").send("bob.devnet", "100000 NEAR")


def test_actions_validation(live_host, build_tx):
    key = live_host.key("alice.devnet")
    with pytest.raises(RpcError) as info:
        send_raw(live_host, build_tx(key, "alice.devnet", [actions.deploy_contract(b"\0asm")], 1,
                                     head_hash(live_host)))
    assert "ActionsValidation" in info.value.data["data"]["TxExecutionError"]["InvalidTxError"]
    with pytest.raises(RpcError) as info:
        send_raw(live_host, build_tx(key, live_host.contract_id,
                                     [actions.function_call("version", {}, gas="301 Tgas")], 1, head_hash(live_host)))
    assert "TotalPrepaidGasExceeded" in str(info.value.data)


def test_function_call_access_keys(live_host, build_tx):
    from chainsig_core.credentials import generate_access_key

    alice = live_host.client("alice.devnet")
    fc = generate_access_key("alice.devnet")
    alice.send_transaction("alice.devnet", [actions.add_function_call_key(
        fc.public_key.to_near_string(), live_host.contract_id, ["vote_cancel_resharing"], allowance="1 NEAR")])
    nonce = alice.access_key("alice.devnet", fc.public_key.to_near_string()).nonce
    h = head_hash(live_host)

    def invalid(tx):
        with pytest.raises(RpcError) as info:
            send_raw(live_host, tx)
        return info.value.data["data"]["TxExecutionError"]["InvalidTxError"]["InvalidAccessKeyError"]

    assert invalid(build_tx(fc, "bob.devnet", [actions.transfer("1 yocto")], nonce + 1, h)) == "RequiresFullAccess"
    assert invalid(build_tx(fc, "bob.devnet", [actions.function_call("vote_cancel_resharing", {})], nonce + 1, h)) == {
        "ReceiverMismatch": {"tx_receiver": "bob.devnet", "ak_receiver": live_host.contract_id}}
    assert invalid(build_tx(fc, live_host.contract_id, [actions.function_call("sign", {})], nonce + 1, h)) == {
        "MethodNameMismatch": {"method_name": "sign"}}
    assert invalid(build_tx(fc, live_host.contract_id, [actions.function_call(
        "vote_cancel_resharing", {}, deposit="1 yocto")], nonce + 1, h)) == "DepositWithFunctionCall"
    # an allowed call is accepted (the contract itself then refuses it: alice is no participant)
    result = send_raw(live_host, build_tx(fc, live_host.contract_id, [actions.function_call(
        "vote_cancel_resharing", {}, gas="10 Tgas")], nonce + 1, h))
    assert "Protocol state is not resharing." in str(result["status"])
    permission = alice.access_key("alice.devnet", fc.public_key.to_near_string()).permission
    assert int(permission["FunctionCall"]["allowance"]) < 10**24


def test_wait_levels_and_tx_status(live_host, build_tx):
    key = live_host.key("alice.devnet")
    tx = build_tx(key, "bob.devnet", [actions.transfer("1 NEAR")], 1, head_hash(live_host))
    near = live_host.client()
    tx_hash = near.rpc("broadcast_tx_async", [tx])
    final = near.rpc("tx", {"tx_hash": tx_hash, "sender_account_id": "alice.devnet", "wait_until": "FINAL"})
    assert final["final_execution_status"] == "FINAL" and final["status"] == {"SuccessValue": ""}
    experimental = near.rpc("EXPERIMENTAL_tx_status", {"tx_hash": tx_hash, "sender_account_id": "alice.devnet"})
    assert experimental["receipts"][0]["receipt"]["Action"]["actions"] == [{"Transfer": {"deposit": str(10**24)}}]
    assert near.rpc("send_tx", {"signed_tx_base64": tx, "wait_until": "NONE"})["final_execution_status"] == "FINAL"
    committed = near.rpc("broadcast_tx_commit", [tx])  # a known transaction is not applied twice
    assert committed["transaction"]["hash"] == tx_hash
    with pytest.raises(RpcError) as info:
        near.rpc("tx", {"tx_hash": "11111111111111111111111111111111", "sender_account_id": "alice.devnet"})
    assert info.value.code == "UNKNOWN_TRANSACTION"


def test_timeout_error_while_waiting(live_host_factory, build_tx):
    host = live_host_factory({"participants": 3, "users": ["alice"]}, wait_timeout=0.3)
    key = host.key("alice.devnet")
    payload = {"request": {"path": "p", "payload_v2": {"Ecdsa": "11" * 32}, "domain_id": 0}}
    tx = build_tx(key, host.contract_id, [actions.function_call("sign", payload, gas="50 Tgas", deposit="1 yocto")],
                  1, head_hash(host))
    response = httpx.post(host.url, json={"jsonrpc": "2.0", "id": 1, "method": "send_tx",
                                          "params": {"signed_tx_base64": tx, "wait_until": "EXECUTED_OPTIMISTIC"}})
    assert response.status_code == 408
    assert response.json()["error"]["cause"]["name"] == "TIMEOUT_ERROR"
    included = host.client().rpc("tx", {"signed_tx_base64": tx, "wait_until": "INCLUDED"})
    assert included == {"final_execution_status": "INCLUDED"} or "INCLUDED" in included["final_execution_status"]


def test_gas_keys_are_refused(live_host, build_tx):
    key = live_host.key("alice.devnet")
    with pytest.raises(RpcError) as info:
        send_raw(live_host, build_tx(key, "alice.devnet", [actions.add_gas_key(str(key.public_key), 2)], 1,
                                     head_hash(live_host)))
    assert "gas keys" in str(info.value.data["data"])


def test_a_host_bug_fails_one_receipt_not_the_chain(live_host, monkeypatch):
    def broken(receipt, height):
        raise RuntimeError("boom")

    monkeypatch.setattr(live_host.chain.runtime, "execute", broken)
    from near import ContractPanicError

    with pytest.raises(ContractPanicError) as info:
        live_host.client("alice.devnet").send("bob.devnet", "1 NEAR")
    assert "internal error of the devnet host" in info.value.panic
    monkeypatch.undo()
    live_host.client("alice.devnet").send("bob.devnet", "1 NEAR")


def test_a_known_transaction_with_a_bad_signature_is_still_refused(live_host, build_tx):
    key = live_host.key("alice.devnet")
    block = head_hash(live_host)
    send_raw(live_host, build_tx(key, "bob.devnet", [actions.transfer("1 NEAR")], 1, block))
    with pytest.raises(RpcError) as info:
        send_raw(live_host, build_tx(key, "bob.devnet", [actions.transfer("1 NEAR")], 1, block, tamper=True))
    assert info.value.data["data"] == {"TxExecutionError": {"InvalidTxError": "InvalidSignature"}}


# -- nonces as nearcore's pool handles them --------------------------------------------------


@contextmanager
def blocks_held(host):
    """Hold the host's block production (its producer skips blocks) so that every
    transaction sent meanwhile lands in the one block produced after release."""
    hold = threading.Event()
    hold.set()
    produce = host.chain.produce_block
    host.chain.produce_block = lambda: host.chain.head if hold.is_set() else produce()
    try:
        yield
    finally:
        hold.clear()
        del host.chain.produce_block


def transfer_tx(host, build_tx, key, nonce, yocto=1, receiver="bob.devnet"):
    return build_tx(key, receiver, [actions.transfer(f"{yocto} yocto")], nonce, head_hash(host, "optimistic"))


def landed(host, tx_hash, sender):
    """The final outcome's block height, and the block's (signer, public key, nonce) list."""
    near = host.client()
    result = near.rpc("tx", {"tx_hash": tx_hash, "sender_account_id": sender, "wait_until": "FINAL"})
    block = near.rpc("block", {"block_id": result["transaction_outcome"]["block_hash"]})
    chunk = near.rpc("chunk", {"block_id": block["header"]["height"], "shard_id": 0})
    return block["header"]["height"], [(t["signer_id"], t["public_key"], t["nonce"]) for t in chunk["transactions"]]


def access_key_nonce(host, key):
    return host.client().rpc("query", {"request_type": "view_access_key", "finality": "optimistic",
                                       "account_id": key.account_id,
                                       "public_key": key.public_key.to_near_string()})["nonce"]


def test_out_of_order_nonces_of_one_key_land_in_one_block_in_nonce_order(live_host, build_tx):
    key = live_host.key("alice.devnet")
    pk = key.public_key.to_near_string()
    near = live_host.client()
    with blocks_held(live_host):
        seven = near.rpc("broadcast_tx_async", [transfer_tx(live_host, build_tx, key, 7)])
        six = near.rpc("broadcast_tx_async", [transfer_tx(live_host, build_tx, key, 6)])  # arrives after 7
        assert access_key_nonce(live_host, key) == 0  # pending nonces are not committed
    height, txs = landed(live_host, seven, "alice.devnet")
    assert landed(live_host, six, "alice.devnet")[0] == height
    assert txs == [("alice.devnet", pk, 6), ("alice.devnet", pk, 7)]
    assert access_key_nonce(live_host, key) == 7


def test_a_nonce_not_above_the_committed_one_is_refused_with_nears_shape(live_host, build_tx):
    key = live_host.key("alice.devnet")
    send_raw(live_host, transfer_tx(live_host, build_tx, key, 9), wait_until="INCLUDED")
    for nonce in (9, 8):
        with pytest.raises(InvalidNonceError) as info:
            send_raw(live_host, transfer_tx(live_host, build_tx, key, nonce, yocto=2))
        error = info.value.data
        assert error["name"] == "HANDLER_ERROR" and error["cause"]["name"] == "INVALID_TRANSACTION"
        assert error["data"] == error["cause"]["info"] == {"TxExecutionError": {"InvalidTxError": {
            "InvalidNonce": {"tx_nonce": nonce, "ak_nonce": 9}}}}


def test_a_second_pending_transaction_with_the_same_nonce_is_refused(live_host, build_tx):
    key = live_host.key("alice.devnet")
    pk = key.public_key.to_near_string()
    near = live_host.client()
    with blocks_held(live_host):
        near.rpc("broadcast_tx_async", [transfer_tx(live_host, build_tx, key, 8, yocto=1)])
        first = near.rpc("broadcast_tx_async", [transfer_tx(live_host, build_tx, key, 5, yocto=1)])
        with pytest.raises(InvalidNonceError) as info:  # same nonce, another transaction
            send_raw(live_host, transfer_tx(live_host, build_tx, key, 5, yocto=2), wait_until="NONE")
        # ak_nonce is the key's highest pending nonce: a client resyncing from it picks a free one
        assert info.value.data["data"]["TxExecutionError"]["InvalidTxError"] == {
            "InvalidNonce": {"tx_nonce": 5, "ak_nonce": 8}}
        # the same bytes again are the known transaction, not a duplicate nonce
        assert near.rpc("broadcast_tx_async", [transfer_tx(live_host, build_tx, key, 5, yocto=1)]) == first
    assert landed(live_host, first, "alice.devnet")[1] == [("alice.devnet", pk, 5), ("alice.devnet", pk, 8)]


def test_nonces_of_different_keys_do_not_interfere(live_host, build_tx):
    from chainsig_core.credentials import generate_access_key

    alice, bob = live_host.key("alice.devnet"), live_host.key("bob.devnet")
    second = generate_access_key("alice.devnet")
    live_host.client("alice.devnet").send_transaction(
        "alice.devnet", [actions.add_full_access_key(second.public_key.to_near_string())])
    base = access_key_nonce(live_host, second)  # (height − 1) × 10⁶, as on NEAR
    near = live_host.client()
    with blocks_held(live_host):
        sent = [near.rpc("broadcast_tx_async", [transfer_tx(live_host, build_tx, k, n)])
                for k, n in ((alice, 40), (second, base + 3), (bob, 40), (alice, 30), (second, base + 1), (bob, 2))]
    senders = ["alice.devnet", "alice.devnet", "bob.devnet"] * 2
    height, txs = landed(live_host, sent[0], "alice.devnet")
    assert {landed(live_host, tx_hash, sender)[0] for tx_hash, sender in zip(sent, senders)} == {height}
    # arrival order between keys; each key's own arrival positions in nonce order
    assert [n for _, _, n in txs] == [30, base + 1, 2, 40, base + 3, 40]
    assert [access_key_nonce(live_host, k) for k in (alice, second, bob)] == [40, base + 3, 40]
