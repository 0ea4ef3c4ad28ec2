"""Correctness grid: every protocol for (n, K) from (3, 2) to (10, 5) where it applies.

A representative subset runs by default; the whole grid is marked slow.
"""

from __future__ import annotations

import random

import pytest
from nacl.signing import VerifyKey

from chainsig_core import kdf
from chainsig_core.signatures import verify_signature

FULL = [(n, k) for n in range(3, 11) for k in range(2, 6) if k <= n]
DEFAULT = [(3, 2), (5, 3), (7, 4), (10, 5), (4, 4)]
GRID = [
    pytest.param(n, k, id=f"n{n}-K{k}", marks=() if (n, k) in DEFAULT else pytest.mark.slow)
    for n, k in FULL
]


@pytest.mark.parametrize("n,k", GRID)
def test_all_protocols(make_cluster, request_for, n: int, k: int) -> None:
    rng = random.Random(n * 100 + k)
    cluster = make_cluster(n, k)
    for domain in (0, 1):
        assert len({cluster.key(i, domain).public_key for i in range(n)}) == 1
    frost_set = sorted(rng.sample(range(n), k))
    owner = rng.choice(frost_set)
    cluster.frost_precommit(1, owner, frost_set)
    request = request_for(f"ed-{n}-{k}", payload=b"grid message")
    signature = cluster.frost_sign(1, request, owner, frost_set)
    key = kdf.derive_public_key(cluster.key(0, 1).public_key, "alice.near", "ethereum-1")
    VerifyKey(key.data).verify(request.payload, signature.signature)
    if 2 * k - 1 > n:
        return  # robust ECDSA needs 2K − 1 ≤ n
    signers = sorted(rng.sample(range(n), 2 * k - 1))
    presignature = cluster.presign(0, signers, rng.choice(signers), "grid")
    request = request_for(f"ec-{n}-{k}")
    signature = cluster.ecdsa_sign(0, request, presignature)
    verify_signature(
        kdf.derive_public_key(cluster.key(0, 0).public_key, "alice.near", "ethereum-1"),
        request.payload,
        signature,
    )
