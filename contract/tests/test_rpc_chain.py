"""The devnet through its JSON-RPC with near-kit: blocks, chunks, queries, accounts and keys."""

from __future__ import annotations

import base58
import httpx
import pytest
from near import (
    AccessKeyNotFoundError,
    AccountNotFoundError,
    ContractNotFoundError,
    ContractPanicError,
    InvalidAccountIdError,
    RpcError,
    actions,
    generate_key,
)


def rpc(host, method, params):
    response = httpx.post(host.url, json={"jsonrpc": "2.0", "id": "t", "method": method, "params": params})
    return response.status_code, response.json()


def test_status_and_blocks(live_host):
    near = live_host.client()
    status = near.rpc("status", [])
    assert status["chain_id"] == "devnet" and status["sync_info"]["syncing"] is False
    final = near.rpc("block", {"finality": "final"})["header"]
    head = near.rpc("block", {"finality": "optimistic"})["header"]  # asked later: at least as high
    assert final["height"] <= head["height"] - 2 or head["height"] < 2
    by_height = near.rpc("block", {"block_id": final["height"]})
    by_hash = near.rpc("block", {"block_id": final["hash"]})
    assert by_height == by_hash
    assert by_height["header"]["prev_hash"] == near.rpc("block", {"block_id": final["height"] - 1})["header"]["hash"]


def test_every_block_has_a_random_value(live_host):
    near = live_host.client()
    head = near.rpc("block", {"finality": "final"})["header"]["height"]
    values = {near.rpc("block", {"block_id": h})["header"]["random_value"] for h in range(head - 2, head + 1)}
    assert len(values) == 3
    assert all(len(base58.b58decode(v)) == 32 for v in values)


def test_chunk_by_block_and_by_hash(live_host):
    near = live_host.client()
    block = near.rpc("block", {"finality": "final"})
    chunk_hash = block["chunks"][0]["chunk_hash"]
    by_id = near.rpc("chunk", {"chunk_id": chunk_hash})
    by_block = near.rpc("chunk", {"block_id": block["header"]["height"], "shard_id": 0})
    assert by_id == by_block and {"transactions", "receipts", "header"} <= set(by_id)


def test_unknown_block_and_chunk(live_host):
    with pytest.raises(RpcError) as info:
        live_host.client().rpc("block", {"block_id": 10**9})
    assert info.value.code == "UNKNOWN_BLOCK"
    with pytest.raises(RpcError) as info:
        live_host.client().rpc("chunk", {"chunk_id": "11111111111111111111111111111111"})
    assert info.value.code == "UNKNOWN_CHUNK"


def test_gas_price(live_host):
    assert live_host.client().rpc("gas_price", [None]) == {"gas_price": "100000000"}


def test_view_account_and_errors(live_host):
    near = live_host.client()
    account = near.account("alice.devnet")
    assert int(account.amount) == 1000 * 10**24
    with pytest.raises(AccountNotFoundError):
        near.account("nobody.devnet")
    with pytest.raises(InvalidAccountIdError):
        near.account("Not Valid!")


def test_view_access_key_and_errors(live_host):
    near = live_host.client("alice.devnet")
    key = str(near.signer.public_key)
    view = near.access_key("alice.devnet", key)
    assert view.nonce == 0 and view.is_full_access
    with pytest.raises(AccessKeyNotFoundError):
        near.access_key("alice.devnet", str(generate_key().public_key))


def test_call_function_errors(live_host):
    near = live_host.client()
    with pytest.raises(RpcError) as info:
        near.view(live_host.contract_id, "public_key", {"domain_id": 42})
    assert info.value.code == "CONTRACT_EXECUTION_ERROR"
    assert "The provided domain was not found." in str(info.value.data)
    with pytest.raises(ContractNotFoundError):
        near.view("alice.devnet", "anything")


def test_transfer_moves_exact_amounts(live_host):
    alice = live_host.client("alice.devnet")
    before_alice = int(alice.balance())
    before_bob = int(alice.balance("bob.devnet"))
    result = alice.send("bob.devnet", "1.5 NEAR")
    assert int(alice.balance("bob.devnet")) == before_bob + 15 * 10**23
    burnt = sum(int(o.outcome["tokens_burnt"]) for o in [result.transaction_outcome, *result.receipts_outcome])
    assert int(alice.balance()) == before_alice - 15 * 10**23 - burnt


def test_create_sub_account_with_keys(live_host):
    alice = live_host.client("alice.devnet")
    new_key = generate_key()
    alice.send_transaction("sub.alice.devnet", [
        actions.create_account(), actions.transfer("2 NEAR"), actions.add_full_access_key(str(new_key.public_key))])
    assert int(alice.balance("sub.alice.devnet")) == 2 * 10**24
    keys = alice.access_keys("sub.alice.devnet")
    assert [k.public_key for k in keys] == [str(new_key.public_key)]
    assert keys[0].access_key.nonce > 0  # NEAR: (height - 1) × 10⁶


def test_create_account_rules(live_host):
    alice = live_host.client("alice.devnet")
    with pytest.raises(ContractPanicError) as info:
        alice.send_transaction("carol.devnet", [actions.create_account(), actions.transfer("1 NEAR")])
    assert "CreateAccountNotAllowed" in info.value.panic
    with pytest.raises(ContractPanicError) as info:
        alice.send_transaction("bob.devnet", [actions.add_full_access_key(str(generate_key().public_key))])
    assert "ActorNoPermission" in info.value.panic
    with pytest.raises(ContractPanicError) as info:
        alice.send("ghost.devnet", "1 NEAR")
    assert "AccountDoesNotExist" in info.value.panic
    registrar = live_host.client("devnet")
    registrar.send_transaction("carol", [actions.create_account(), actions.transfer("1 NEAR")])
    assert int(registrar.balance("carol")) == 10**24


def test_implicit_account_from_a_transfer(live_host):
    key = generate_key()
    implicit = key.public_key.data.hex()
    live_host.client("alice.devnet").send(implicit, "1 NEAR")
    assert [k.public_key for k in live_host.client().access_keys(implicit)] == [str(key.public_key)]


def test_failed_receipt_refunds_the_deposit(live_host):
    alice = live_host.client("alice.devnet")
    before = int(alice.balance())
    with pytest.raises(ContractPanicError) as info:
        alice.call(live_host.contract_id, "sign", {"request": {"path": "p"}}, deposit="1 NEAR", gas="30 Tgas")
    assert "Failed to deserialize input from JSON." in info.value.panic
    receipts = info.value.data["receipts_outcome"]
    assert any(r["outcome"]["executor_id"] == "alice.devnet" for r in receipts)  # the refund receipt
    assert before - int(alice.balance()) < 10**22  # only gas was spent


def test_add_and_delete_keys(live_host):
    alice = live_host.client("alice.devnet")
    key = generate_key()
    alice.send_transaction("alice.devnet", [actions.add_full_access_key(str(key.public_key))])
    assert str(key.public_key) in [k.public_key for k in alice.access_keys()]
    alice.send_transaction("alice.devnet", [actions.delete_key(str(key.public_key))])
    assert str(key.public_key) not in [k.public_key for k in alice.access_keys()]
    with pytest.raises(ContractPanicError) as info:
        alice.send_transaction("alice.devnet", [actions.delete_key(str(key.public_key))])
    assert "DeleteKeyDoesNotExist" in info.value.panic
