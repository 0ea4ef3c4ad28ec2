"""A local HTTP server on 127.0.0.1 that records requests and serves canned responses.

Chain plugins talk to REST or JSON-RPC nodes; where no real node can run in a test, this
server stands in for one with bodies in the exact shape the real API documents, and records
what the plugin sent so the test can check it. Standard library only (``http.server`` in a
thread): nothing to install, nothing reaches the network.

Example::

    with RecordingHTTPServer() as server:
        server.add("GET", "/cosmos/bank/v1beta1/balances/cosmos1…", json={"balances": []})
        server.add("POST", "/rpc", handler=lambda request: CannedResponse(json={...}))
        ... plugin code using server.url ...
        assert server.requests[0].path == "/cosmos/bank/v1beta1/balances/cosmos1…"
"""

from __future__ import annotations

import json as jsonlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

#: Largest request body the server accepts (bigger ones are answered 413 and recorded).
MAX_BODY = 16 * 1024 * 1024


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON (raises ``ValueError`` if it is not)."""
        return jsonlib.loads(self.body)


@dataclass(frozen=True)
class CannedResponse:
    """What the server answers: ``json`` (serialised) or raw ``body``, with a status."""

    status: int = 200
    json: Any = None
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def encode(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        if self.body is not None:
            return self.body, headers
        headers.setdefault("Content-Type", "application/json")
        return jsonlib.dumps(self.json).encode(), headers


Handler = Callable[[RecordedRequest], CannedResponse]


@dataclass
class _Route:
    method: str
    path: str
    prefix: bool
    handler: Handler
    times: int | None


class RecordingHTTPServer:
    """Serve canned responses on ``127.0.0.1:<free port>`` and record every request.

    Routes match on method and path (without the query); the most recently added matching
    route wins, so a test can override a default. A request that matches nothing is answered
    ``404 {"error": "no canned response for METHOD PATH"}`` — and recorded, so the test sees it.
    The server never crashes on a bad request: a handler that raises answers 500.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._routes: list[_Route] = []
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._server = ThreadingHTTPServer((host, port), self._make_handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:41234`` (no trailing slash)."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> RecordingHTTPServer:
        """Start serving in a daemon thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                name="chainsig-recording-http", daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> RecordingHTTPServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- routes ----------------------------------------------------------------------------

    def add(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        body: bytes | None = None,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        handler: Handler | None = None,
        prefix: bool = False,
        times: int | None = None,
    ) -> None:
        """Answer ``method path`` with a canned response or with ``handler(request)``.

        Parameters
        ----------
        method:
            HTTP method (``"GET"``, ``"POST"``), or ``"*"`` for any.
        path:
            The path to match (query excluded); with ``prefix=True`` every path starting with it.
        json, body, status, headers:
            The canned response (ignored when ``handler`` is given).
        handler:
            Computes the response from the :class:`RecordedRequest`.
        times:
            Serve this route only that many times (then it no longer matches).
        """
        if handler is None:
            canned = CannedResponse(status, json, body, dict(headers or {}))

            def handler(_request: RecordedRequest, _canned: CannedResponse = canned) -> CannedResponse:
                return _canned

        with self._lock:
            self._routes.append(_Route(method.upper(), path, prefix, handler, times))

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in order (a copy)."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        """The recorded requests for ``path`` (and ``method``, when given)."""
        return [
            r for r in self.requests if r.path == path and (method is None or r.method == method.upper())
        ]

    def clear(self) -> None:
        """Forget recorded requests (routes stay)."""
        with self._lock:
            self._requests.clear()

    def _respond(self, request: RecordedRequest) -> CannedResponse:
        with self._lock:
            self._requests.append(request)
            route = next((r for r in reversed(self._routes) if self._matches(r, request)), None)
            if route is not None and route.times is not None:
                route.times -= 1
        if route is None:
            return CannedResponse(404, {"error": f"no canned response for {request.method} {request.path}"})
        try:
            return route.handler(request)
        except Exception as exc:  # noqa: BLE001 - a test handler's bug must not kill the server
            return CannedResponse(500, {"error": f"handler failed: {type(exc).__name__}: {exc}"})

    @staticmethod
    def _matches(route: _Route, request: RecordedRequest) -> bool:
        if route.times is not None and route.times <= 0:
            return False
        if route.method not in ("*", request.method):
            return False
        return request.path.startswith(route.path) if route.prefix else request.path == route.path

    def _make_handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                except ValueError:
                    length = -1
                too_big = length > MAX_BODY or length < 0
                body = b"" if too_big else self.rfile.read(length)
                request = RecordedRequest(
                    self.command, parts.path, parse_qs(parts.query), dict(self.headers.items()), body
                )
                if too_big:
                    with server._lock:
                        server._requests.append(request)
                    response = CannedResponse(413, {"error": "request body too large or malformed length"})
                    self.close_connection = True
                else:
                    response = server._respond(request)
                payload, headers = response.encode()
                self.send_response(response.status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return  # keep test output clean; requests are recorded instead

        return _RequestHandler

