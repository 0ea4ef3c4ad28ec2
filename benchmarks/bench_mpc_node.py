"""chainsig-mpc node building blocks: peer transport over TLS and the encrypted store.

Run:  .venv/bin/python benchmarks/bench_mpc_node.py [--nodes 5] [--messages 2000] [--consumes 300]

Goals (loopback, 2-core machine; the signing goal of issue 9 is p50 < 1 s end to end and
100 signatures/s with 5 nodes, so these must be small parts of that budget):
- Round trip of a 1 KiB message between two nodes over mutual TLS (send → peer receives →
  peer answers → received): p50 < 2 ms, p95 < 5 ms.
- All-to-all traffic among 5 nodes, 1 KiB messages: ≥ 5,000 messages/s delivered in total
  (a robust-ECDSA signature with 5 nodes costs on the order of 20–40 messages).
- Encrypted store: ``consume`` (one fsynced SQLite transaction) ≥ 200/s and ``put`` ≥ 200/s
  — every signature consumes one presignature before a share leaves.
Each line prints the measured value and whether the goal is met; the exit status is 1 if not.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from chainsig_mpc.node.identity import NodeIdentity
from chainsig_mpc.node.store import NodeStore
from chainsig_mpc.node.transport import Peer, PeerTransport

PAYLOAD = os.urandom(1024)


async def _cluster(size: int) -> tuple[dict[int, PeerTransport], dict[int, Peer]]:
    table: dict[int, Peer] = {}
    nodes: dict[int, PeerTransport] = {}
    for node_id in range(1, size + 1):
        identity = NodeIdentity.generate()
        transport = PeerTransport(identity, node_id, lambda: table)
        await transport.start()
        nodes[node_id] = transport
        table[node_id] = Peer(node_id, "127.0.0.1", transport.listen_port, identity.public_key)
    for transport in nodes.values():
        transport.refresh()
    while any(set(table) - {i} - t.connected for i, t in nodes.items()):
        await asyncio.sleep(0.01)
    return nodes, table


async def round_trips(count: int) -> list[float]:
    nodes, _ = await _cluster(2)
    a, b = nodes[1], nodes[2]
    samples = []
    try:
        for _ in range(count):
            start = time.perf_counter()
            a.send(2, PAYLOAD)
            _, data = await b.recv()
            b.send(1, data)
            await a.recv()
            samples.append(time.perf_counter() - start)
    finally:
        for node in nodes.values():
            await node.close()
    return samples


async def all_to_all(size: int, per_pair: int) -> float:
    nodes, _ = await _cluster(size)
    expected = per_pair * (size - 1)
    try:
        start = time.perf_counter()

        async def drain(node: PeerTransport) -> None:
            for _ in range(expected):
                await node.recv()

        receivers = [asyncio.ensure_future(drain(n)) for n in nodes.values()]
        for _ in range(per_pair):
            for sender, node in nodes.items():
                for receiver in nodes:
                    if receiver != sender:
                        node.send(receiver, PAYLOAD)
            await asyncio.sleep(0)
        await asyncio.gather(*receivers)
        elapsed = time.perf_counter() - start
    finally:
        for node in nodes.values():
            await node.close()
    return expected * size / elapsed


def store_rates(count: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = NodeStore(Path(tmp) / "s.sqlite", os.urandom(32))
        start = time.perf_counter()
        for n in range(count):
            store.put("presignature", f"p{n}", PAYLOAD)
        puts = count / (time.perf_counter() - start)
        start = time.perf_counter()
        for n in range(count):
            store.consume("presignature", f"p{n}")
        consumes = count / (time.perf_counter() - start)
        store.close()
    return puts, consumes


def report(name: str, value: str, ok: bool) -> bool:
    print(f"{name:<46} {value:>22}  {'ok' if ok else 'MISSED'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=5)
    parser.add_argument("--messages", type=int, default=2000, help="round trips to time")
    parser.add_argument("--per-pair", type=int, default=400, help="all-to-all messages per ordered pair")
    parser.add_argument("--consumes", type=int, default=300)
    args = parser.parse_args()
    samples = sorted(asyncio.run(round_trips(args.messages)))
    p50 = statistics.median(samples) * 1000
    p95 = samples[int(len(samples) * 0.95)] * 1000
    rate = asyncio.run(all_to_all(args.nodes, args.per_pair))
    puts, consumes = store_rates(args.consumes)
    results = [
        report("TLS round trip 1 KiB p50 (ms)", f"{p50:.3f}", p50 < 2),
        report("TLS round trip 1 KiB p95 (ms)", f"{p95:.3f}", p95 < 5),
        report(f"all-to-all {args.nodes} nodes (messages/s)", f"{rate:,.0f}", rate >= 5000),
        report("store put, fsynced (records/s)", f"{puts:,.0f}", puts >= 200),
        report("store consume, fsynced (records/s)", f"{consumes:,.0f}", consumes >= 200),
    ]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
