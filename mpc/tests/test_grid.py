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


def _sign_both(cluster, request_for, rng, members, k, tag) -> None:
    frost_set = sorted(rng.sample(members, k))
    owner = rng.choice(frost_set)
    cluster.frost_precommit(1, owner, frost_set)
    request = request_for(f"ed-{tag}", payload=b"grid message")
    signature = cluster.frost_sign(1, request, owner, frost_set)
    key = kdf.derive_public_key(cluster.key(frost_set[0], 1).public_key, "alice.near", "ethereum-1")
    VerifyKey(key.data).verify(request.payload, signature.signature)
    if 2 * k - 1 > len(members):
        return  # robust ECDSA needs 2K − 1 ≤ n
    signers = sorted(rng.sample(members, 2 * k - 1))
    presignature = cluster.presign(0, signers, rng.choice(signers), f"grid-{tag}")
    request = request_for(f"ec-{tag}")
    signature = cluster.ecdsa_sign(0, request, presignature)
    root = cluster.key(signers[0], 0).public_key
    verify_signature(
        kdf.derive_public_key(root, "alice.near", "ethereum-1"), request.payload, signature
    )


@pytest.mark.parametrize("n,k", GRID)
def test_all_protocols(make_cluster, request_for, n: int, k: int) -> None:
    """DKG, FROST and (where 2K − 1 ≤ n) presign + sign; then a reshare to n ± 1 parties
    (growing below 10, shrinking at 10) and signing again with the same derived keys."""
    rng = random.Random(n * 100 + k)
    cluster = make_cluster(n, k)
    for domain in (0, 1):
        assert len({cluster.key(i, domain).public_key for i in range(n)}) == 1
    _sign_both(cluster, request_for, rng, list(range(n)), k, f"{n}-{k}")
    new = list(range(n + 1)) if n < 10 else list(range(1, n))
    if k > len(new):
        return
    dealers = sorted(rng.sample(range(n), k))
    cluster.reshare(1, dealers, new, k, ecdsa=False)
    if 2 * k - 1 <= len(new):
        cluster.reshare(0, dealers, new, k, ecdsa=True)
    _sign_both(cluster, request_for, rng, new, k, f"{n}-{k}-reshared")
