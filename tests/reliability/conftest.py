"""A real MPC devnet (NEAR host + five ``chainsig mpc node`` processes over mutual TLS) driven
only through public surfaces: ``chainsig_core.devnet.up/down``, the NEAR JSON-RPC, the library
signer, the nodes' metrics endpoints and OS signals.

``devnet`` is shared by the default (fast) reliability tests; the slow fault tests start their
own through ``start_devnet`` because they kill processes.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

ACCOUNTS = ("alice.devnet", "bob.devnet")
CLIENT_DEADLINE = 90.0
"""Seconds one request may take in these tests: far above the contract's 200-block timeout."""


@dataclass
class Devnet:
    """A running devnet: its description, data dir and the config file registering it."""

    description: dict[str, Any]
    root: Path
    config: Path
    restarted: dict[str, Any] = field(default_factory=dict)
    restart_logs: dict[str, Path] = field(default_factory=dict)

    # -- addresses -------------------------------------------------------------------------
    @property
    def rpc_url(self) -> str:
        return str(self.description["rpc_url"])

    @property
    def contract_id(self) -> str:
        return str(self.description["contract_id"])

    @property
    def host_dir(self) -> Path:
        return Path(self.description["data_dir"])

    def node_dirs(self) -> list[Path]:
        return sorted((self.root / "nodes").iterdir())

    def root_key(self, domain_id: int) -> Any:
        from chainsig_core.keys import PublicKey

        key = next(d["public_key"] for d in self.description["domains"] if d["id"] == domain_id)
        return PublicKey.from_near_string(key)

    def services(self) -> list[Any]:
        from chainsig_core.devnet.processes import read_state

        state = read_state(self.root)
        assert state is not None
        return state[1]

    def service(self, name: str) -> Any:
        return next(s for s in self.services() if s.name == name)

    # -- RPC -------------------------------------------------------------------------------
    def rpc(self, method: str, params: Any, timeout: float = 15) -> dict[str, Any]:
        return httpx.post(self.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params},
                          timeout=timeout).json()

    def view(self, method: str, args: dict[str, Any]) -> Any:
        answer = self.rpc("query", {"request_type": "call_function", "finality": "optimistic",
                                    "account_id": self.contract_id, "method_name": method,
                                    "args_base64": base64.b64encode(json.dumps(args).encode()).decode()})
        return json.loads(bytes(answer["result"]["result"]))

    def host_alive(self) -> bool:
        try:
            return self.rpc("status", [], timeout=5)["result"]["chain_id"] == "devnet"
        except (httpx.HTTPError, KeyError, ValueError):
            return False

    def health(self, node: dict[str, Any]) -> dict[str, Any]:
        return httpx.get(node["metrics_url"] + "/health", timeout=5).json()

    def metrics_text(self, node: dict[str, Any]) -> str:
        return httpx.get(node["metrics_url"] + "/metrics", timeout=5).text

    def samples(self, node: dict[str, Any], name: str) -> dict[tuple[tuple[str, str], ...], float]:
        """``{sorted labels: value}`` of one sample name in a node's ``/metrics`` (parsed with
        prometheus_client's parser, so label order and number format do not matter)."""
        return samples_of(self.metrics_text(node), name)

    # -- signing ---------------------------------------------------------------------------
    def sign_batch(self, label: str, count: int, *, accounts: tuple[str, ...] = ACCOUNTS,
                   timeout_retries: int = 0, warm_up: bool = True, domains: tuple[int, ...] = (0, 1)) -> list[Any]:
        """``count`` concurrent requests (domains and accounts round robin: ECDSA/EdDSA alternate
        by default), each verified under its derived key; returns the results or the
        exceptions, in order."""
        return asyncio.run(self.sign_batch_async(label, count, accounts=accounts, timeout_retries=timeout_retries,
                                                 warm_up=warm_up, domains=domains))

    async def sign_batch_async(self, label: str, count: int, *, accounts: tuple[str, ...] = ACCOUNTS,
                               timeout_retries: int = 0, warm_up: bool = True,
                               domains: tuple[int, ...] = (0, 1)) -> list[Any]:
        from chainsig_core.kdf import derive_public_key
        from chainsig_core.signatures import verify_signature
        from chainsig_core.signers import get_signer

        signer = get_signer("devnet", timeout_retries=timeout_retries)
        if warm_up and count > 4:
            # One request per account first: many first requests at once through one client
            # stall in its per-account set-up (see docs/reliability.md, "client under load").
            for account in accounts:
                await signer.sign_async(sign_request(account, f"{label}-warm-up", 1, b"warm-up"))

        async def one(i: int) -> Any:
            domain_id, account = domains[i % len(domains)], accounts[i % len(accounts)]
            payload = request_payload(f"{label}-{i}", domain_id)
            request = sign_request(account, f"{label}-{i}", domain_id, payload)
            try:  # a request that neither answers nor times out on chain is a failure, not a hang
                result = await asyncio.wait_for(signer.sign_async(request), CLIENT_DEADLINE)
            except asyncio.TimeoutError:
                sent = signer.tx_hashes.get(request)
                raise AssertionError(f"{label}-{i}: no outcome after {CLIENT_DEADLINE:.0f} s "
                                     f"({'tx ' + sent if sent else 'transaction never sent'})") from None
            derived = derive_public_key(self.root_key(domain_id), account, f"{label}-{i}")
            verify_signature(derived, payload, result.signature)  # independently of the signer
            return result

        try:
            return list(await asyncio.gather(*(one(i) for i in range(count)), return_exceptions=True))
        finally:
            await signer.aclose()

    def assert_signs(self, label: str, count: int = 2) -> None:
        """The whole system still answers: ``count`` requests, both domains, all verified."""
        results = self.sign_batch(label, count)
        failures = [r for r in results if isinstance(r, BaseException)]
        assert not failures, failures

    # -- processes -------------------------------------------------------------------------
    def kill_node(self, index: int) -> Any:
        """SIGKILL node ``index`` (the process ``up`` recorded, or our restart of it)."""
        name = f"mpc-node{index}"
        proc = self.restarted.pop(name, None)
        if proc is not None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            return proc
        service = self.service(name)
        os.kill(service.pid, signal.SIGKILL)
        return service

    def restart_node(self, index: int, timeout: float = 90.0, extra_args: tuple[str, ...] = ()) -> None:
        """Start node ``index`` again from its config (same store, same identity), with
        ``extra_args`` added (e.g. ``--insecure-corrupt frost-share``)."""
        self.restart_service(f"mpc-node{index}", r'{"ready"', timeout=timeout,
                             edit=lambda argv: [*argv, *extra_args])

    def restart_host(self, timeout: float = 60.0) -> None:
        """Start the NEAR host again on its data dir and on the same port (the nodes and the
        config keep its URL)."""
        port = self.rpc_url.rsplit(":", 1)[1]
        self.restart_service("host", '{"network"', timeout=timeout,
                             edit=lambda argv: [port if a == "0" and argv[i - 1] == "--port" else a
                                                for i, a in enumerate(argv)])

    def restart_service(self, name: str, ready: str, *, timeout: float,
                        edit: Any = lambda argv: argv) -> None:
        import subprocess

        service = self.service(name)
        log_path = self.root / "logs" / f"{name}-restart-{time.monotonic_ns()}.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(edit(list(service.argv)), stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True,
                                    env={**os.environ, "CHAINSIG_CONFIG": str(self.config)})
        self.restarted[name] = proc
        self.restart_logs[name] = log_path
        deadline = time.monotonic() + timeout
        while ready not in log_path.read_text(errors="replace"):
            assert proc.poll() is None, f"{name} exited on restart: {log_path.read_text()[-2000:]}"
            assert time.monotonic() < deadline, f"{name} was not ready after {timeout} s"
            time.sleep(0.2)
        if name.startswith("mpc-node"):  # its metrics port is picked afresh (port 0 in node.toml)
            line = next(x for x in log_path.read_text().splitlines() if x.startswith('{"ready"'))
            info = json.loads(line)
            for node in self.description["nodes"]:
                if node["account_id"] == info["account_id"]:
                    node["metrics_url"] = info["metrics_url"]

    def kill_host(self) -> None:
        """SIGKILL the NEAR host (the recorded process or our restart of it)."""
        proc = self.restarted.pop("host", None)
        if proc is not None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        else:
            os.kill(self.service("host").pid, signal.SIGKILL)

    def wait_connected(self, timeout: float = 60.0) -> None:
        """Until every node's health reports all other nodes connected."""
        deadline = time.monotonic() + timeout
        nodes = self.description["nodes"]
        while True:
            try:
                healths = [self.health(node) for node in nodes]
                if all(len(h["connected"]) == len(nodes) - 1 and h["state"] == "Running" for h in healths):
                    return
            except (httpx.HTTPError, ValueError):
                pass
            assert time.monotonic() < deadline, "the nodes did not reconnect"
            time.sleep(0.5)

    def stop_restarted(self) -> None:
        """SIGTERM what the tests restarted; one that hangs is killed and reported as a warning
        (with its log's tail): these tests are about signing, not shutdown, which has its own."""
        import warnings

        from chainsig_core.devnet.processes import stop_pid

        for name, proc in self.restarted.items():
            if proc.poll() is None and not stop_pid(proc.pid, grace=20):
                tail = self.restart_logs[name].read_text(errors="replace")[-3000:]
                warnings.warn(f"{name} did not stop within 20 s of SIGTERM and was killed; log tail:\n{tail}",
                              stacklevel=1)
            proc.wait(timeout=10)
        self.restarted.clear()


def samples_of(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """``{sorted labels: value}`` of the samples called ``name`` in a Prometheus exposition."""
    from prometheus_client.parser import text_string_to_metric_families

    return {tuple(sorted(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples if sample.name == name}


def request_payload(text: str, domain_id: int) -> bytes:
    """A 32-byte hash for ECDSA (domain 0), the message itself for EdDSA (domain 1)."""
    return hashlib.sha256(text.encode()).digest() if domain_id == 0 else text.encode()


def sign_request(account: str, path: str, domain_id: int, payload: bytes) -> Any:
    from chainsig_core.signers.base import SignRequest

    return SignRequest(account, path, domain_id, payload)


def start_devnet(root: Path, *, block_ms: int = 100, nodes: int = 5, threshold: int = 2) -> Devnet:
    """``devnet up --signers mpc`` (no EVM/Solana chains: these tests are about the NEAR side)."""
    from chainsig_core import plugins
    from chainsig_core.devnet import UpOptions, up

    config = root / "config.toml"
    os.environ["CHAINSIG_CONFIG"] = str(config)
    plugins.reset()
    description = up(UpOptions(data_dir=root / "dn", nodes=nodes, threshold=threshold, block_ms=block_ms,
                               signers="mpc", evm=False, solana=False))
    return Devnet(description, root / "dn", config)


def stop_devnet(net: Devnet) -> None:
    from chainsig_core.devnet import down

    net.stop_restarted()
    down(net.root)


@pytest.fixture(scope="session")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    """One MPC devnet for the default reliability tests (nothing in them kills a process)."""
    saved = os.environ.get("CHAINSIG_CONFIG")
    os.environ.pop("CHAINSIG_LOAD_PLUGINS", None)
    net = start_devnet(tmp_path_factory.mktemp("reliability"))
    try:
        yield net
    finally:
        stop_devnet(net)
        if saved is not None:
            os.environ["CHAINSIG_CONFIG"] = saved


@pytest.fixture
def devnet_env(devnet: Devnet, monkeypatch: pytest.MonkeyPatch) -> Devnet:
    """The shared devnet with its config active for this test (the root conftest resets it)."""
    from chainsig_core import plugins

    monkeypatch.setenv("CHAINSIG_CONFIG", str(devnet.config))
    plugins.reset()
    return devnet


@pytest.fixture
def parse_samples() -> Any:
    """:func:`samples_of`, for tests that read a node's ``/metrics`` without a :class:`Devnet`."""
    return samples_of


@pytest.fixture
def devnet_factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Start private devnets (for tests that kill processes); all are stopped afterwards."""
    started: list[Devnet] = []

    def make(**options: Any) -> Devnet:
        net = start_devnet(tmp_path / f"net{len(started)}", **options)
        started.append(net)
        monkeypatch.setenv("CHAINSIG_CONFIG", str(net.config))
        return net

    monkeypatch.delenv("CHAINSIG_LOAD_PLUGINS", raising=False)
    try:
        yield make
    finally:
        for net in started:
            stop_devnet(net)
