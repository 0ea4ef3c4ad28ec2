"""Property tests: any valid signer set, owner, account and path gives a signature that verifies
under chainsig_core's derived key (hypothesis over one DKG'd cluster per curve)."""

from __future__ import annotations

import os
from functools import cache

import pytest
from chainsig_mpc.protocols.ecdsa import EcdsaCoordinator
from chainsig_mpc.protocols.errors import SigningRefusedError
from chainsig_mpc.protocols.signrequest import SignRequest
from chainsig_mpc.protocols.simulate import LocalCluster
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nacl.signing import VerifyKey

from chainsig_core import kdf
from chainsig_core.keys import SECP256K1_N
from chainsig_core.signatures import verify_signature

N, K = 6, 3
ACCOUNTS = st.sampled_from(["alice.near", "bob.testnet", "x.y.z.near", "0123456789abcdef" * 4])
PATHS = st.text(max_size=40)


@cache
def cluster() -> LocalCluster:
    c = LocalCluster(range(N))
    c.dkg("secp256k1", 0, K)
    c.dkg("ed25519", 1, K)
    return c


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), account=ACCOUNTS, path=PATHS, message=st.binary(max_size=200))
def test_frost_any_set_verifies(
    data: st.DataObject, account: str, path: str, message: bytes
) -> None:
    c = cluster()
    signers = sorted(data.draw(st.sets(st.integers(0, N - 1), min_size=K, max_size=N)))
    owner = data.draw(st.sampled_from(signers))
    c.frost_precommit(1, owner, signers)
    request = SignRequest(os.urandom(8).hex(), message, kdf.tweak(account, path))
    signature = c.frost_sign(1, request, owner, signers)
    key = kdf.derive_public_key(c.key(0, 1).public_key, account, path)
    VerifyKey(key.data).verify(message, signature.signature)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), account=ACCOUNTS, path=PATHS, payload=st.binary(min_size=32, max_size=32))
def test_ecdsa_any_set_verifies(
    data: st.DataObject, account: str, path: str, payload: bytes
) -> None:
    c = cluster()
    signers = sorted(
        data.draw(st.sets(st.integers(0, N - 1), min_size=2 * K - 1, max_size=2 * K - 1))
    )
    owner = data.draw(st.sampled_from(signers))
    presignature = c.presign(0, signers, owner, os.urandom(8).hex())
    request = SignRequest(os.urandom(8).hex(), payload, kdf.tweak(account, path), os.urandom(32))
    h = int.from_bytes(payload, "big")
    if h == 0 or h >= SECP256K1_N:
        with pytest.raises(SigningRefusedError):
            c.ecdsa_sign(0, request, presignature)
        return
    signature = c.ecdsa_sign(0, request, presignature)
    verify_signature(
        kdf.derive_public_key(c.key(0, 0).public_key, account, path), payload, signature
    )


def test_unknown_request_is_refused() -> None:
    c = cluster()
    presignature = c.presign(0, [0, 1, 2, 3, 4], 0, "unknown-request")
    node = c.nodes[0]
    coordinator = EcdsaCoordinator(c.key(0, 0), node.presignatures, node.consumed, c.lookup)
    with pytest.raises(SigningRefusedError, match="unknown in this node's view"):
        coordinator.start("never-submitted", presignature)
