"""Fixtures of the chainsig-mpc tests: in-memory clusters with keys, and request factories."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from chainsig_mpc.protocols.signrequest import SignRequest
from chainsig_mpc.protocols.simulate import LocalCluster

from chainsig_core import kdf


@pytest.fixture
def make_cluster() -> Callable[..., LocalCluster]:
    """``make_cluster(n, K)`` → a cluster of nodes 0..n−1 with a secp256k1 key (domain 0)
    and an ed25519 key (domain 1), both of threshold K, made by the real DKG."""

    def make(
        n: int, threshold: int, curves: tuple[str, ...] = ("secp256k1", "ed25519")
    ) -> LocalCluster:
        cluster = LocalCluster(range(n))
        for curve in curves:
            cluster.dkg(curve, 0 if curve == "secp256k1" else 1, threshold)
        return cluster

    return make


@pytest.fixture
def request_for() -> Callable[..., SignRequest]:
    """``request_for(request_id, account, path, payload=None)`` → a SignRequest with fresh ρ."""

    def make(
        request_id: str,
        account: str = "alice.near",
        path: str = "ethereum-1",
        payload: bytes | None = None,
    ) -> SignRequest:
        return SignRequest(
            request_id,
            payload if payload is not None else os.urandom(32),
            kdf.tweak(account, path),
            os.urandom(32),
        )

    return make
