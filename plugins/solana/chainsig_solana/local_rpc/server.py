"""The HTTP side of the local Solana RPC (aiohttp): JSON-RPC 2.0 over POST, on loopback.

Single requests and batches, notifications (no ``id``) answered with nothing, Solana's error
objects; malformed requests get an error answer and never take the server down. ``GET /health``
answers ``ok`` like a validator.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import threading
from collections.abc import Callable
from typing import Any, TypedDict

from aiohttp import web

from chainsig_core import InvalidInputError

from .errors import INTERNAL_ERROR, INVALID_REQUEST, PARSE_ERROR, RpcMethodError
from chainsig_core.jsonlimits import JsonBodyError, loads_bounded
from .methods import Methods
from .node import LocalSolanaNode

log = logging.getLogger(__name__)

MAX_REQUEST_BODY_BYTES = 50 * 1024
"""Solana's RPC limit on a request body."""
MAX_BATCH = 1000


class ResponseJSON(TypedDict, total=False):
    """A JSON-RPC 2.0 response."""

    jsonrpc: str
    result: Any
    error: dict[str, Any]
    id: Any


def check_loopback(host: str) -> str:
    """Return ``host`` if it is a loopback address (the faucet has no authentication).

    Raises
    ------
    InvalidInputError
    """
    if host == "localhost":
        return host
    try:
        if ipaddress.ip_address(host).is_loopback:
            return host
    except ValueError:
        pass
    raise InvalidInputError(f"the local Solana RPC listens on loopback only, not {host!r}")


def make_app(node: LocalSolanaNode) -> web.Application:
    """The aiohttp application serving ``node``."""
    methods = Methods(node)
    app = web.Application(client_max_size=MAX_REQUEST_BODY_BYTES)

    async def rpc(request: web.Request) -> web.StreamResponse:
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413, text="Payload Too Large")
        try:
            # Depth-bounded before parsing (a validator's serde_json stops at 128 levels): deep
            # nesting is a parse error here, not a RecursionError that aiohttp turns into a 500.
            payload = loads_bounded(body)
        except JsonBodyError:
            return web.json_response(_error(None, RpcMethodError(PARSE_ERROR, "Parse error")))
        if isinstance(payload, list):
            if not payload or len(payload) > MAX_BATCH:
                return web.json_response(_error(None, RpcMethodError(INVALID_REQUEST, "Invalid request")))
            answers = [a for a in (_handle(methods, item) for item in payload) if a is not None]
            return web.json_response(answers) if answers else web.Response(status=200)
        answer = _handle(methods, payload)
        return web.json_response(answer) if answer is not None else web.Response(status=200)

    async def not_allowed(request: web.Request) -> web.StreamResponse:
        return web.Response(status=405, text="Used HTTP Method is not allowed. POST or OPTIONS is required")

    async def health(request: web.Request) -> web.StreamResponse:
        return web.Response(text="ok")

    app.router.add_post("/", rpc)
    app.router.add_get("/health", health)
    app.router.add_route("*", "/", not_allowed)
    return app


def _handle(methods: Methods, request: Any) -> ResponseJSON | None:
    if not isinstance(request, dict) or request.get("jsonrpc") != "2.0" or not isinstance(request.get("method"), str):
        rid = request.get("id") if isinstance(request, dict) and _valid_id(request.get("id")) else None
        return _error(rid, RpcMethodError(INVALID_REQUEST, "Invalid request"))
    if "id" in request and not _valid_id(request["id"]):
        return _error(None, RpcMethodError(INVALID_REQUEST, "Invalid request"))
    notification = "id" not in request
    rid = request.get("id")
    params = request.get("params", [])
    try:
        if params is None:
            params = []
        if not isinstance(params, list):
            raise RpcMethodError(-32602, "Invalid params: invalid type: map, expected a sequence")
        result = methods.call(request["method"], params)
        answer: ResponseJSON = {"jsonrpc": "2.0", "result": result, "id": rid}
    except RpcMethodError as exc:
        answer = _error(rid, exc)
    except Exception:  # a bug must answer an error, never take the server down
        log.exception("local Solana RPC: %s failed", request["method"])
        answer = _error(rid, RpcMethodError(INTERNAL_ERROR, "Internal error"))
    return None if notification else answer


def _valid_id(value: Any) -> bool:
    return value is None or isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _error(rid: Any, exc: RpcMethodError) -> ResponseJSON:
    return {"jsonrpc": "2.0", "error": dict(exc.to_json()), "id": rid}


async def start_site(node: LocalSolanaNode, host: str, port: int) -> tuple[web.AppRunner, str]:
    """Start serving; returns the runner and the URL (the real port when ``port`` is 0)."""
    check_loopback(host)
    runner = web.AppRunner(make_app(node), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise InvalidInputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    bound_host, bound_port = runner.addresses[0][:2]
    shown = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
    return runner, f"http://{shown}:{bound_port}"


def serve_forever(host: str, port: int, on_ready: Callable[[str], None]) -> None:
    """Serve in this thread until SIGINT/SIGTERM; ``on_ready(url)`` once listening."""
    import signal

    async def main() -> None:
        node = LocalSolanaNode()
        runner, url = await start_site(node, host, port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        on_ready(url)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

    asyncio.run(main())


class LocalRpcServer:
    """The local RPC on a background thread (tests, embedding). Use as a context manager.

    Parameters
    ----------
    node:
        The ledger to serve (a fresh :class:`LocalSolanaNode` by default).
    host, port:
        Loopback address; port 0 picks a free port (see :attr:`url`).
    """

    def __init__(self, node: LocalSolanaNode | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.node = node or LocalSolanaNode()
        self.host = check_loopback(host)
        self.port = port
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    def start(self) -> LocalRpcServer:
        """Start and wait until the server listens."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._runner, self.url = loop.run_until_complete(start_site(self.node, self.host, self.port))
            except BaseException as exc:  # reported to start()'s caller
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="solana-local-rpc", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        """Stop serving and join the thread."""
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

    def __enter__(self) -> LocalRpcServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
