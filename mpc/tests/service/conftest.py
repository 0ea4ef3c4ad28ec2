"""Fixtures for the node-service tests: an asyncio runner, node stores, a TLS cluster."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from chainsig_mpc.node.identity import NodeIdentity
from chainsig_mpc.node.transport import Peer, PeerTransport
from chainsig_mpc.service.network import NodeNetwork
from chainsig_mpc.service.store import NodeStore


@pytest.fixture
def run() -> Callable[[Awaitable[Any]], Any]:
    """``run(coro)`` on a fresh loop with a 60 s safety timeout."""

    def runner(coroutine: Awaitable[Any]) -> Any:
        async def bounded() -> Any:
            return await asyncio.wait_for(coroutine, 60)

        return asyncio.run(bounded())

    return runner


@pytest.fixture
def node_key() -> bytes:
    return os.urandom(32)


@pytest.fixture
def store(tmp_path: Path, node_key: bytes) -> Iterator[NodeStore]:
    s = NodeStore(tmp_path / "node.sqlite", node_key)
    yield s
    s.close()


class TlsCluster:
    """N NodeNetworks over real mutually authenticated TLS transports on loopback."""

    def __init__(self, size: int) -> None:
        self.ids = list(range(size))
        self.identities = {i: NodeIdentity.generate() for i in self.ids}
        self.participants: dict[int, Peer] = {}
        self.transports: dict[int, PeerTransport] = {}
        self.networks: dict[int, NodeNetwork] = {}
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> TlsCluster:
        for i in self.ids:
            t = PeerTransport(self.identities[i], i, lambda: self.participants, "127.0.0.1", 0)
            await t.start()
            self.transports[i] = t
            self.participants[i] = Peer(i, "127.0.0.1", t.listen_port, self.identities[i].public_key)
        for i in self.ids:
            self.transports[i].refresh()
            self.networks[i] = NodeNetwork(self.transports[i], i)
            self._tasks.append(asyncio.create_task(self.networks[i].run()))
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for t in self.transports.values():
            await t.close()


@pytest.fixture
def tls_cluster() -> Callable[[int], TlsCluster]:
    return TlsCluster
