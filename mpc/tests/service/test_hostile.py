"""Hostile peers: whatever an authenticated peer sends, the node's dispatcher keeps running
(bad envelopes and messages are dropped and counted; handlers' refusals stay inside)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainsig_mpc.protocols.errors import MessageError
from chainsig_mpc.node.metrics import MetricsServer, NodeMetrics
from chainsig_mpc.service.network import NodeNetwork, encode_envelope

Run = Callable[[Awaitable[Any]], Any]


class FakeTransport:
    """Feeds a fixed list of (peer, bytes) and records what the node sends."""

    def __init__(self, incoming: list[tuple[int, bytes]]) -> None:
        self.incoming = list(incoming)
        self.sent: list[tuple[int, bytes]] = []
        self.drained = asyncio.Event()

    def send(self, peer: int, data: bytes) -> None:
        self.sent.append((peer, data))

    async def recv(self) -> tuple[int, bytes]:
        if not self.incoming:
            self.drained.set()
            await asyncio.Event().wait()
        return self.incoming.pop(0)


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                           max_leaves=12)
envelopes = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.builds(lambda c, t, b: encode_envelope(c, t, b),
              st.sampled_from(["round", "reply", "ecdsa.request", "frost.package", "presign.invite", "nope"]),
              st.text(max_size=30), st.dictionaries(st.text(max_size=5), json_values, max_size=3)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 3), envelopes), max_size=12))
def test_dispatcher_survives_anything(run: Run, traffic: list[tuple[int, bytes]]) -> None:
    async def scenario() -> None:
        transport = FakeTransport(traffic)
        network = NodeNetwork(transport, 0)
        handled: list[str] = []

        async def refuse(peer: int, tag: str, body: dict[str, Any]) -> None:
            handled.append(tag)
            raise MessageError("refused")

        async def crash(peer: int, tag: str, body: dict[str, Any]) -> None:
            raise RuntimeError("a bug in a handler")

        network.handlers["ecdsa.request"] = refuse
        network.handlers["frost.package"] = crash
        task = asyncio.create_task(network.run())
        await asyncio.wait_for(transport.drained.wait(), 10)
        await asyncio.sleep(0)
        assert not task.done()  # still receiving
        task.cancel()

    run(scenario())


def test_service_metrics_names_and_scrape_time_gauges(run: Run) -> None:
    """The names the devnet tests, benchmarks and docs read, served by the node's endpoint;
    gauges are collected at each scrape."""
    import httpx

    metrics = NodeMetrics()
    metrics.requests.inc(domain="0")
    metrics.requests.inc(domain="0")
    metrics.signatures.inc(domain="1")
    metrics.protocol_failed("sign", [3])
    metrics.sign_latency.observe(0.3, domain="0")
    metrics.presign_runs.inc()
    scrapes = []

    def collect() -> None:
        scrapes.append(1)
        metrics.presignatures_held.set(len(scrapes))
        metrics.pool_size.set(5, kind="presignatures", domain="0")

    async def scenario() -> list[str]:
        server = MetricsServer(metrics.registry, health=lambda: {"ok": True, "participant_id": 2},
                               collect=collect)
        await server.start()
        try:
            async with httpx.AsyncClient(base_url=server.url) as client:
                texts = [(await client.get("/metrics")).text for _ in range(2)]
                assert (await client.get("/health")).json() == {"status": "ok", "ok": True, "participant_id": 2}
                return texts
        finally:
            await server.close()

    first, second = run(scenario())
    # read with prometheus_client's parser: label order and number format are the library's
    from prometheus_client.parser import text_string_to_metric_families

    def value(text: str, name: str, **labels: str) -> float:
        return next(s.value for family in text_string_to_metric_families(text)
                    for s in family.samples if s.name == name and s.labels == labels)

    assert value(first, "chainsig_mpc_requests_total", domain="0") == 2
    assert value(first, "chainsig_mpc_signatures_total", domain="1") == 1
    assert value(first, "chainsig_mpc_protocol_failures_total", protocol="sign", culprit="3") == 1
    assert value(first, "chainsig_mpc_sign_latency_seconds_bucket", domain="0", le="0.5") == 1
    assert value(first, "chainsig_mpc_sign_latency_seconds_bucket", domain="0", le="0.25") == 0
    assert value(first, "chainsig_mpc_presign_runs_total") == 1
    assert value(first, "chainsig_mpc_pool_size", kind="presignatures", domain="0") == 5
    assert value(first, "chainsig_mpc_presignatures_held") == 1
    assert value(second, "chainsig_mpc_presignatures_held") == 2
