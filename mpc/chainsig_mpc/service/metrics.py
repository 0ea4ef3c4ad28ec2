"""Per-node health and Prometheus-text metrics over HTTP (aiohttp), on loopback by default.

``GET /health`` → JSON (participant id, contract state, connected peers, domains with a key,
pool sizes); ``GET /metrics`` → Prometheus text exposition: requests seen, signatures sent,
failures, protocol aborts by culprit, signing latency (sum, count and fixed buckets) and pool
sizes. No secret ever appears here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


@dataclass
class Metrics:
    """Counters the node updates."""

    requests: Counter[int] = field(default_factory=Counter)
    signatures: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    culprits: Counter[int] = field(default_factory=Counter)
    latency_sum: float = 0.0
    latency_count: int = 0
    latency_buckets: Counter[float] = field(default_factory=Counter)
    presign_runs: int = 0
    dkg_runs: int = 0

    def observe_latency(self, seconds: float) -> None:
        """Record the time from seeing a request to its ``respond`` being accepted."""
        self.latency_sum += seconds
        self.latency_count += 1
        for bound in LATENCY_BUCKETS:
            if seconds <= bound:
                self.latency_buckets[bound] += 1

    def prometheus(self, gauges: dict[str, float]) -> str:
        """The Prometheus text exposition."""
        lines = [
            "# HELP chainsig_mpc_requests_total Sign requests seen by the indexer.",
            "# TYPE chainsig_mpc_requests_total counter",
            *(f'chainsig_mpc_requests_total{{domain="{d}"}} {v}' for d, v in sorted(self.requests.items())),
            "# HELP chainsig_mpc_signatures_total Signatures this node coordinated and responded.",
            "# TYPE chainsig_mpc_signatures_total counter",
            *(f'chainsig_mpc_signatures_total{{domain="{d}"}} {v}' for d, v in sorted(self.signatures.items())),
            "# HELP chainsig_mpc_failures_total Failed signing or protocol attempts by reason.",
            "# TYPE chainsig_mpc_failures_total counter",
            *(f'chainsig_mpc_failures_total{{reason="{r}"}} {v}' for r, v in sorted(self.failures.items())),
            "# HELP chainsig_mpc_culprit_total Protocol failures attributed to a participant.",
            "# TYPE chainsig_mpc_culprit_total counter",
            *(f'chainsig_mpc_culprit_total{{participant="{p}"}} {v}' for p, v in sorted(self.culprits.items())),
            "# HELP chainsig_mpc_sign_latency_seconds From request seen to respond accepted.",
            "# TYPE chainsig_mpc_sign_latency_seconds histogram",
        ]
        for bound in LATENCY_BUCKETS:
            lines.append(f'chainsig_mpc_sign_latency_seconds_bucket{{le="{bound}"}} {self.latency_buckets[bound]}')
        lines += [
            f'chainsig_mpc_sign_latency_seconds_bucket{{le="+Inf"}} {self.latency_count}',
            f"chainsig_mpc_sign_latency_seconds_sum {self.latency_sum:.6f}",
            f"chainsig_mpc_sign_latency_seconds_count {self.latency_count}",
            f"chainsig_mpc_presign_runs_total {self.presign_runs}",
            f"chainsig_mpc_dkg_runs_total {self.dkg_runs}",
        ]
        for name, value in sorted(gauges.items()):
            lines.append(f"# TYPE chainsig_mpc_{name} gauge")
            lines.append(f"chainsig_mpc_{name} {value}")
        return "\n".join(lines) + "\n"


class MetricsServer:
    """The HTTP endpoint.

    Parameters
    ----------
    metrics:
        The counters.
    health:
        Returns the health JSON.
    gauges:
        Returns current gauge values (pool sizes, connected peers).
    """

    def __init__(self, metrics: Metrics, health: Callable[[], dict[str, Any]],
                 gauges: Callable[[], dict[str, float]]) -> None:
        self.metrics, self._health, self._gauges = metrics, health, gauges
        self._runner: Any = None
        self.url: str | None = None

    async def start(self, host: str, port: int) -> str:
        """Listen; returns the base URL."""
        from aiohttp import web

        async def health(_request: web.Request) -> web.Response:
            return web.json_response(self._health())

        async def metrics(_request: web.Request) -> web.Response:
            return web.Response(text=self.metrics.prometheus(self._gauges()),
                                content_type="text/plain", charset="utf-8")

        app = web.Application()
        app.router.add_get("/health", health)
        app.router.add_get("/metrics", metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://{host}:{bound}"
        return self.url

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
