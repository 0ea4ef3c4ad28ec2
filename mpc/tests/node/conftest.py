"""Fixtures for the node-service tests: an asyncio runner and loopback peer clusters."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from chainsig_mpc.node.identity import NodeIdentity
from chainsig_mpc.node.transport import Peer, PeerTransport


@pytest.fixture
def run() -> Callable[[Awaitable[Any]], Any]:
    """``run(coro)``: run a coroutine on a fresh event loop with a 30 s safety timeout."""

    def runner(coroutine: Awaitable[Any]) -> Any:
        async def bounded() -> Any:
            return await asyncio.wait_for(coroutine, 30)

        return asyncio.run(bounded())

    return runner


class Cluster:
    """N nodes on loopback that share one participant table (as the contract would give)."""

    def __init__(self, size: int, **options: Any) -> None:
        self.identities = {i: NodeIdentity.generate() for i in range(1, size + 1)}
        self.participants: dict[int, Peer] = {}
        self.options = options
        self.nodes: dict[int, PeerTransport] = {}

    def table(self) -> dict[int, Peer]:
        return dict(self.participants)

    async def start(self) -> Cluster:
        for node_id, identity in self.identities.items():
            transport = PeerTransport(identity, node_id, self.table, **self.options)
            await transport.start()
            self.nodes[node_id] = transport
            self.participants[node_id] = Peer(node_id, "127.0.0.1", transport.listen_port, identity.public_key)
        for transport in self.nodes.values():
            transport.refresh()
        return self

    async def restart(self, node_id: int) -> PeerTransport:
        """Stop a node and start it again on the same port with the same identity."""
        port = self.participants[node_id].port
        await self.nodes[node_id].close()
        transport = PeerTransport(self.identities[node_id], node_id, self.table, "127.0.0.1", port, **self.options)
        await transport.start()
        self.nodes[node_id] = transport
        return transport

    async def wait_connected(self, timeout: float = 10.0) -> None:
        async def all_up() -> None:
            while any(set(self.participants) - {i} - t.connected for i, t in self.nodes.items()):
                await asyncio.sleep(0.01)

        await asyncio.wait_for(all_up(), timeout)

    async def close(self) -> None:
        for transport in self.nodes.values():
            await transport.close()


@pytest.fixture
def cluster() -> Callable[..., Cluster]:
    """``cluster(3)`` → an unstarted :class:`Cluster` of 3 nodes (``await c.start()``)."""
    return Cluster


async def receive(transport: PeerTransport, count: int, timeout: float = 10.0) -> list[tuple[int, bytes]]:
    """``count`` messages from ``transport`` (fails the test on timeout)."""
    return [await asyncio.wait_for(transport.recv(), timeout) for _ in range(count)]


@pytest.fixture
def recv_n() -> Callable[..., Awaitable[list[tuple[int, bytes]]]]:
    """``await recv_n(transport, count)`` → that many messages."""
    return receive
