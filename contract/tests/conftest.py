"""Fixtures for chainsig-contract's tests: contracts in known states, call environments, keys."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from chainsig_contract.contract import CallEnv, CallResult, SignerContract, ViewEnv
from chainsig_core.credentials import generate_access_key
from chainsig_core.keys import Curve
from chainsig_core.signers.dev import dev_root_public_key

CONTRACT = "v1.signer.test"
TGAS = 10**12


def participants(n: int) -> dict[str, Any]:
    return {"next_id": n, "participants": [
        [f"node{i}.test", i, {"url": f"https://node{i}.test",
                              "tls_public_key": generate_access_key(f"node{i}.test").public_key.to_near_string()}]
        for i in range(n)]}


DOMAINS = [
    {"id": 0, "protocol": "DamgardEtAl", "reconstruction_threshold": 2, "purpose": "Sign"},
    {"id": 1, "protocol": "Frost", "reconstruction_threshold": 2, "purpose": "Sign"},
]


class Harness:
    """A contract plus a fake host: yields are recorded, resumes collected."""

    def __init__(self) -> None:
        self.contract = SignerContract()
        self.height = 10
        self.yields: dict[str, dict[str, Any]] = {}
        self.resumed: dict[str, bytes] = {}
        self._n = 0

    def env(self, predecessor: str, *, signer: str | None = None, deposit: int = 0,
            gas: int = 50 * TGAS, promise_result: bytes | None = None) -> CallEnv:
        def create_yield(method: str, args: dict[str, Any]) -> bytes:
            self._n += 1
            data_id = self._n.to_bytes(32, "big")
            self.yields[data_id.hex()] = {"method": method, "args": args}
            return data_id

        def resume_yield(data_id: bytes, payload: bytes) -> bool:
            if data_id.hex() not in self.yields:
                return False
            self.resumed[data_id.hex()] = payload
            return True

        return CallEnv(CONTRACT, predecessor, signer or predecessor, deposit, gas, self.height,
                       create_yield, resume_yield, promise_result)

    def call(self, method: str, args: dict[str, Any], predecessor: str, **kw: Any) -> CallResult:
        return self.contract.call(method, json.dumps(args).encode(), self.env(predecessor, **kw))

    def view(self, method: str, args: dict[str, Any] | None = None) -> Any:
        return self.contract.view(method, json.dumps(args or {}).encode(), ViewEnv(CONTRACT, self.height))

    def init_running(self, n: int = 3, threshold: int = 2, domains: list[dict[str, Any]] | None = None) -> None:
        domains = DOMAINS if domains is None else domains
        keys = {0: dev_root_public_key(Curve.SECP256K1), 1: dev_root_public_key(Curve.ED25519)}
        self.call("init_running", {
            "domains": domains, "next_domain_id": len(domains),
            "keyset": {"epoch_id": 0, "domains": [
                {"domain_id": d["id"], "key": keys[d["id"]].to_near_string(), "attempt": 0} for d in domains]},
            "parameters": {"participants": participants(n), "threshold": threshold},
        }, CONTRACT)


@pytest.fixture
def harness() -> Harness:
    return Harness()


@pytest.fixture
def running(harness: Harness) -> Harness:
    harness.init_running()
    return harness


@pytest.fixture
def panics() -> Callable[..., str]:
    """``panics(fn, *args)`` → the ContractPanic text (fails the test if none)."""
    from chainsig_contract.contract import ContractPanic

    def run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
        with pytest.raises(ContractPanic) as info:
            fn(*args, **kwargs)
        return info.value.message

    return run


@pytest.fixture(scope="session")
def harness_class() -> type[Harness]:
    """The :class:`Harness` class (for property tests that build many contracts)."""
    return Harness
