"""The encrypted node store: sealed at rest, wrong key refused, consumption durable, restore."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chainsig_mpc.node.errors import NodeKeyError, WrongNodeKeyError
from chainsig_mpc.protocols.errors import SigningRefusedError
from chainsig_mpc.protocols.simulate import LocalCluster
from chainsig_mpc.service.persistence import NodeSecrets
from chainsig_mpc.service.store import NODE_KEY_ENV, NodeStore, load_node_key, write_node_key


def test_records_are_unreadable_without_the_key(tmp_path: Path, node_key: bytes) -> None:
    secret = os.urandom(32).hex()
    store = NodeStore(tmp_path / "s.sqlite", node_key)
    store.put("key", "0", {"share": secret})
    assert store.get("key", "0") == {"share": secret}
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert secret.encode() not in raw and bytes.fromhex(secret) not in raw
    with pytest.raises(WrongNodeKeyError):
        NodeStore(tmp_path / "s.sqlite", os.urandom(32))
    reopened = NodeStore(tmp_path / "s.sqlite", node_key)
    assert reopened.get("key", "0") == {"share": secret}
    reopened.close()


def test_a_record_moved_to_another_row_does_not_open(store: NodeStore) -> None:
    store.put("presignature", "a", {"x": 1})
    sealed = store._db.execute("SELECT sealed FROM records WHERE id = 'a'").fetchone()[0]
    store._db.execute("INSERT INTO records (kind, id, sealed) VALUES ('presignature', 'b', ?)", (sealed,))
    with pytest.raises(WrongNodeKeyError):
        store.get("presignature", "b")


def test_consumption_is_single_use_and_survives_reopen(tmp_path: Path, node_key: bytes) -> None:
    store = NodeStore(tmp_path / "s.sqlite", node_key)
    store.mark_consumed("ecdsa-presignature", "p1")
    with pytest.raises(SigningRefusedError):
        store.mark_consumed("ecdsa-presignature", "p1")
    store.close()
    again = NodeStore(tmp_path / "s.sqlite", node_key)
    assert again.is_consumed("ecdsa-presignature", "p1")
    assert not again.is_consumed("ecdsa-presignature", "p2")
    again.close()


def test_node_key_from_file_or_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_node_key(tmp_path / "node.key")
    assert len(load_node_key(path)) == 32
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    with pytest.raises(NodeKeyError, match="already exists"):
        write_node_key(path)
    monkeypatch.setenv(NODE_KEY_ENV, "11" * 32)
    assert load_node_key(None) == bytes([0x11]) * 32
    monkeypatch.setenv(NODE_KEY_ENV, "zz")
    with pytest.raises(NodeKeyError, match="64 hex"):
        load_node_key(path)
    monkeypatch.delenv(NODE_KEY_ENV)
    with pytest.raises(NodeKeyError):
        load_node_key(None)


def test_restart_keeps_shares_and_never_restores_a_used_presignature(tmp_path: Path, node_key: bytes) -> None:
    cluster = LocalCluster([0, 1, 2])
    shares = cluster.dkg("secp256k1", 0, 2)
    presignatures = [cluster.presign(0, [0, 1, 2], 0, f"l{i}") for i in range(2)]
    store = NodeStore(tmp_path / "s.sqlite", node_key)
    secrets = NodeSecrets(store)
    secrets.stage(shares[0], attempt=0)
    assert secrets.active(0) is None  # staged only: the contract has not recorded the key
    assert secrets.commit(0, 0, 0) == shares[0]
    for p in presignatures:
        secrets.presignatures.add(p)
    store.mark_consumed("ecdsa-presignature", presignatures[0].presignature_id)
    store.close()
    restored = NodeSecrets(NodeStore(tmp_path / "s.sqlite", node_key))
    assert restored.active(0) == shares[0]
    assert [p.presignature_id for p in restored.presignatures] == [presignatures[1].presignature_id]
    assert restored.staged(0, 0, 0) is None  # erased at commit
    taken = restored.presignatures.take_for_owner(0, 0, 0)
    assert taken is not None
    assert list(restored.store.items("presignature")) == []
    restored.store.close()
