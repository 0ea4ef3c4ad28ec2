"""Node metrics on prometheus_client, and the /health + /metrics endpoint over real HTTP.

Every exposition is read back with ``prometheus_client.parser`` (the reference parser), so the
tests prove it is valid Prometheus text, not just that it contains some substrings.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from pathlib import Path

import httpx
import prometheus_client
import pytest
from chainsig_mpc.node.metrics import (
    CONTENT_TYPE,
    Counter,
    Gauge,
    Histogram,
    MetricsServer,
    NodeMetrics,
    exposition,
)
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

SERVICE_DOC = Path(__file__).resolve().parents[3] / "docs" / "mpc-service.md"


def parse(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of an exposition: (sample name, labels) → value."""
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def key(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return name, frozenset(labels.items())


def test_counter_gauge_histogram_export_valid_prometheus_text():
    registry = CollectorRegistry()
    requests = Counter("x_requests_total", "Requests.", ["domain", "outcome"], registry=registry)
    pool = Gauge("x_pool_size", "Pool size.", registry=registry)
    latency = Histogram("x_latency_seconds", "Latency.", ["domain"], registry=registry,
                        buckets=(0.5, 1.0))
    weird = 'we"ird\\\n{}'
    requests.inc(domain="0", outcome="signed")
    requests.inc(2, domain=0, outcome="signed")  # label values are strings on the wire
    requests.inc(domain="1", outcome=weird)
    pool.set(17)
    for value in (0.2, 0.7, 3.0):
        latency.observe(value, domain="0")

    text = exposition(registry).decode()
    samples = parse(text)
    assert samples == {
        key("x_requests_total", domain="0", outcome="signed"): 3,
        key("x_requests_total", domain="1", outcome=weird): 1,  # escaped and read back intact
        key("x_pool_size"): 17,
        key("x_latency_seconds_bucket", domain="0", le="0.5"): 1,
        key("x_latency_seconds_bucket", domain="0", le="1.0"): 2,
        key("x_latency_seconds_bucket", domain="0", le="+Inf"): 3,
        key("x_latency_seconds_sum", domain="0"): pytest.approx(3.9),
        key("x_latency_seconds_count", domain="0"): 3,
    }
    assert "# HELP x_requests_total Requests.\n# TYPE x_requests_total counter\n" in text
    assert "_created" not in text  # the library's creation timestamps are not exported
    assert requests.value(domain="0", outcome="signed") == 3 == registry.get_sample_value(
        "x_requests_total", {"domain": "0", "outcome": "signed"})
    assert requests.value(domain="2", outcome="signed") == 0  # never counted
    assert pool.value() == 17 and latency.count(domain="0") == 3 and latency.count(domain="9") == 0
    assert "x_requests_total" not in exposition(CollectorRegistry()).decode()


def test_metric_misuse_is_refused():
    registry = CollectorRegistry()
    counter = Counter("c_total", "C.", ["a"], registry=registry)
    with pytest.raises(ValueError):
        counter.inc(-1, a="x")
    for bad_labels in ({"b": "x"}, {}, {"a": "x", "b": "y"}):
        with pytest.raises(ValueError, match="takes labels"):
            counter.inc(**bad_labels)
        with pytest.raises(ValueError, match="takes labels"):
            counter.value(**bad_labels)
    with pytest.raises(ValueError, match="takes labels"):
        Gauge("g", "G.", registry=registry).set(1, a="x")
    with pytest.raises(ValueError):
        Histogram("h", "H.", registry=registry, buckets=(2.0, 1.0))
    with pytest.raises(ValueError):
        Gauge("c_total", "Taken.", registry=registry)
    assert counter.value(a="x") == 0  # nothing was recorded by the refused calls
    bounded = Histogram("h_seconds", "H.", registry=registry, buckets=(1.0, math.inf))
    bounded.observe(5)
    buckets = [k for k in parse(exposition(registry).decode()) if k[0] == "h_seconds_bucket"]
    assert sorted(dict(labels)["le"] for _, labels in buckets) == ["+Inf", "1.0"]
    unsuffixed = Counter("runs", "Runs.", registry=registry)
    unsuffixed.inc()
    assert unsuffixed.name == "runs_total" and registry.get_sample_value("runs_total") == 1


def test_node_metrics_have_their_own_registry():
    first, second = NodeMetrics(), NodeMetrics()  # two nodes in one process: no name clash
    first.requests.inc(domain="0")
    assert first.requests.value(domain="0") == 1 and second.requests.value(domain="0") == 0
    assert first.registry is not second.registry
    default = prometheus_client.REGISTRY  # the library's process-wide registry stays untouched
    assert default.get_sample_value("chainsig_mpc_requests_total", {"domain": "0"}) is None


def test_node_metrics_count_protocol_failures_per_culprit():
    metrics = NodeMetrics()
    metrics.protocol_failed("ecdsa-sign", [3, 5])
    metrics.protocol_failed("ecdsa-sign", [3])
    metrics.protocol_failed("frost", [])
    samples = parse(exposition(metrics.registry).decode())
    name = "chainsig_mpc_protocol_failures_total"
    assert samples[key(name, protocol="ecdsa-sign", culprit="3")] == 2
    assert samples[key(name, protocol="ecdsa-sign", culprit="5")] == 1
    assert samples[key(name, protocol="frost", culprit="unknown")] == 1


def test_node_metrics_are_exactly_the_documented_table():
    """docs/mpc-service.md's metrics table lists every exported name, its type and labels."""
    rows = re.findall(r"(?m)^\| `(chainsig_mpc_\w+)` \| (\w+) \|([^|]*)\|", SERVICE_DOC.read_text())
    documented = {name: (kind, re.findall(r"`(\w+)`", labels)) for name, kind, labels in rows}
    metrics = NodeMetrics()
    text = exposition(metrics.registry).decode()
    exported = dict(re.findall(r"(?m)^# TYPE (\S+) (\S+)$", text))
    assert {name: kind for name, (kind, _) in documented.items()} == exported
    labels = {metric.name: list(metric.label_names) for metric in vars(metrics).values()
              if isinstance(metric, (Counter, Gauge, Histogram))}
    assert {name: names for name, (_, names) in documented.items()} == labels
    metrics.sign_latency.observe(0.3, domain="0")
    bounds = [dict(labels)["le"] for name, labels in parse(exposition(metrics.registry).decode())
              if name == "chainsig_mpc_sign_latency_seconds_bucket"]
    finite = sorted(float(b) for b in bounds if b != "+Inf")
    assert finite[0] <= 0.1 and finite[-1] >= 60 and "+Inf" in bounds  # sub-second to a minute


def test_endpoint_serves_health_and_metrics_and_survives_bad_requests(run):
    async def scenario():
        metrics = NodeMetrics()
        metrics.sign_requests.inc(domain="0", outcome="signed")
        state = {"healthy": True, "indexer_height": 42}
        server = MetricsServer(metrics.registry, health=lambda: dict(state))
        await server.start()
        try:
            async with httpx.AsyncClient(base_url=server.url) as client:
                response = await client.get("/metrics")
                assert response.status_code == 200
                assert response.headers["content-type"] == CONTENT_TYPE
                assert CONTENT_TYPE.startswith("text/plain; version=0.0.4")
                samples = parse(response.text)
                signed = key("chainsig_mpc_sign_requests_total", domain="0", outcome="signed")
                assert samples[signed] == 1
                health = await client.get("/health")
                assert health.status_code == 200
                assert health.json() == {"status": "ok", "indexer_height": 42}
                state["healthy"] = False
                assert (await client.get("/health")).status_code == 503
                assert (await client.get("/nope")).status_code == 404
                assert (await client.post("/metrics")).status_code == 405
            too_long = b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n"
            for raw in (b"GARBAGE\r\n\r\n", b"GET /metrics\r\n\r\n", too_long, b"GET"):
                reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
                writer.write(raw)
                if raw == b"GET":
                    writer.write_eof()
                await writer.drain()
                answer = await asyncio.wait_for(reader.read(), 5)
                assert answer.startswith(b"HTTP/1.1 400"), answer[:40]
                writer.close()
            state.clear()
            state["boom"] = object()  # not JSON: serialised with str(), still answers
            async with httpx.AsyncClient(base_url=server.url) as client:
                assert (await client.get("/health")).status_code == 200
        finally:
            await server.close()

    run(scenario())


def test_collect_errors_answer_500_and_the_next_scrape_works(run):
    async def scenario():
        metrics = NodeMetrics()
        failing = [True]

        def collect() -> None:
            if failing.pop():
                raise RuntimeError("gauge source down")
            metrics.peers_connected.set(3)

        server = MetricsServer(metrics.registry, collect=collect)
        await server.start()
        try:
            async with httpx.AsyncClient(base_url=server.url) as client:
                assert (await client.get("/metrics")).status_code == 500
                failing.append(False)
                response = await client.get("/metrics")
            assert parse(response.text)[key("chainsig_mpc_peers_connected")] == 3
        finally:
            await server.close()

    run(scenario())


def test_health_callback_errors_answer_503(run):
    async def scenario():
        def broken():
            raise RuntimeError("secret detail")

        server = MetricsServer(CollectorRegistry(), health=broken)
        await server.start()
        try:
            async with httpx.AsyncClient(base_url=server.url) as client:
                response = await client.get("/health")
            assert response.status_code == 503
            assert json.loads(response.text) == {"status": "unhealthy", "error": "RuntimeError"}
        finally:
            await server.close()

    run(scenario())
