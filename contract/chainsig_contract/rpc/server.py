"""The devnet host process: block producer + NEAR JSON-RPC over aiohttp (loopback)."""

from __future__ import annotations

import asyncio
import logging
import traceback
from typing import Any

from aiohttp import web

from ..host.chain import Chain
from chainsig_core.jsonlimits import JsonBodyError, loads_bounded
from .errors import RpcFailure, internal_error, method_not_found, parse_error
from .methods import RpcMethods

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 4 * 2**20
"""Largest JSON-RPC request body accepted (a 1.5 MiB transaction in base64 fits)."""
SHUTDOWN_GRACE_SECONDS = 2.0
"""How long requests still running at stop may take before they are cancelled."""


class HostServer:
    """Runs the chain's block loop and serves JSON-RPC on ``host:port``.

    Parameters
    ----------
    chain:
        An initialized :class:`Chain`.
    block_ms:
        Block interval in milliseconds.
    host, port:
        Where to listen (``port=0`` picks a free port; see :attr:`port` after :meth:`start`).
    wait_timeout:
        See :class:`RpcMethods`.
    """

    def __init__(self, chain: Chain, *, block_ms: int = 100, host: str = "127.0.0.1",
                 port: int = 3030, wait_timeout: float = 10.0) -> None:
        self.chain = chain
        self.block_ms = block_ms
        self.host = host
        self.port = port
        self.methods = RpcMethods(chain, wait_timeout)
        self._runner: web.AppRunner | None = None
        self._producer: asyncio.Task[None] | None = None
        self.block_listeners: list[Any] = []

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_post("/", self._handle)
        app.router.add_get("/status", self._get_status)
        app.router.add_get("/health", self._get_health)
        # Requests still running at stop are long polls for a transaction, which stop() answers
        # at once; the short grace bounds the rest so SIGTERM ends the host promptly.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_GRACE_SECONDS)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server  # noqa: SLF001 - aiohttp exposes the bound port only here
        if server is not None and self.port == 0:
            self.port = server.sockets[0].getsockname()[1]
        self.methods.rpc_addr = f"{self.host}:{self.port}"
        self._producer = asyncio.create_task(self._produce_blocks())

    async def stop(self) -> None:
        await self.chain.release_waiters()
        if self._producer is not None:
            self._producer.cancel()
            try:
                await self._producer
            except asyncio.CancelledError:
                pass
        if self._runner is not None:
            await self._runner.cleanup()

    async def _produce_blocks(self) -> None:
        interval = self.block_ms / 1000
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            try:
                self.chain.produce_block()
            except Exception:  # a bug in block production must not stop the chain silently
                log.exception("block production failed")
                raise
            await self.chain.notify()
            if loop.time() - next_at > 5 * interval:
                next_at = loop.time()

    async def _get_status(self, request: web.Request) -> web.Response:
        return web.json_response(await self.methods.status(None))

    async def _get_health(self, request: web.Request) -> web.Response:
        return web.json_response(None)

    async def _handle(self, request: web.Request) -> web.Response:
        request_id: Any = None
        method_name = "request"
        try:
            if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
                raise _too_large()
            body = await request.content.read(MAX_BODY_BYTES + 1)
            if len(body) > MAX_BODY_BYTES:
                raise _too_large()
            try:
                # Depth-bounded before parsing (nearcore's serde_json limit of 128): a deeply
                # nested body is a parse error, not a RecursionError halfway through json.loads.
                message = loads_bounded(body)
            except JsonBodyError as exc:
                raise parse_error(str(exc)) from None
            if not isinstance(message, dict):
                raise parse_error("a JSON-RPC request must be an object (batches are not supported)")
            request_id = message.get("id")
            method = message.get("method")
            if not isinstance(method, str):
                raise parse_error("request has no method")
            handler = self.methods.table.get(method)
            method_name = method[:40]
            if handler is None:
                raise method_not_found(method[:100])
            result = await handler(message.get("params"))
            return web.json_response({"jsonrpc": "2.0", "id": request_id, "result": result})
        except RpcFailure as failure:
            return web.json_response({"jsonrpc": "2.0", "id": _safe_id(request_id), "error": failure.body},
                                     status=failure.status)
        except Exception as exc:  # never crash on a request; a bug here is the host's, not the client's
            log.error("internal error serving JSON-RPC %r: %s", method_name, _one_line(exc))
            log.debug("traceback of the internal error", exc_info=True)
            failure = internal_error(f"{type(exc).__name__}")
            return web.json_response({"jsonrpc": "2.0", "id": _safe_id(request_id), "error": failure.body},
                                     status=failure.status)


def _too_large() -> RpcFailure:
    failure = parse_error(f"request body is larger than {MAX_BODY_BYTES} bytes")
    failure.status = 413
    return failure


def _one_line(exc: BaseException) -> str:
    """``Type: message (file:line)`` of the innermost frame: one log line per failed request."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" ({frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno})" if frames else ""
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"{type(exc).__name__}: {text}{where}"


def _safe_id(value: Any) -> Any:
    return value if isinstance(value, str | int) and not isinstance(value, bool) else None
