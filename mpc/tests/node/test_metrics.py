"""Prometheus text exposition and the /health + /metrics endpoint over real HTTP."""

from __future__ import annotations

import asyncio
import json
import math

import httpx
import pytest

from chainsig_mpc.node.metrics import Counter, Gauge, Histogram, MetricsServer, NodeMetrics, Registry


def test_counter_gauge_histogram_render_in_prometheus_text_format():
    registry = Registry()
    requests = registry.register(Counter("x_requests_total", "Requests.", ["domain", "outcome"]))
    pool = registry.register(Gauge("x_pool_size", "Pool size."))
    latency = registry.register(Histogram("x_latency_seconds", "Latency.", ["domain"], buckets=(0.5, 1.0)))
    requests.inc(domain="0", outcome="signed")
    requests.inc(2, domain="0", outcome="signed")
    requests.inc(domain="1", outcome='we"ird\\\n')
    pool.set(17)
    for value in (0.2, 0.7, 3.0):
        latency.observe(value, domain="0")
    assert registry.render() == (
        "# HELP x_requests_total Requests.\n"
        "# TYPE x_requests_total counter\n"
        'x_requests_total{domain="0",outcome="signed"} 3\n'
        'x_requests_total{domain="1",outcome="we\\"ird\\\\\\n"} 1\n'
        "# HELP x_pool_size Pool size.\n"
        "# TYPE x_pool_size gauge\n"
        "x_pool_size 17\n"
        "# HELP x_latency_seconds Latency.\n"
        "# TYPE x_latency_seconds histogram\n"
        'x_latency_seconds_bucket{domain="0",le="0.5"} 1\n'
        'x_latency_seconds_bucket{domain="0",le="1"} 2\n'
        'x_latency_seconds_bucket{domain="0",le="+Inf"} 3\n'
        'x_latency_seconds_sum{domain="0"} 3.9\n'
        'x_latency_seconds_count{domain="0"} 3\n'
    )
    assert latency.count(domain="0") == 3 and requests.value(domain="0", outcome="signed") == 3


def test_metric_misuse_is_refused():
    counter = Counter("c_total", "C.", ["a"])
    with pytest.raises(ValueError):
        counter.inc(-1, a="x")
    with pytest.raises(ValueError):
        counter.inc(b="x")
    with pytest.raises(ValueError):
        Histogram("h", "H.", buckets=(2.0, 1.0))
    registry = Registry()
    registry.register(Gauge("g", "G."))
    with pytest.raises(ValueError):
        registry.register(Gauge("g", "G."))
    assert Histogram("h", "H.", buckets=(1.0, math.inf)).buckets == (1.0, math.inf)


def test_node_metrics_count_protocol_failures_per_culprit():
    metrics = NodeMetrics()
    metrics.protocol_failed("ecdsa-sign", [3, 5])
    metrics.protocol_failed("frost", [])
    text = metrics.registry.render()
    assert 'chainsig_mpc_protocol_failures_total{protocol="ecdsa-sign",culprit="3"} 1' in text
    assert 'chainsig_mpc_protocol_failures_total{protocol="frost",culprit="unknown"} 1' in text
    for name in ("chainsig_mpc_sign_requests_total", "chainsig_mpc_sign_latency_seconds",
                 "chainsig_mpc_pool_size", "chainsig_mpc_peers_connected", "chainsig_mpc_indexer_height"):
        assert f"# TYPE {name} " in text


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
                assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
                assert 'chainsig_mpc_sign_requests_total{domain="0",outcome="signed"} 1' in response.text
                health = await client.get("/health")
                assert health.status_code == 200 and health.json() == {"status": "ok", "indexer_height": 42}
                state["healthy"] = False
                assert (await client.get("/health")).status_code == 503
                assert (await client.get("/nope")).status_code == 404
                assert (await client.post("/metrics")).status_code == 405
            for raw in (b"GARBAGE\r\n\r\n", b"GET /metrics\r\n\r\n", b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n", b"GET"):
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


def test_health_callback_errors_answer_503(run):
    async def scenario():
        def broken():
            raise RuntimeError("secret detail")

        server = MetricsServer(Registry(), health=broken)
        await server.start()
        try:
            async with httpx.AsyncClient(base_url=server.url) as client:
                response = await client.get("/health")
            assert response.status_code == 503
            assert json.loads(response.text) == {"status": "unhealthy", "error": "RuntimeError"}
        finally:
            await server.close()

    run(scenario())
