"""ChainClient's reads (head height, the contract's ``state``) against a loopback JSON-RPC
server: answers in NEAR's shapes, transient failures that near-kit's retries absorb, and every
failure that remains as one ChainRpcError that names the read and hides keys."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from chainsig_core.credentials import generate_access_key
from chainsig_core.errors import ChainsigError
from chainsig_core.testing.http_server import CannedResponse, RecordedRequest, RecordingHTTPServer
from chainsig_mpc.node.errors import ChainRpcError
from chainsig_mpc.service.chain import ChainClient

CONTRACT = "v1.signer.devnet"
STATE = {"Running": {"keyset": {"epoch_id": 3}}}
SECRET_QUERY = "apikey=SECRET-IN-QUERY"


class FlakyRpc:
    """Answers ``block`` (height 42) and the contract's ``state`` view in NEAR's shapes after
    failing the first ``failures`` requests with ``kind``."""

    def __init__(self, server: RecordingHTTPServer) -> None:
        self.server = server
        self.failures: list[str] = []
        self.block: Any = {"header": {"height": 42, "hash": "11111111111111111111111111111111"}, "chunks": []}
        server.add("POST", "/", handler=self._handle)

    def url(self, suffix: str = "") -> str:
        return f"{self.server.url}/{suffix}"

    def fail(self, count: int, kind: str) -> None:
        self.failures.extend([kind] * count)

    def _error(self, name: str, cause: str, info: dict[str, Any] | None = None) -> CannedResponse:
        return CannedResponse(json={"jsonrpc": "2.0", "id": "x", "error": {
            "name": name, "cause": {"name": cause, "info": info or {}}, "code": -32000,
            "message": "Server error", "data": "Server error"}})

    def _handle(self, request: RecordedRequest) -> CannedResponse:
        if self.failures:
            kind = self.failures.pop(0)
            if kind == "http500":
                return CannedResponse(status=500, body=b"<html>Internal Server Error</html>")
            if kind == "http503":
                return CannedResponse(status=503, body=b"busy")
            if kind == "timeout_error":
                return self._error("HANDLER_ERROR", "TIMEOUT_ERROR")
            if kind == "no_contract":
                return self._error("HANDLER_ERROR", "NO_CONTRACT_CODE", {"contract_account_id": CONTRACT})
            raise AssertionError(kind)
        body = request.json()
        if body["method"] == "block":
            return CannedResponse(json={"jsonrpc": "2.0", "id": body["id"], "result": self.block})
        if body["method"] == "query" and body["params"].get("method_name") == "state":
            return CannedResponse(json={"jsonrpc": "2.0", "id": body["id"], "result": {
                "result": list(json.dumps(STATE).encode()), "logs": [], "block_height": 42,
                "block_hash": "11111111111111111111111111111111"}})
        return self._error("REQUEST_VALIDATION_ERROR", "METHOD_NOT_FOUND")


@pytest.fixture
def rpc() -> Iterator[FlakyRpc]:
    with RecordingHTTPServer() as server:
        yield FlakyRpc(server)


@pytest.fixture
def key():  # type: ignore[no-untyped-def]
    return generate_access_key("node0.devnet")


def read(run, url: str, key, what: str) -> Any:  # type: ignore[no-untyped-def]
    """``head`` or ``state`` through a fresh client on ``url`` (closed afterwards)."""

    async def go() -> Any:
        client = ChainClient(url, CONTRACT, key)
        try:
            return await getattr(client, what)()
        finally:
            await client.aclose()

    return run(go())


def assert_clean(error: ChainRpcError, key) -> None:  # type: ignore[no-untyped-def]
    message = str(error)
    assert "\n" not in message and len(message) < 500
    assert key.to_near_secret_string() not in message
    assert key.to_near_secret_string().split(":")[1][:16] not in message
    assert "SECRET" not in message
    # the callers (signing, lifecycle) keep their task on ChainsigError; a ConnectionError
    # is what a network failure is to everything else
    assert isinstance(error, ChainsigError) and isinstance(error, ConnectionError)
    assert error.__cause__ is None and error.__suppress_context__


def test_head_and_state_in_nears_shapes(run, rpc, key) -> None:
    assert read(run, rpc.url(), key, "head") == 42
    assert read(run, rpc.url(), key, "state") == STATE
    view = rpc.server.requests[-1].json()["params"]
    assert (view["request_type"], view["account_id"], view["method_name"]) == ("call_function", CONTRACT, "state")


def test_transient_failures_are_retried_then_answered(run, rpc, key) -> None:
    rpc.fail(1, "http503")
    rpc.fail(1, "timeout_error")  # near-kit's 2 retries (1 s, then 2 s back-off)
    assert read(run, rpc.url(), key, "head") == 42
    assert len(rpc.server.requests) == 3


def test_failures_beyond_the_retries_are_one_chain_rpc_error(run, rpc, key) -> None:
    rpc.fail(3, "http500")
    with pytest.raises(ChainRpcError) as raised:
        read(run, rpc.url(f"?{SECRET_QUERY}"), key, "head")
    assert str(raised.value) == (
        f"head: NEAR RPC {rpc.server.url} failed: Non-JSON response from {rpc.server.url} (HTTP 500)")
    assert_clean(raised.value, key)
    assert len(rpc.server.requests) == 3


def test_a_refusal_is_not_retried_and_names_the_read(run, rpc, key) -> None:
    rpc.fail(1, "no_contract")
    with pytest.raises(ChainRpcError, match=rf"^state: NEAR RPC {rpc.server.url} failed: "
                                            rf"No contract code found for account {CONTRACT}$") as raised:
        read(run, rpc.url(), key, "state")
    assert_clean(raised.value, key)
    assert len(rpc.server.requests) == 1


@pytest.mark.parametrize("block", [{}, {"header": {}}, {"header": {"height": "tall"}}, None, [1]])
def test_a_block_without_a_height_is_a_chain_rpc_error(run, rpc, key, block) -> None:
    rpc.block = block
    with pytest.raises(ChainRpcError, match="^head: NEAR RPC .* answered a block without header.height$") as raised:
        read(run, rpc.url(), key, "head")
    assert_clean(raised.value, key)


def test_a_down_rpc_is_one_clear_error(run, key) -> None:
    with socket.socket() as sock:  # a loopback port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v3/SECRET-IN-PATH?{SECRET_QUERY}"
    for what in ("head", "state"):
        with pytest.raises(ChainRpcError) as raised:
            read(run, url, key, what)
        assert str(raised.value).startswith(f"{what}: NEAR RPC http://127.0.0.1:{port} failed: RPC request failed")
        assert_clean(raised.value, key)
