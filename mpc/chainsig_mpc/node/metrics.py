"""Node metrics in Prometheus' text format, and a ``/health`` + ``/metrics`` HTTP endpoint.

Standard library only: the exposition format (version 0.0.4) is a few lines of text and the
endpoint answers two GET paths, so a small asyncio server is enough and adds no dependency to
the node (``prometheus_client`` would be the drop-in replacement if more is ever needed). The
server reads at most one bounded request per connection, answers and closes; a malformed
request gets a 4xx, never a crashed node.

Example::

    metrics = NodeMetrics()
    metrics.sign_requests.inc(domain="0", outcome="signed")
    metrics.sign_latency.observe(0.42, domain="0")
    server = MetricsServer(metrics.registry, "127.0.0.1", 9101, health=lambda: {"indexer_height": 7})
    await server.start()
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_MAX_REQUEST_BYTES = 8192

LabelKey = tuple[tuple[str, str], ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(key: LabelKey, extra: Iterable[tuple[str, str]] = ()) -> str:
    pairs = list(key) + list(extra)
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in pairs) + "}" if pairs else ""


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class _Metric:
    kind = "untyped"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        self.name = name
        self.help = help_text
        self.label_names = tuple(labels)
        self._lock = threading.Lock()

    def _key(self, labels: Mapping[str, Any]) -> LabelKey:
        if set(labels) != set(self.label_names):
            raise ValueError(f"{self.name} takes labels {self.label_names}, got {tuple(labels)}")
        return tuple((name, str(labels[name])) for name in self.label_names)

    def render(self) -> list[str]:
        help_text = self.help.replace("\\", "\\\\").replace("\n", "\\n")
        return [f"# HELP {self.name} {help_text}", f"# TYPE {self.name} {self.kind}", *self._samples()]

    def _samples(self) -> list[str]:  # pragma: no cover - overridden
        raise NotImplementedError


class Counter(_Metric):
    """A monotonically increasing count (per label set)."""

    kind = "counter"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        super().__init__(name, help_text, labels)
        self._values: dict[LabelKey, float] = {}

    def inc(self, amount: float = 1, **labels: Any) -> None:
        """Add ``amount`` (≥ 0).

        Raises
        ------
        ValueError
            For a negative amount or the wrong labels.
        """
        if amount < 0:
            raise ValueError("a counter only goes up")
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0) + amount

    def value(self, **labels: Any) -> float:
        """The current count."""
        return self._values.get(self._key(labels), 0)

    def _samples(self) -> list[str]:
        with self._lock:
            return [f"{self.name}{_labels(k)} {_number(v)}" for k, v in sorted(self._values.items())]


class Gauge(_Metric):
    """A value that goes up and down (per label set)."""

    kind = "gauge"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        super().__init__(name, help_text, labels)
        self._values: dict[LabelKey, float] = {}

    def set(self, value: float, **labels: Any) -> None:
        """Set the value."""
        key = self._key(labels)
        with self._lock:
            self._values[key] = value

    def value(self, **labels: Any) -> float:
        """The current value (0 if never set)."""
        return self._values.get(self._key(labels), 0)

    def _samples(self) -> list[str]:
        with self._lock:
            return [f"{self.name}{_labels(k)} {_number(v)}" for k, v in sorted(self._values.items())]


class Histogram(_Metric):
    """Observations in cumulative buckets, with their sum and count (per label set)."""

    kind = "histogram"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = (),
                 buckets: Sequence[float] = DEFAULT_LATENCY_BUCKETS) -> None:
        super().__init__(name, help_text, labels)
        if list(buckets) != sorted(set(buckets)) or not buckets:
            raise ValueError("histogram buckets must be strictly increasing")
        self.buckets = tuple(buckets) + ((math.inf,) if buckets[-1] != math.inf else ())
        self._series: dict[LabelKey, tuple[list[int], list[float]]] = {}

    def observe(self, value: float, **labels: Any) -> None:
        """Record one observation."""
        key = self._key(labels)
        with self._lock:
            counts, total = self._series.setdefault(key, ([0] * len(self.buckets), [0.0]))
            for index, bound in enumerate(self.buckets):
                if value <= bound:
                    counts[index] += 1
            total[0] += value

    def count(self, **labels: Any) -> int:
        """Observations recorded."""
        series = self._series.get(self._key(labels))
        return series[0][-1] if series else 0

    def _samples(self) -> list[str]:
        lines: list[str] = []
        with self._lock:
            for key, (counts, total) in sorted(self._series.items()):
                for bound, count in zip(self.buckets, counts, strict=True):
                    lines.append(f"{self.name}_bucket{_labels(key, [('le', _number(bound))])} {count}")
                lines.append(f"{self.name}_sum{_labels(key)} {_number(total[0])}")
                lines.append(f"{self.name}_count{_labels(key)} {counts[-1]}")
        return lines


class Registry:
    """The metrics a node exposes, rendered together."""

    def __init__(self) -> None:
        self._metrics: dict[str, _Metric] = {}

    def register(self, metric: _Metric) -> Any:
        """Add a metric (names are unique); returns it."""
        if metric.name in self._metrics:
            raise ValueError(f"metric {metric.name} is already registered")
        self._metrics[metric.name] = metric
        return metric

    def render(self) -> str:
        """Prometheus text exposition (format 0.0.4)."""
        lines: list[str] = []
        for metric in self._metrics.values():
            lines.extend(metric.render())
        return "\n".join(lines) + "\n"


class NodeMetrics:
    """The metrics the node service records (names prefixed ``chainsig_mpc_``).

    Counters are updated where things happen; gauges are set just before each scrape (see
    :class:`MetricsServer`'s ``collect``).
    """

    def __init__(self) -> None:
        r = self.registry = Registry()
        self.requests: Counter = r.register(Counter(
            "chainsig_mpc_requests_total", "Sign requests the indexer found, by domain.", ["domain"]))
        self.sign_requests: Counter = r.register(Counter(
            "chainsig_mpc_sign_requests_total", "Sign requests this node followed to an end, by "
            "domain and outcome (signed: this node responded; answered: answered by another node "
            "or timed out; failed: attempts exhausted; skipped: no share or not a holder).",
            ["domain", "outcome"]))
        self.signatures: Counter = r.register(Counter(
            "chainsig_mpc_signatures_total", "Signatures this node coordinated and responded.", ["domain"]))
        self.failures: Counter = r.register(Counter(
            "chainsig_mpc_failures_total", "Failed signing attempts (each retried) by reason.", ["reason"]))
        self.sign_latency: Histogram = r.register(Histogram(
            "chainsig_mpc_sign_latency_seconds", "From the request found by the indexer to its respond "
            "accepted, for requests this node coordinated.", ["domain"]))
        self.protocol_failures: Counter = r.register(Counter(
            "chainsig_mpc_protocol_failures_total", "Protocol runs that aborted, by protocol and "
            "the culprit participant the checks named ('unknown' if none).", ["protocol", "culprit"]))
        self.peer_exclusions: Counter = r.register(Counter(
            "chainsig_mpc_peer_exclusions_total", "Peers this node left out of its signer sets, by "
            "peer and reason (sign/presign: named by a check; ecdsa-share: found by elimination "
            "after ECDSA signatures that did not verify).", ["peer", "reason"]))
        self.peers_excluded: Gauge = r.register(Gauge(
            "chainsig_mpc_peers_excluded", "Peers currently left out of this node's signer sets."))
        self.messages_dropped: Counter = r.register(Counter(
            "chainsig_mpc_messages_dropped_total", "Peer messages dropped as malformed or invalid "
            "(the peer stays connected)."))
        self.presign_runs: Counter = r.register(Counter(
            "chainsig_mpc_presign_runs_total", "Presignature generation runs this node started."))
        self.dkg_runs: Counter = r.register(Counter(
            "chainsig_mpc_dkg_runs_total", "Distributed key generation runs this node started."))
        self.pool_size: Gauge = r.register(Gauge(
            "chainsig_mpc_pool_size", "Signing material this node can coordinate with, by kind "
            "(presignatures, frost_nonce_sets) and domain.", ["kind", "domain"]))
        self.presignatures_held: Gauge = r.register(Gauge(
            "chainsig_mpc_presignatures_held", "Presignature shares stored (own and other coordinators')."))
        self.frost_nonces_held: Gauge = r.register(Gauge(
            "chainsig_mpc_frost_nonces_held", "FROST nonce shares stored."))
        self.peers_connected: Gauge = r.register(Gauge(
            "chainsig_mpc_peers_connected", "Peers with an established TLS connection."))
        self.peer_refused: Counter = r.register(Counter(
            "chainsig_mpc_peer_connections_refused_total", "Peer connections refused (unknown "
            "key, bad frames)."))
        self.indexer_height: Gauge = r.register(Gauge(
            "chainsig_mpc_indexer_height", "Last final block the indexer processed."))
        self.indexer_rpc_errors: Counter = r.register(Counter(
            "chainsig_mpc_indexer_rpc_errors_total", "NEAR RPC calls of the indexer that failed."))

    def protocol_failed(self, protocol: str, culprits: Iterable[int]) -> None:
        """Count an aborted run once per named culprit (or once as 'unknown')."""
        named = list(culprits)
        for culprit in named or ["unknown"]:
            self.protocol_failures.inc(protocol=protocol, culprit=str(culprit))


Health = Callable[[], Mapping[str, Any]]
"""Returns the node's health details; a ``"healthy": False`` entry makes /health answer 503."""


class MetricsServer:
    """``GET /health`` (JSON) and ``GET /metrics`` (Prometheus text) on one address.

    Parameters
    ----------
    registry:
        What ``/metrics`` renders.
    host, port:
        Where to listen (port 0: any free port, see :attr:`port`).
    health:
        Details for ``/health``; exceptions there answer 503, never crash the server.
    collect:
        Called before each ``/metrics`` render to bring gauges up to date; an exception
        there answers 500 (logged), never crashes the server.
    """

    def __init__(self, registry: Registry, host: str = "127.0.0.1", port: int = 0,
                 health: Health | None = None, collect: Callable[[], None] | None = None) -> None:
        self.registry = registry
        self._address = (host, port)
        self._health = health or (lambda: {})
        self._collect = collect or (lambda: None)
        self._server: asyncio.base_events.Server | None = None

    @property
    def port(self) -> int:
        """The bound port (after :meth:`start`)."""
        assert self._server is not None and self._server.sockets
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        """``http://host:port``."""
        return f"http://{self._address[0]}:{self.port}"

    async def start(self) -> None:
        """Start listening.

        Raises
        ------
        OSError
            If the address cannot be bound.
        """
        self._server = await asyncio.start_server(self._serve, *self._address, limit=_MAX_REQUEST_BYTES)

    async def close(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            status, content_type, body = await asyncio.wait_for(self._answer(reader), 5)
        except (asyncio.TimeoutError, asyncio.LimitOverrunError, asyncio.IncompleteReadError, ValueError,
                ConnectionError):
            status, content_type, body = 400, "text/plain", b"bad request\n"
        except Exception:  # a bug must not take the node down; it shows as a 500
            log.exception("metrics endpoint failed")
            status, content_type, body = 500, "text/plain", b"internal error\n"
        head = (f"HTTP/1.1 {status} {_REASONS[status]}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
        try:
            writer.write(head.encode() + body)
            await writer.drain()
            writer.close()
        except ConnectionError:
            pass

    async def _answer(self, reader: asyncio.StreamReader) -> tuple[int, str, bytes]:
        head = await reader.readuntil(b"\r\n\r\n")  # bounded by the stream limit
        parts = head.split(b"\r\n", 1)[0].decode("latin-1").split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            return 400, "text/plain", b"bad request\n"
        method, target = parts[0], parts[1].split("?", 1)[0]
        if target not in ("/health", "/metrics"):
            return 404, "text/plain", b"not found\n"
        if method != "GET":
            return 405, "text/plain", b"method not allowed\n"
        if target == "/metrics":
            self._collect()
            return 200, "text/plain; version=0.0.4; charset=utf-8", self.registry.render().encode()
        try:
            details = dict(self._health())
        except Exception as exc:  # report, do not crash
            details = {"healthy": False, "error": type(exc).__name__}
        healthy = details.pop("healthy", True) is not False
        body = json.dumps({"status": "ok" if healthy else "unhealthy", **details}, default=str)
        return (200 if healthy else 503), "application/json", body.encode() + b"\n"


_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            500: "Internal Server Error", 503: "Service Unavailable"}
