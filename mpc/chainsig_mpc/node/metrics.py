"""Node metrics on ``prometheus_client``, and a ``/health`` + ``/metrics`` HTTP endpoint.

The metric types, their thread safety, label handling and the Prometheus text exposition
(escaping, number formatting, cumulative buckets) are ``prometheus_client``'s. This module
adds three things on top:

* :class:`Counter`, :class:`Gauge` and :class:`Histogram` adapt its metrics to the calls the
  node service makes (``inc(domain="0")`` rather than ``labels(domain="0").inc()``), check the
  label set and read values back through the public collector interface.
* :class:`NodeMetrics` registers them in its own ``CollectorRegistry`` — never the library's
  global default registry, so several nodes (and tests) live in one process.
* :class:`MetricsServer` serves ``/health`` (JSON) and ``/metrics`` (``generate_latest``) from
  the node's event loop. It reads at most one bounded request per connection within a
  deadline, answers and closes; a malformed request gets a 4xx, never a crashed node.

Example::

    metrics = NodeMetrics()
    metrics.sign_requests.inc(domain="0", outcome="signed")
    metrics.sign_latency.observe(0.42, domain="0")
    server = MetricsServer(metrics.registry, "127.0.0.1", 9101,
                           health=lambda: {"indexer_height": 7})
    await server.start()
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import prometheus_client
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import CollectorRegistry

log = logging.getLogger(__name__)

DEFAULT_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
"""Seconds. Signing waits for NEAR blocks (about a second each) and retries, so the buckets
reach a minute; ``prometheus_client``'s defaults stop at 10 s."""

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
"""What ``generate_latest`` writes: text format 0.0.4. (``CONTENT_TYPE_LATEST`` names 1.0.0
since prometheus_client 0.23; the library's own servers send that only to a scraper that asks
for it, and 0.0.4 otherwise.)"""

_MAX_REQUEST_BYTES = 8192


class _Adapter:
    """A ``prometheus_client`` metric with labels passed as keyword arguments."""

    def __init__(self, metric: Any, name: str, label_names: Sequence[str]) -> None:
        self._metric = metric
        self.name = name
        self.label_names = tuple(label_names)

    def _labels(self, labels: Mapping[str, Any]) -> dict[str, str]:
        if set(labels) != set(self.label_names):
            raise ValueError(f"{self.name} takes labels {self.label_names}, got {tuple(labels)}")
        return {name: str(labels[name]) for name in self.label_names}

    def _child(self, labels: Mapping[str, Any]) -> Any:
        checked = self._labels(labels)
        return self._metric.labels(**checked) if self.label_names else self._metric

    def _sample(self, sample_name: str, labels: Mapping[str, Any]) -> float:
        """A sample's current value (0 for a label set never recorded), read through the
        metric's own ``collect()`` — public, and it only walks this metric (the registry's
        ``get_sample_value`` walks all of them)."""
        wanted = self._labels(labels)
        for family in self._metric.collect():
            for sample in family.samples:
                if sample.name == sample_name and sample.labels == wanted:
                    return float(sample.value)
        return 0.0


class Counter(_Adapter):
    """A monotonically increasing count (per label set).

    Parameters
    ----------
    name:
        The exported name; ``prometheus_client`` exports counters as ``<base>_total``, so a
        name without that suffix gets it.
    help_text, labels:
        The ``# HELP`` text and the label names.
    registry:
        Where it is registered (required: never the library's global registry).

    Raises
    ------
    ValueError
        If the name is taken in ``registry`` or a name is not a valid Prometheus name.
    """

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = (), *,
                 registry: CollectorRegistry) -> None:
        exported = name if name.endswith("_total") else name + "_total"
        metric = prometheus_client.Counter(exported, help_text, list(labels), registry=registry)
        super().__init__(metric, exported, labels)

    def inc(self, amount: float = 1, **labels: Any) -> None:
        """Add ``amount`` (≥ 0).

        Raises
        ------
        ValueError
            For a negative amount or the wrong labels.
        """
        self._child(labels).inc(amount)

    def value(self, **labels: Any) -> float:
        """The current count (0 for a label set never counted).

        Raises
        ------
        ValueError
            For the wrong labels.
        """
        return self._sample(self.name, labels)


class Gauge(_Adapter):
    """A value that goes up and down (per label set); parameters as :class:`Counter`."""

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = (), *,
                 registry: CollectorRegistry) -> None:
        metric = prometheus_client.Gauge(name, help_text, list(labels), registry=registry)
        super().__init__(metric, name, labels)

    def set(self, value: float, **labels: Any) -> None:
        """Set the value.

        Raises
        ------
        ValueError
            For the wrong labels.
        """
        self._child(labels).set(value)

    def value(self, **labels: Any) -> float:
        """The current value (0 if never set)."""
        return self._sample(self.name, labels)


class Histogram(_Adapter):
    """Observations in cumulative buckets, with their sum and count (per label set).

    ``buckets`` are upper bounds in increasing order; ``+Inf`` is added when missing. Other
    parameters as :class:`Counter`.

    Raises
    ------
    ValueError
        For buckets not in increasing order (and as :class:`Counter`).
    """

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = (), *,
                 registry: CollectorRegistry,
                 buckets: Sequence[float] = DEFAULT_LATENCY_BUCKETS) -> None:
        metric = prometheus_client.Histogram(name, help_text, list(labels), registry=registry,
                                             buckets=tuple(buckets))
        super().__init__(metric, name, labels)

    def observe(self, value: float, **labels: Any) -> None:
        """Record one observation.

        Raises
        ------
        ValueError
            For the wrong labels.
        """
        self._child(labels).observe(value)

    def count(self, **labels: Any) -> int:
        """Observations recorded."""
        return int(self._sample(self.name + "_count", labels))


class _WithoutCreatedSeries:
    """The registry's metrics minus the ``<name>_created`` timestamp series.

    ``prometheus_client`` adds a creation-time sample to every counter and histogram, which the
    0.0.4 text format exports as one more gauge per series. The node documents (and dashboards
    read) exactly its metrics table, and the library's only switch for this is process-wide
    (``disable_created_metrics``), so the endpoint leaves them out here instead.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        for family in self._registry.collect():
            created = family.name + "_created"
            family.samples = [sample for sample in family.samples if sample.name != created]
            yield family


def exposition(registry: CollectorRegistry) -> bytes:
    """``registry`` in Prometheus' text format 0.0.4 (:data:`CONTENT_TYPE`), as ``/metrics``
    serves it: ``generate_latest`` without the ``_created`` series."""
    return generate_latest(_WithoutCreatedSeries(registry))


class NodeMetrics:
    """The metrics the node service records (names prefixed ``chainsig_mpc_``).

    Counters are updated where things happen; gauges are set just before each scrape (see
    :class:`MetricsServer`'s ``collect``). :attr:`registry` is this node's own
    ``CollectorRegistry``.
    """

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()

        def counter(name: str, help_text: str, labels: Sequence[str] = ()) -> Counter:
            return Counter(name, help_text, labels, registry=r)

        def gauge(name: str, help_text: str, labels: Sequence[str] = ()) -> Gauge:
            return Gauge(name, help_text, labels, registry=r)

        self.requests = counter(
            "chainsig_mpc_requests_total", "Sign requests the indexer found, by domain.",
            ["domain"])
        self.sign_requests = counter(
            "chainsig_mpc_sign_requests_total", "Sign requests this node followed to an end, by "
            "domain and outcome (signed: this node responded; answered: answered by another node "
            "or timed out; failed: attempts exhausted; skipped: no share or not a holder).",
            ["domain", "outcome"])
        self.signatures = counter(
            "chainsig_mpc_signatures_total", "Signatures this node coordinated and responded.",
            ["domain"])
        self.failures = counter(
            "chainsig_mpc_failures_total", "Failed signing attempts (each retried) by reason.",
            ["reason"])
        self.sign_latency = Histogram(
            "chainsig_mpc_sign_latency_seconds", "From the request found by the indexer to its "
            "respond accepted, for requests this node coordinated.", ["domain"], registry=r)
        self.protocol_failures = counter(
            "chainsig_mpc_protocol_failures_total", "Protocol runs that aborted, by protocol and "
            "the culprit participant the checks named ('unknown' if none).",
            ["protocol", "culprit"])
        self.peer_exclusions = counter(
            "chainsig_mpc_peer_exclusions_total", "Peers this node left out of its signer sets, by "
            "peer and reason (sign/presign: named by a check, never for a timeout; ecdsa-share: "
            "found by elimination after ECDSA signatures that did not verify).", ["peer", "reason"])
        self.peers_excluded = gauge(
            "chainsig_mpc_peers_excluded", "Peers currently left out of this node's signer sets.")
        self.messages_dropped = counter(
            "chainsig_mpc_messages_dropped_total", "Peer envelopes dropped before dispatch as "
            "malformed or invalid (the peer stays connected).")
        self.presign_runs = counter(
            "chainsig_mpc_presign_runs_total", "Presignature generation runs this node started.")
        self.dkg_runs = counter(
            "chainsig_mpc_dkg_runs_total", "Distributed key generation runs this node started.")
        self.pool_size = gauge(
            "chainsig_mpc_pool_size", "Signing material this node can coordinate with, by kind "
            "(presignatures, frost_nonce_sets) and domain.", ["kind", "domain"])
        self.presignatures_held = gauge(
            "chainsig_mpc_presignatures_held", "Presignature shares stored (own and other "
            "coordinators').")
        self.frost_nonces_held = gauge(
            "chainsig_mpc_frost_nonces_held", "FROST nonce shares stored.")
        self.peers_connected = gauge(
            "chainsig_mpc_peers_connected", "Peers with an established TLS connection.")
        self.peer_refused = counter(
            "chainsig_mpc_peer_connections_refused_total", "Peer connections refused (unknown "
            "key, bad frames).")
        self.indexer_height = gauge(
            "chainsig_mpc_indexer_height", "Last final block the indexer processed.")
        self.indexer_rpc_errors = counter(
            "chainsig_mpc_indexer_rpc_errors_total", "NEAR RPC calls of the indexer that failed.")

    def protocol_failed(self, protocol: str, culprits: Iterable[int]) -> None:
        """Count an aborted run once per named culprit (or once as 'unknown')."""
        named = list(culprits)
        for culprit in named or ["unknown"]:
            self.protocol_failures.inc(protocol=protocol, culprit=str(culprit))


Health = Callable[[], Mapping[str, Any]]
"""Returns the node's health details; a ``"healthy": False`` entry makes /health answer 503."""


class MetricsServer:
    """``GET /health`` (JSON) and ``GET /metrics`` (Prometheus text) on one address.

    Why a small asyncio server and not one from a library: ``prometheus_client``'s own servers
    are a thread (``start_http_server``/WSGI) or an ASGI app that needs an ASGI server (a new
    dependency), and the node is one asyncio process. ``aiohttp.web`` (already a dependency)
    was tried: it logs a traceback at ERROR level for every malformed request (any client could
    flood the node's log), answers request lines without an HTTP version as HTTP/0.9, and has
    no deadline for reading a request head. Two GET paths need none of its routing, so this
    reads one request head bounded in size (8 KiB) and time (5 s), answers and closes.

    Parameters
    ----------
    registry:
        What ``/metrics`` renders (:func:`exposition`), e.g. :attr:`NodeMetrics.registry`.
    host, port:
        Where to listen (port 0: any free port, see :attr:`port`).
    health:
        Details for ``/health``; exceptions there answer 503, never crash the server.
    collect:
        Called before each ``/metrics`` render to bring gauges up to date; an exception
        there answers 500 (logged), never crashes the server.
    """

    def __init__(self, registry: CollectorRegistry, host: str = "127.0.0.1", port: int = 0,
                 health: Health | None = None, collect: Callable[[], None] | None = None) -> None:
        self.registry = registry
        self._address = (host, port)
        self._health = health or (dict)
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
        self._server = await asyncio.start_server(self._serve, *self._address,
                                                  limit=_MAX_REQUEST_BYTES)

    async def close(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            status, content_type, body = await asyncio.wait_for(self._answer(reader), 5)
        except (TimeoutError, asyncio.LimitOverrunError, asyncio.IncompleteReadError, ValueError,
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
            return 200, CONTENT_TYPE, exposition(self.registry)
        try:
            details = dict(self._health())
        except Exception as exc:  # report, do not crash
            details = {"healthy": False, "error": type(exc).__name__}
        healthy = details.pop("healthy", True) is not False
        body = json.dumps({"status": "ok" if healthy else "unhealthy", **details}, default=str)
        return (200 if healthy else 503), "application/json", body.encode() + b"\n"


_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            500: "Internal Server Error", 503: "Service Unavailable"}
