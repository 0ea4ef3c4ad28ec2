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
