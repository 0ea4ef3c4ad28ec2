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


# -- a live devnet host (in a background thread) for RPC tests ---------------------------------


class LiveHost:
    """A devnet host serving JSON-RPC from a background thread's event loop.

    ``stop()`` then ``start()`` again restarts it on the same data dir (a real restart: the
    chain is re-opened from SQLite).
    """

    # 25 ms blocks: the 200-block yield timeout is 5 s, long enough that a request is not timed
    # out by a busy CI machine before the test responds (the timeout test still runs in seconds).
    def __init__(self, data_dir, genesis: dict[str, Any] | None, block_ms: int = 25,
                 wait_timeout: float = 30.0) -> None:
        self.data_dir = data_dir
        self.genesis = genesis
        self.block_ms = block_ms
        self.wait_timeout = wait_timeout
        self.url = ""
        self.chain = None
        self._thread = None
        self._loop = None
        self._stop = None

    def start(self) -> LiveHost:
        import asyncio
        import threading

        from chainsig_contract.hosting import open_chain
        from chainsig_contract.rpc.server import HostServer

        genesis_file = None
        if self.genesis is not None:
            genesis_file = self.data_dir.parent / f"{self.data_dir.name}-genesis.json"
            genesis_file.write_text(json.dumps(self.genesis))
        ready = threading.Event()
        errors: list[BaseException] = []

        def serve() -> None:
            async def main() -> None:
                self.chain, _ = open_chain(self.data_dir, genesis_file)
                server = HostServer(self.chain, block_ms=self.block_ms, port=0,
                                    wait_timeout=self.wait_timeout)
                await server.start()
                self.url = server.url
                self._stop = asyncio.Event()
                self._loop = asyncio.get_running_loop()
                ready.set()
                await self._stop.wait()
                await server.stop()
                self.chain.store.close()

            try:
                asyncio.run(main())
            except BaseException as exc:  # surfaced by start()
                errors.append(exc)
                ready.set()

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        ready.wait(30)
        if errors:
            raise errors[0]
        import time

        deadline = time.monotonic() + 10
        while self.chain.head["height"] < 3 and time.monotonic() < deadline:  # a few blocks exist
            time.sleep(self.block_ms / 1000)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(30)
        self._loop = self._stop = self._thread = None

    def client(self, account_id: str | None = None, retries: int = 0):
        from near import Near

        return Near(network="devnet", rpc_url=self.url, account_id=account_id,
                    credentials_dir=self.data_dir / "credentials", retries=retries) if account_id else Near(
            network="devnet", rpc_url=self.url, retries=retries)

    def key(self, account_id: str):
        from chainsig_core.credentials import load_access_key

        return load_access_key(self.data_dir / "credentials", "devnet", account_id)

    @property
    def contract_id(self) -> str:
        return self.chain.config.contract_id  # type: ignore[union-attr]


SMALL_GENESIS = {"participants": 3, "users": ["alice", "bob"],
                 "contract": {"state": "running"}}


@pytest.fixture
def live_host(tmp_path):
    """A running devnet host (dev root keys, 3 participants, users alice and bob, 25 ms blocks)."""
    host = LiveHost(tmp_path / "devnet", SMALL_GENESIS).start()
    yield host
    host.stop()


@pytest.fixture
def live_host_factory(tmp_path):
    """``live_host_factory(genesis, **kw)`` → a started :class:`LiveHost` (stopped at teardown)."""
    hosts: list[LiveHost] = []

    def make(genesis: dict[str, Any] | None = None, name: str = "devnet", **kw: Any) -> LiveHost:
        host = LiveHost(tmp_path / name, genesis if genesis is not None else SMALL_GENESIS, **kw).start()
        hosts.append(host)
        return host

    yield make
    for host in hosts:
        host.stop()


@pytest.fixture(scope="session")
def build_tx():
    """``build_tx(key, receiver, actions, nonce, block_hash) -> base64 signed tx`` (near-kit wire)."""
    import base64

    import base58
    from near import Ed25519KeyPair, KeyPairSigner
    from near.wire import Transaction, sign_transaction, to_wire_public_key

    def build(key, receiver: str, actions: list[Any], nonce: int, block_hash: str, tamper: bool = False) -> str:
        signer = KeyPairSigner(account_id=key.account_id,
                               key_pair=Ed25519KeyPair.from_string(key.to_near_secret_string()))
        tx = Transaction(signer_id=key.account_id, public_key=to_wire_public_key(signer.public_key),
                         nonce=nonce, receiver_id=receiver, block_hash=base58.b58decode(block_hash),
                         actions=actions)
        _, raw = sign_transaction(tx, signer)
        if tamper:
            raw = raw[:-1] + bytes([raw[-1] ^ 1])
        return base64.b64encode(raw).decode()

    return build


def dev_response(account: str, path: str, payload: bytes, domain_id: int = 0) -> dict[str, Any]:
    """The dev key's response for a request (what the dev responder would send)."""
    from chainsig_core import kdf
    from chainsig_core.signers.dev import dev_root_secret, ecdsa_sign_with_scalar, ed25519_sign_with_scalar

    curve = Curve.SECP256K1 if domain_id == 0 else Curve.ED25519
    secret = kdf.derive_secret_key(curve, dev_root_secret(curve), account, path)
    signer = ecdsa_sign_with_scalar if domain_id == 0 else ed25519_sign_with_scalar
    return dict(signer(secret, payload).to_response())


@pytest.fixture(scope="session")
def dev_responses():
    """``dev_responses(account, path, payload, domain_id)`` → a valid response JSON."""
    return dev_response
