"""The encrypted node store: sealed at rest, wrong key refused, consumption durable, restore."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chainsig_mpc.node.errors import WrongNodeKeyError
from chainsig_mpc.protocols.errors import SigningRefusedError
from chainsig_mpc.protocols.simulate import LocalCluster
from chainsig_mpc.service.persistence import NodeSecrets
from chainsig_mpc.service.store import KIND_KEYSHARE, NodeStore


def test_records_are_unreadable_without_the_key(tmp_path: Path, node_key: bytes) -> None:
    secret = os.urandom(32).hex()
    store = NodeStore(tmp_path / "s.sqlite", node_key)
    store.put(KIND_KEYSHARE, "0", {"share": secret})
    assert store.get(KIND_KEYSHARE, "0") == {"share": secret}
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert secret.encode() not in raw and bytes.fromhex(secret) not in raw
    with pytest.raises(WrongNodeKeyError):
        NodeStore(tmp_path / "s.sqlite", os.urandom(32))
    reopened = NodeStore(tmp_path / "s.sqlite", node_key)
    assert reopened.get(KIND_KEYSHARE, "0") == {"share": secret}
    reopened.close()


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
