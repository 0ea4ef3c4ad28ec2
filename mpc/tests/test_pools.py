"""Pools keyed by (domain, epoch, owner, signer set); new epochs empty old pools."""

from __future__ import annotations

from chainsig_mpc.protocols.pools import Pool, PoolKey
from chainsig_mpc.protocols.presign import Presignature


def test_pool_keys_and_epochs(make_cluster) -> None:
    cluster = make_cluster(5, 2, curves=("secp256k1",))
    a = cluster.presign(0, [0, 1, 2], 0, "a")
    cluster.presign(0, [0, 1, 3], 0, "b")
    cluster.presign(0, [0, 1, 2], 1, "c")
    pool = cluster.nodes[0].presignatures
    assert pool.count(PoolKey(0, 0, 0, (0, 1, 2))) == 1
    assert pool.count(PoolKey(0, 0, 0, (0, 1, 3))) == 1
    assert pool.count(PoolKey(0, 0, 1, (0, 1, 2))) == 1
    assert pool.take(PoolKey(0, 0, 0, (0, 1, 2))) == a
    assert pool.take(PoolKey(0, 0, 0, (0, 1, 2))) is None
    # a retry avoiding a down node (2) takes the presignature of another set
    retry = pool.take_for_owner(0, 0, 0, exclude=lambda signers: 2 in signers)
    assert retry is not None and retry.signers == (0, 1, 3)
    restored = Pool(Presignature.from_json)
    restored.load_json(pool.to_json())
    assert [p.presignature_id for p in restored] == [p.presignature_id for p in pool]
    cluster.reshare(0, [0, 1], [0, 1, 2, 3, 4], 2, ecdsa=True)  # commit: epoch 1
    assert len(cluster.nodes[0].presignatures) == 0


def test_frost_nonces_dropped_on_new_epoch(make_cluster) -> None:
    cluster = make_cluster(3, 2, curves=("ed25519",))
    cluster.frost_precommit(1, 0, (0, 1))
    assert len(cluster.nodes[1].nonces) == 1 and len(cluster.nodes[0].commitments) == 2
    cluster.reshare(1, [0, 1], [0, 1, 2], 2, ecdsa=False)
    assert len(cluster.nodes[1].nonces) == 0 and len(cluster.nodes[0].commitments) == 0
