"""Devnet host throughput: sign → respond → resumed outcome, in process and over JSON-RPC.

Run:  .venv/bin/python benchmarks/bench_contract.py [--requests 200] [--block-ms 50]

1. ``chain``: the chain alone (no RPC): ``requests`` signed sign transactions, one block,
   ``requests`` respond transactions (dev key), two blocks; reports signatures per second of
   the host's work (transaction decoding and checks, receipts, contract verification, SQLite
   commits) — the clients' transactions are built beforehand.
2. ``rpc``: a host on loopback with the dev responder (all in this one process): 10 sequential
   ``sign`` calls through near-kit (median latency), then ``requests`` concurrent ones
   (signatures per second).

Goals: chain ≥ 500 signatures/s; a single request's median latency ≤ 5 blocks.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "contract"))


def bench_chain(requests: int) -> float:
    import base58
    from near import Ed25519KeyPair, KeyPairSigner, actions
    from near.wire import Transaction, sign_transaction, to_wire_public_key

    from chainsig_contract.hosting import open_chain
    from chainsig_core import kdf
    from chainsig_core.credentials import load_access_key
    from chainsig_core.keys import Curve
    from chainsig_core.signers.dev import dev_root_secret, ecdsa_sign_with_scalar

    with tempfile.TemporaryDirectory() as tmp:
        chain, _ = open_chain(Path(tmp) / "d", None)

        def signer(account: str) -> KeyPairSigner:
            key = load_access_key(Path(tmp) / "d" / "credentials", "devnet", account)
            return KeyPairSigner(account_id=account, key_pair=Ed25519KeyPair.from_string(key.to_near_secret_string()))

        alice, node = signer("alice.devnet"), signer("node0.devnet")

        def build(who: KeyPairSigner, action, nonce: int) -> bytes:
            tx = Transaction(signer_id=who.account_id, public_key=to_wire_public_key(who.public_key), nonce=nonce,
                             receiver_id=chain.config.contract_id, block_hash=base58.b58decode(chain.head["hash"]),
                             actions=[action])
            return sign_transaction(tx, who)[1]

        # the clients' work (building and signing transactions, dev signatures) is done first
        secret = dev_root_secret(Curve.SECP256K1)
        payloads = [i.to_bytes(32, "big") for i in range(1, requests + 1)]
        signs, responds = [], []
        for n, payload in enumerate(payloads, 1):
            signs.append(build(alice, actions.function_call("sign", {"request": {"path": f"p{n}", "payload_v2": {
                "Ecdsa": payload.hex()}, "domain_id": 0}}, gas="50 Tgas", deposit="1 yocto"), n))
            tweak = kdf.tweak("alice.devnet", f"p{n}")
            child = (secret + int.from_bytes(tweak, "big")) % 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
            response = ecdsa_sign_with_scalar(child, payload).to_response()
            request = {"domain_id": 0, "payload": {"Ecdsa": payload.hex()}, "tweak": list(tweak)}
            responds.append(build(node, actions.function_call("respond", {"request": request, "response": response},
                                                              gas="50 Tgas"), n))
        started = time.perf_counter()
        for raw in signs:
            chain.submit(raw)
        chain.produce_block()
        for raw in responds:
            chain.submit(raw)
        chain.produce_block()
        chain.produce_block()
        elapsed = time.perf_counter() - started
        assert not chain.yields, "every request should have been resumed"
        chain.store.close()
    return requests / elapsed


async def bench_rpc(requests: int, block_ms: int) -> tuple[float, float]:  # noqa: C901
    from near import AsyncNear

    from chainsig_contract.hosting import open_chain, run_responder
    from chainsig_contract.rpc.server import HostServer

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "d"
        chain, _ = open_chain(data, None)
        server = HostServer(chain, block_ms=block_ms, port=0)
        await server.start()
        stop = asyncio.Event()
        responder = asyncio.create_task(run_responder(server.url, chain.config.contract_id, data / "credentials",
                                                      "devnet", "node0.devnet", stop))
        latencies: list[float] = []
        async with AsyncNear(network="devnet", rpc_url=server.url, account_id="alice.devnet",
                             credentials_dir=data / "credentials", retries=2) as near:

            async def one(n: int) -> None:
                t0 = time.perf_counter()
                result = await near.call(chain.config.contract_id, "sign", {"request": {
                    "path": f"rpc{n}", "payload_v2": {"Ecdsa": (n + 1).to_bytes(32, "big").hex()}, "domain_id": 0}},
                    gas="50 Tgas", deposit="1 yocto")
                assert json.loads(base64.b64decode(result.status["SuccessValue"]))["scheme"] == "Secp256k1"
                latencies.append(time.perf_counter() - t0)

            for n in range(10):
                await one(10_000 + n)
            single = statistics.median(latencies)
            started = time.perf_counter()
            await asyncio.gather(*(one(n) for n in range(requests)))
            elapsed = time.perf_counter() - started
        stop.set()
        await responder
        await server.stop()
        chain.store.close()
    return requests / elapsed, single


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--block-ms", type=int, default=50)
    args = parser.parse_args()
    bench_chain(5)  # warm-up: imports, pydantic schema building
    rate = bench_chain(args.requests)
    print(f"chain: {rate:8.1f} signatures/s (goal ≥ 500)")
    rpc_rate, latency = asyncio.run(bench_rpc(min(args.requests, 100), args.block_ms))
    print(f"rpc:   {rpc_rate:8.1f} signatures/s with {min(args.requests, 100)} concurrent requests; "
          f"single request median latency {latency * 1000:.0f} ms "
          f"({latency * 1000 / args.block_ms:.1f} blocks; goal ≤ 5)")


if __name__ == "__main__":
    main()
