"""Fixtures for the node-service tests: an asyncio runner and loopback peer clusters."""

from __future__ import annotations

import asyncio
import base64 as _b64
import hashlib as _hashlib
import json as _json
import os as _os
from collections import deque as _deque
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import base58 as _base58
import pytest
from chainsig_mpc.node.identity import NodeIdentity
from chainsig_mpc.node.transport import Peer, PeerTransport

from chainsig_core.testing.http_server import CannedResponse, RecordedRequest, RecordingHTTPServer


@pytest.fixture
def run() -> Iterator[Callable[[Awaitable[Any]], Any]]:
    """``run(coro)``: run a coroutine with a 30 s safety timeout; every call of one test uses
    the same event loop (HTTP clients are bound to their loop)."""
    loop = asyncio.new_event_loop()

    def runner(coroutine: Awaitable[Any]) -> Any:
        async def bounded() -> Any:
            return await asyncio.wait_for(coroutine, 30)

        return loop.run_until_complete(bounded())

    yield runner
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


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


# -- a NEAR JSON-RPC endpoint serving `block` and `chunk` in NEAR's documented shapes ------------



def near_hash(*parts: object) -> str:
    """A deterministic base58 32-byte hash (block, chunk and receipt ids)."""
    return _base58.b58encode(_hashlib.sha256(repr(parts).encode()).digest()).decode()


def function_call(method: str, args: object, deposit: str = "1") -> dict:
    """A ``FunctionCall`` action as NEAR's RPC shows it (base64 JSON args)."""
    raw = args if isinstance(args, bytes) else _json.dumps(args).encode()
    return {"FunctionCall": {"method_name": method, "args": _b64.b64encode(raw).decode(),
                             "gas": 300000000000000, "deposit": deposit}}


def action_receipt(receipt_id: str, predecessor: str, receiver: str, actions: list) -> dict:
    """A ``ReceiptView`` with an ``Action`` receipt, as in NEAR's ``chunk`` documentation."""
    return {
        "predecessor_id": predecessor,
        "receiver_id": receiver,
        "receipt_id": receipt_id,
        "receipt": {"Action": {
            "signer_id": predecessor,
            "signer_public_key": "ed25519:6E8sCci9badyRkXb3JoRpBj5p8C6Tw41ELDZoiihKEtp",
            "gas_price": "103000000",
            "output_data_receivers": [],
            "input_data_ids": [],
            "actions": actions,
        }},
    }


def data_receipt(receipt_id: str, receiver: str) -> dict:
    return {"predecessor_id": "system", "receiver_id": receiver, "receipt_id": receipt_id,
            "receipt": {"Data": {"data_id": near_hash("data", receipt_id), "data": None}}}


class NearRpcFixture:
    """A NEAR-shaped chain served over HTTP on loopback.

    ``add_block(height, shards=[receipts of shard 0, receipts of shard 1, ...])``; a shard
    given as ``None`` has no new chunk in that block (its previous chunk header is repeated,
    as NEAR does). Heights never added answer ``UNKNOWN_BLOCK``. ``fail(n, kind)`` makes the
    next n requests fail.
    """

    def __init__(self, server: RecordingHTTPServer) -> None:
        self.server = server
        self.blocks: dict[int, dict] = {}
        self.chunks: dict[str, dict] = {}
        self.final = 0
        self.failures: _deque[str] = _deque()
        self.pending_views: dict[str, object] = {}
        self._last_chunk: dict[int, dict] = {}
        server.add("POST", "/", handler=self._handle)

    @property
    def url(self) -> str:
        return self.server.url + "/"

    def add_block(self, height: int, shards: list, *, random_value: bytes | None = None) -> dict:
        block_hash = near_hash("block", height)
        chunk_headers = []
        for shard_id, receipts in enumerate(shards):
            if receipts is None:
                chunk_headers.append(dict(self._last_chunk[shard_id]))
                continue
            chunk_hash = near_hash("chunk", height, shard_id)
            header = {
                "chunk_hash": chunk_hash,
                "prev_block_hash": near_hash("block", height - 1),
                "outcome_root": "11111111111111111111111111111111",
                "prev_state_root": near_hash("state", height),
                "encoded_merkle_root": near_hash("merkle", height),
                "encoded_length": 8,
                "height_created": height,
                "height_included": height,
                "shard_id": shard_id,
                "gas_used": 0,
                "gas_limit": 1000000000000000,
                "rent_paid": "0",
                "validator_reward": "0",
                "balance_burnt": "0",
                "outgoing_receipts_root": "H4Rd6SGeEBTbxkitsCdzfu9xL9HtZ2eHoPCQXUeZ6bW4",
                "tx_root": "11111111111111111111111111111111",
                "validator_proposals": [],
                "signature": "ed25519:" + _base58.b58encode(bytes(64)).decode(),
            }
            self._last_chunk[shard_id] = header
            self.chunks[chunk_hash] = {"author": "node0", "header": header, "transactions": [], "receipts": receipts}
            chunk_headers.append(header)
        random_value = random_value if random_value is not None else _os.urandom(32)
        block = {
            "author": "node0",
            "header": {
                "height": height,
                "epoch_id": "11111111111111111111111111111111",
                "next_epoch_id": near_hash("epoch", 1),
                "hash": block_hash,
                "prev_hash": near_hash("block", height - 1),
                "prev_state_root": near_hash("state", height),
                "chunk_receipts_root": near_hash("receipts-root", height),
                "chunk_headers_root": near_hash("headers-root", height),
                "chunk_tx_root": near_hash("tx-root", height),
                "outcome_root": near_hash("outcome-root", height),
                "chunks_included": sum(1 for s in shards if s is not None),
                "challenges_root": "11111111111111111111111111111111",
                "timestamp": 1601280114229875635 + height,
                "timestamp_nanosec": str(1601280114229875635 + height),
                "random_value": _base58.b58encode(random_value).decode(),
                "validator_proposals": [],
                "chunk_mask": [s is not None for s in shards],
                "gas_price": "100000000",
                "rent_paid": "0",
                "validator_reward": "0",
                "total_supply": "1042339182040791154864822502764857",
                "challenges_result": [],
                "last_final_block": near_hash("block", height - 2),
                "last_ds_final_block": near_hash("block", height - 1),
                "next_bp_hash": near_hash("bp", 1),
                "block_merkle_root": near_hash("bmr", height),
                "approvals": [],
                "signature": "ed25519:" + _base58.b58encode(bytes(64)).decode(),
                "latest_protocol_version": 35,
            },
            "chunks": chunk_headers,
        }
        self.blocks[height] = block
        self.final = max(self.final, height)
        return block

    def fail(self, count: int, kind: str) -> None:
        """``kind``: ``http500`` (non-JSON body), ``internal`` (JSON-RPC INTERNAL_ERROR),
        ``garbage`` (200 with a non-JSON body), ``timeout_error`` (NEAR's TIMEOUT_ERROR)."""
        self.failures.extend([kind] * count)

    def requested(self, method: str) -> list[dict]:
        return [r.json()["params"] for r in self.server.requests if r.json().get("method") == method]

    def _error(self, name: str, cause: str, message: str = "Server error") -> CannedResponse:
        return CannedResponse(json={"jsonrpc": "2.0", "id": "dontcare", "error": {
            "name": name, "cause": {"name": cause, "info": {}}, "code": -32000,
            "message": message, "data": message}})

    def _handle(self, request: RecordedRequest) -> CannedResponse:
        if self.failures:
            kind = self.failures.popleft()
            if kind == "http500":
                return CannedResponse(status=500, body=b"Internal Server Error")
            if kind == "garbage":
                return CannedResponse(body=b"<html>bad gateway</html>")
            if kind == "timeout_error":
                return self._error("HANDLER_ERROR", "TIMEOUT_ERROR")
            return self._error("INTERNAL_ERROR", "INTERNAL_ERROR")
        body = request.json()
        method, params = body.get("method"), body.get("params") or {}
        if method == "block":
            height = self.final if params.get("finality") == "final" else params.get("block_id")
            if height not in self.blocks:
                return self._error("HANDLER_ERROR", "UNKNOWN_BLOCK", f"DB Not Found Error: BLOCK HEIGHT: {height}")
            return CannedResponse(json={"jsonrpc": "2.0", "id": body.get("id"), "result": self.blocks[height]})
        if method == "chunk":
            chunk = self.chunks.get(params.get("chunk_id"))
            if chunk is None:
                return self._error("HANDLER_ERROR", "UNKNOWN_CHUNK")
            return CannedResponse(json={"jsonrpc": "2.0", "id": body.get("id"), "result": chunk})
        if method == "query" and params.get("request_type") == "call_function":
            args = _json.loads(_b64.b64decode(params["args_base64"]))
            value = self.pending_views.get(_json.dumps(args["request"], sort_keys=True))
            result = list(_json.dumps(value).encode())
            return CannedResponse(json={"jsonrpc": "2.0", "id": body.get("id"), "result": {
                "result": result, "logs": [], "block_height": self.final, "block_hash": near_hash("block", self.final)}})
        return self._error("REQUEST_VALIDATION_ERROR", "METHOD_NOT_FOUND", f"Method not found: {method}")


@pytest.fixture
def near_rpc():
    """A :class:`NearRpcFixture` on loopback."""
    with RecordingHTTPServer() as server:
        yield NearRpcFixture(server)


@pytest.fixture
def shapes():
    """NEAR RPC shape builders: ``shapes.action_receipt``, ``shapes.data_receipt``,
    ``shapes.function_call``."""
    import types

    return types.SimpleNamespace(action_receipt=action_receipt, data_receipt=data_receipt,
                                 function_call=function_call)
