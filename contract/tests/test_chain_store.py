"""The chain and its SQLite store without the RPC: block records, garbage collection, restart."""

from __future__ import annotations

import base64

import base58

from chainsig_contract.host import chain as chain_module
from chainsig_contract.host.views import block_view, chunk_view
from chainsig_contract.hosting import open_chain


def test_block_views_are_derived_from_compact_records(tmp_path):
    chain, _ = open_chain(tmp_path / "d")
    for _ in range(5):
        chain.produce_block()
    record = chain.store.block_by_height(5)
    view = block_view(record)
    assert view["header"]["last_final_block"] == chain.store.block_by_height(3)["hash"]
    assert view["header"]["prev_hash"] == chain.store.block_by_height(4)["hash"]
    assert len(base58.b58decode(view["header"]["random_value"])) == 32
    chunk = chunk_view(record)
    assert chain.store.block_by_chunk(chunk["header"]["chunk_hash"])["height"] == 5
    chain.store.close()


def test_old_empty_blocks_are_garbage_collected(tmp_path, monkeypatch, build_tx):
    from near import actions

    from chainsig_core.credentials import load_access_key

    monkeypatch.setattr(chain_module, "KEEP_EMPTY_BLOCKS", 20)
    monkeypatch.setattr(chain_module, "GC_EVERY_BLOCKS", 10)
    chain, _ = open_chain(tmp_path / "d")
    key = load_access_key(tmp_path / "d" / "credentials", "devnet", "alice.devnet")
    chain.produce_block()
    chain.submit(base64.b64decode(build_tx(key, "bob.devnet", [actions.transfer("1 NEAR")], 1, chain.head["hash"])))
    busy = chain.produce_block()["height"]
    for _ in range(60):
        chain.produce_block()
    assert chain.store.block_by_height(0) is not None  # genesis stays
    assert chain.store.block_by_height(busy) is not None  # a block with a transaction stays
    assert chain.store.block_by_height(busy + 3) is None  # old and empty: collected
    assert chain.store.block_by_height(chain.head["height"] - 5) is not None
    chain.store.close()


def test_restart_continues_at_the_last_block(tmp_path):
    chain, _ = open_chain(tmp_path / "d")
    for _ in range(3):
        chain.produce_block()
    head = chain.head["hash"]
    chain.store.close()
    again, created = open_chain(tmp_path / "d")
    assert not created and again.head["hash"] == head
    assert again.produce_block()["prev_hash"] == head
    again.store.close()


# -- nonces: out of order within a block, committed at inclusion, durable across restarts -----


def transfer(build_tx, chain, key, nonce, yocto=1, receiver="bob.devnet"):
    """A signed transfer of ``key`` (raw borsh bytes) referencing the chain's head."""
    from near import actions

    return base64.b64decode(build_tx(key, receiver, [actions.transfer(f"{yocto} yocto")], nonce, chain.head["hash"]))


def tx_cost_of(chain, raw):
    from chainsig_contract.host.ledger import tx_cost
    from chainsig_contract.host.transactions import decode_signed_transaction

    return tx_cost(decode_signed_transaction(raw)).total


def test_restart_keeps_pending_out_of_order_transactions_and_includes_them_in_nonce_order(tmp_path, build_tx):
    from chainsig_core.credentials import load_access_key

    chain, _ = open_chain(tmp_path / "d")
    alice = load_access_key(tmp_path / "d" / "credentials", "devnet", "alice.devnet")
    bob = load_access_key(tmp_path / "d" / "credentials", "devnet", "bob.devnet")
    alice_pk = alice.public_key.to_near_string()
    chain.produce_block()
    before = chain.ledger.balance("alice.devnet")
    arrivals = [transfer(build_tx, chain, alice, 3), transfer(build_tx, chain, bob, 1, receiver="alice.devnet"),
                transfer(build_tx, chain, alice, 1), transfer(build_tx, chain, alice, 2)]
    hashes = [chain.submit(raw) for raw in arrivals]
    charged = sum(tx_cost_of(chain, raw) for raw in (arrivals[0], arrivals[2], arrivals[3]))
    assert chain.view_access_key("alice.devnet", alice_pk)["nonce"] == 0  # pending: not committed
    assert chain.ledger.balance("alice.devnet") == before - charged  # charged at submission
    head = chain.head["hash"]
    chain.store.close()  # the host stops before the next block

    for _ in range(2):  # restarting twice neither loses nor charges twice
        chain, created = open_chain(tmp_path / "d")
        assert not created and chain.head["hash"] == head
        assert chain.view_access_key("alice.devnet", alice_pk)["nonce"] == 0
        assert chain.ledger.balance("alice.devnet") == before - charged
        assert all(chain.tx_level(chain.transaction_record(h))[1] == "NONE" for h in hashes)
        chain.store.close()

    chain, _ = open_chain(tmp_path / "d")
    block = chain.produce_block()
    # alice's arrival positions (1st, 3rd, 4th) are filled in nonce order; bob's stays 2nd
    assert [(t["signer_id"], t["nonce"]) for t in block["transactions"]] == [
        ("alice.devnet", 1), ("bob.devnet", 1), ("alice.devnet", 2), ("alice.devnet", 3)]
    assert [t["hash"] for t in block["transactions"]] == [hashes[2], hashes[1], hashes[3], hashes[0]]
    assert chain.view_access_key("alice.devnet", alice_pk)["nonce"] == 3
    assert chain.ledger.balance("alice.devnet") == before - charged + 1  # charged once; + bob's 1 yocto
    assert chain.store.pending_transactions() == []
    chain.store.close()
    chain, _ = open_chain(tmp_path / "d")  # nothing pending any more: an empty block follows
    assert chain.produce_block()["transactions"] == []
    assert chain.view_access_key("alice.devnet", alice_pk)["nonce"] == 3
    chain.store.close()


def test_a_transaction_whose_key_is_deleted_earlier_in_the_block_is_dropped_and_refunded(tmp_path, build_tx):
    from near import actions

    from chainsig_core.credentials import generate_access_key, load_access_key

    chain, _ = open_chain(tmp_path / "d")
    alice = load_access_key(tmp_path / "d" / "credentials", "devnet", "alice.devnet")
    second = generate_access_key("alice.devnet")
    second_pk = second.public_key.to_near_string()
    chain.produce_block()
    chain.submit(base64.b64decode(build_tx(alice, "alice.devnet", [actions.add_full_access_key(second_pk)], 1,
                                           chain.head["hash"])))
    chain.produce_block()
    nonce = chain.view_access_key("alice.devnet", second_pk)["nonce"]
    before = chain.ledger.balance("alice.devnet")
    delete = base64.b64decode(build_tx(alice, "alice.devnet", [actions.delete_key(second_pk)], 2, chain.head["hash"]))
    chain.submit(delete)
    doomed = transfer(build_tx, chain, second, nonce + 1)
    doomed_hash = chain.submit(doomed)
    block = chain.produce_block()
    assert [t["nonce"] for t in block["transactions"]] == [2]  # the deletion only
    assert chain.transaction_record(doomed_hash) is None  # unknown, as a dropped tx is on NEAR
    # charged for the deletion only (no gas is prepaid, so no refund receipt follows)
    assert chain.ledger.balance("alice.devnet") == before - tx_cost_of(chain, delete)
    chain.produce_block()
    assert chain.ledger.balance("alice.devnet") == before - tx_cost_of(chain, delete)
    chain.store.close()


def test_random_nonce_orders_of_several_keys_land_once_each_in_nonce_order(tmp_path, build_tx):
    """Property: three keys (two of them alice's) send transfers whose nonces arrive in random
    order — with duplicates and block boundaries anywhere. A transaction is accepted exactly
    when its nonce exceeds its key's committed nonce and no pending one of the key has it;
    every accepted one is included exactly once, each key's transactions in a block in nonce
    order, refused ones never; each key's committed nonce ends at its highest included one."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from near import actions

    from chainsig_contract.host.ledger import InvalidTx
    from chainsig_core.credentials import generate_access_key, load_access_key

    chain, _ = open_chain(tmp_path / "d")
    creds = tmp_path / "d" / "credentials"
    alice = load_access_key(creds, "devnet", "alice.devnet")
    second = generate_access_key("alice.devnet")
    chain.produce_block()
    chain.submit(base64.b64decode(build_tx(alice, "alice.devnet", [actions.add_full_access_key(
        second.public_key.to_near_string())], 1, chain.head["hash"])))
    chain.produce_block()
    keys = [alice, second, load_access_key(creds, "devnet", "bob.devnet")]
    counter = iter(range(1, 10**9))  # distinct amounts: a duplicate nonce is a different tx

    @st.composite
    def arrivals(draw):
        items = [(k, n) for k in range(3) for n in range(1, draw(st.integers(0, 5)) + 1)]
        order = list(draw(st.permutations(items)))
        for _ in range(draw(st.integers(0, 3))):  # duplicate nonces, anywhere
            if order:
                order.insert(draw(st.integers(0, len(order))), draw(st.sampled_from(order)))
        for _ in range(draw(st.integers(0, 3))):  # block boundaries, anywhere
            order.insert(draw(st.integers(0, len(order))), "block")
        return order

    @settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(arrivals())
    def run(steps):
        pks = [k.public_key.to_near_string() for k in keys]
        base = [chain.view_access_key(k.account_id, pk)["nonce"] for k, pk in zip(keys, pks)]
        committed, pending = list(base), [set() for _ in keys]
        start = chain.head["height"]
        accepted = set()
        for step in steps + ["block"]:
            if step == "block":
                chain.produce_block()
                for k in range(3):
                    committed[k] = max([committed[k], *pending[k]])
                    pending[k] = set()
                continue
            k, offset = step
            nonce = base[k] + offset
            raw = transfer(build_tx, chain, keys[k], nonce, yocto=next(counter), receiver="bob.devnet")
            expect = nonce > committed[k] and nonce not in pending[k]
            try:
                tx_hash = chain.submit(raw)
            except InvalidTx as exc:
                assert not expect, exc.error
                assert "InvalidNonce" in exc.error and exc.error["InvalidNonce"]["tx_nonce"] == nonce
                continue
            assert expect
            accepted.add(tx_hash)
            pending[k].add(nonce)
        included = []
        for height in range(start + 1, chain.head["height"] + 1):
            txs = chain.store.block_by_height(height)["transactions"]
            included += [t["hash"] for t in txs]
            for pk in pks:
                nonces = [t["nonce"] for t in txs if t["public_key"] == pk]
                assert nonces == sorted(nonces)
        assert sorted(included) == sorted(accepted)  # each accepted one exactly once, nothing else
        assert [chain.view_access_key(k.account_id, pk)["nonce"] for k, pk in zip(keys, pks)] == committed

    run()
    chain.store.close()
