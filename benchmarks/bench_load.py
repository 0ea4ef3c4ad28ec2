"""Load: N sign requests submitted at once through a 5-node MPC devnet at its default block time.

Run:  .venv/bin/python benchmarks/bench_load.py [--requests 1000] [--accounts 4] [--duplicates 0.1]
                                                [--block-ms 100] [--nodes 5] [--threshold 2]
                                                [--data-dir D] [--json]

What runs: ``chainsig devnet up --signers mpc`` (real processes: the NEAR host and the MPC
nodes over mutual TLS), extra user accounts created by the registrar, then every request is
submitted concurrently through the NEAR contract client exactly as ``chainsig sign`` sends it
(``sign`` transaction → yield → MPC nodes → ``respond`` → outcome). ECDSA (domain 0) and EdDSA
(domain 1) alternate, accounts rotate, and a fraction of the requests repeat an earlier one
exactly (same account, path, payload and domain).

Checked, and reported:
* every request gets exactly one outcome (none lost); a failure — including the contract's
  200-block timeout, which is never retried here — counts as a failure;
* every signature verifies under the key derived from the root key, the account and the path
  (independently of the client's own check);
* duplicates: signatures of the same request that were pending together must be identical
  (the contract resumes identical waiting requests with one response); a duplicate that
  arrived after its twin was answered is a new request and gets a fresh (valid) signature;
* from the nodes' metrics: accepted ``respond`` calls, so no request was answered twice.
Figures: throughput (signatures/s over the wall time from first submission to last answer),
latency p50/p95/p99 per request (submission → verified signature).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx


@dataclass(frozen=True)
class Planned:
    """One request of the run (duplicates share every field but ``index``)."""

    index: int
    account: str
    path: str
    domain_id: int
    payload: bytes

    @property
    def key(self) -> tuple[str, str, int, bytes]:
        return (self.account, self.path, self.domain_id, self.payload)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (0 < q ≤ 1)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(-(-q * len(ordered) // 1)) - 1))]


def plan(count: int, accounts: list[str], duplicates: float) -> list[Planned]:
    """``count`` requests: domains alternate, accounts rotate, every ⌈1/duplicates⌉-th repeats
    an earlier request exactly."""
    out: list[Planned] = []
    pick = random.Random(20261124)  # a fixed plan: runs are comparable
    every = max(2, round(1 / duplicates)) if duplicates > 0 else 0
    for i in range(count):
        if every and i % every == every - 1 and out:
            twin = out[pick.randrange(len(out))]
            out.append(Planned(i, twin.account, twin.path, twin.domain_id, twin.payload))
            continue
        domain_id = i % 2
        text = f"load-{i}"
        payload = hashlib.sha256(text.encode()).digest() if domain_id == 0 else text.encode()
        out.append(Planned(i, accounts[i % len(accounts)], text, domain_id, payload))
    return out


def create_accounts(description: dict[str, Any], names: list[str]) -> None:
    """The registrar creates each account with a fresh full-access key in the credentials dir."""
    from near import AsyncNear
    from near.actions import add_full_access_key, create_account, transfer

    from chainsig_core.credentials import generate_access_key, load_access_key

    credentials = Path(description["data_dir"]) / "credentials"
    registrar = load_access_key(credentials, "devnet", "devnet")

    async def run() -> None:
        async with AsyncNear(network="devnet", rpc_url=description["rpc_url"], account_id="devnet",
                             private_key=registrar.to_near_secret_string()) as near:
            for name in names:
                key = generate_access_key(name)
                path = credentials / "devnet" / f"{name}.json"
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as handle:
                    json.dump(key.to_credentials_json(), handle)
                await near.send_transaction(name, [create_account(), transfer("1000 NEAR"),
                                                   add_full_access_key(key.public_key.to_near_string())])

    asyncio.run(run())


def responds_accepted(description: dict[str, Any]) -> int:
    """Sum of the nodes' accepted ``respond`` calls (``chainsig_mpc_signatures_total``)."""
    total = 0
    for node in description["nodes"]:
        text = httpx.get(node["metrics_url"] + "/metrics", timeout=10).text
        total += sum(int(float(m)) for m in re.findall(r"(?m)^chainsig_mpc_signatures_total(?:\{[^}]*\})? (\S+)", text))
    return total


async def warm_up(signer: Any, accounts: list[str]) -> None:
    """One request per account, not measured: the client's per-account set-up (root-key check,
    access-key check, nonce) is then done once instead of by every concurrent request at once
    (many first requests at once through one client stall in that set-up)."""
    from chainsig_core.signers.base import SignRequest

    for account in accounts:
        await signer.sign_async(SignRequest(account, "load-warm-up", 1, b"warm-up"))


async def submit_all(description: dict[str, Any], requests: list[Planned], signer: Any,
                     sent_at: dict[tuple[str, str], list[float]]) -> list[dict[str, Any]]:
    """Submit every request at once; one outcome record per request, in order."""
    from chainsig_core.kdf import derive_public_key
    from chainsig_core.keys import PublicKey
    from chainsig_core.signatures import verify_signature
    from chainsig_core.signers.base import SignRequest

    roots = {d["id"]: PublicKey.from_near_string(d["public_key"]) for d in description["domains"]}

    async def one(item: Planned) -> dict[str, Any]:
        begin = time.monotonic()
        try:
            result = await signer.sign_async(SignRequest(item.account, item.path, item.domain_id, item.payload))
            derived = derive_public_key(roots[item.domain_id], item.account, item.path)
            verify_signature(derived, item.payload, result.signature)
        except Exception as exc:  # a failure is counted, never hidden
            return {"index": item.index, "ok": False, "error": f"{type(exc).__name__}: {str(exc)[:160]}",
                    "begin": begin, "end": time.monotonic()}
        return {"index": item.index, "ok": True, "signature": json.dumps(result.signature.to_response(), sort_keys=True),
                "tx": signer.tx_hashes.get(SignRequest(item.account, item.path, item.domain_id, item.payload)),
                "begin": begin, "end": time.monotonic()}

    async def report() -> None:
        while True:
            await asyncio.sleep(10)
            sent = sum(len(v) for v in sent_at.values())
            print(f"[load] transactions sent {sent}, answered {sum(done)}", file=sys.stderr, flush=True)

    done: list[int] = []

    async def counted(item: Planned) -> dict[str, Any]:
        outcome = await one(item)
        done.append(1)
        return outcome

    reporter = asyncio.get_running_loop().create_task(report())
    try:
        return list(await asyncio.gather(*(counted(item) for item in requests)))
    finally:
        reporter.cancel()


def machine() -> dict[str, Any]:
    model = "?"
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpus": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "system": f"{platform.system()} {platform.release()}"}


def run(args: argparse.Namespace) -> dict[str, Any]:
    from chainsig_core import plugins
    from chainsig_core.devnet import UpOptions, down, up

    root = Path(args.data_dir or tempfile.mkdtemp(prefix="chainsig-load-"))
    os.environ["CHAINSIG_CONFIG"] = str(root / "config.toml")
    plugins.reset()
    started = time.monotonic()
    description = up(UpOptions(data_dir=root / "dn", nodes=args.nodes, threshold=args.threshold,
                               block_ms=args.block_ms, signers="mpc", evm=False, solana=False))
    up_seconds = time.monotonic() - started
    try:
        extra = [f"user{i}.devnet" for i in range(max(0, args.accounts - 2))]
        create_accounts(description, extra)
        accounts = (["alice.devnet", "bob.devnet"] + extra)[: args.accounts]
        requests = plan(args.requests, accounts, args.duplicates)
        sent_at: dict[tuple[str, str], list[float]] = defaultdict(list)

        def progress(message: str) -> None:  # "submitting sign request for A / 'P'" just before sending
            found = re.match(r"submitting sign request for (\S+) / '(.*)'$", message)
            if found:
                sent_at[(found.group(1), found.group(2))].append(time.monotonic())

        async def measured() -> tuple[list[dict[str, Any]], float, int]:
            from chainsig_core.signers import get_signer

            signer = get_signer("devnet", timeout_retries=0, max_wait=args.max_wait, progress=progress)
            try:
                await warm_up(signer, accounts)
                sent_at.clear()
                before = responds_accepted(description)
                t0 = time.monotonic()
                outcomes = await submit_all(description, requests, signer, sent_at)
                return outcomes, time.monotonic() - t0, before
            finally:
                await signer.aclose()

        outcomes, wall, responds_before = asyncio.run(measured())
        time.sleep(2.0)  # let late respond calls (other coordinators) land before counting
        responds = responds_accepted(description) - responds_before
    finally:
        if not args.keep:
            down(root / "dn")
    ok = [o for o in outcomes if o["ok"]]
    latencies = [o["end"] - o["begin"] for o in ok]
    # from the moment the client sent the transaction (duplicates: matched in order)
    queues = {key: sorted(times) for key, times in sent_at.items()}
    from_send = []
    for item, outcome in sorted(zip(requests, outcomes), key=lambda pair: pair[1]["begin"]):
        times = queues.get((item.account, item.path))
        if outcome["ok"] and times:
            from_send.append(outcome["end"] - times.pop(0))
    groups: dict[tuple[str, str, int, bytes], list[dict[str, Any]]] = defaultdict(list)
    for item, outcome in zip(requests, outcomes):
        groups[item.key].append(outcome)
    duplicate_groups = [g for g in groups.values() if len(g) > 1]
    # A duplicate included while its twin still waited shares the twin's response; one included
    # after the answer is a new request with a fresh signature. Either way every response the
    # clients saw comes from one accepted respond call, and no respond is unaccounted for.
    conflicting = sum(len({o["signature"] for o in g if o["ok"]}) > 1 for g in duplicate_groups)
    distinct_answers = len({(item.key, o["signature"]) for item, o in zip(requests, outcomes) if o["ok"]})
    errors: dict[str, int] = defaultdict(int)
    for o in outcomes:
        if not o["ok"]:
            errors[o["error"].split(":", 1)[0]] += 1
    return {
        "when": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "config": {"requests": args.requests, "accounts": args.accounts, "duplicates": args.duplicates,
                   "nodes": args.nodes, "threshold": args.threshold, "block_ms": args.block_ms},
        "devnet_up_seconds": round(up_seconds, 1),
        "outcomes": len(outcomes),
        "signed_and_verified": len(ok),
        "failed": len(outcomes) - len(ok),
        "errors": dict(errors),
        "unique_requests": len(groups),
        "duplicate_groups": len(duplicate_groups),
        "duplicate_groups_with_different_signatures": conflicting,
        "responds_accepted": responds,
        "distinct_answers_seen": distinct_answers,
        "answered_once": responds == distinct_answers,
        "wall_seconds": round(wall, 2),
        "throughput_per_s": round(len(ok) / wall, 2) if wall else 0.0,
        "latency_s": {"p50": round(percentile(latencies, 0.50), 3), "p95": round(percentile(latencies, 0.95), 3),
                      "p99": round(percentile(latencies, 0.99), 3), "max": round(max(latencies), 3),
                      "mean": round(statistics.fmean(latencies), 3)} if latencies else {},
        "latency_from_send_s": {"p50": round(percentile(from_send, 0.50), 3),
                                "p95": round(percentile(from_send, 0.95), 3),
                                "p99": round(percentile(from_send, 0.99), 3)} if from_send else {},
        "first_errors": [o["error"] for o in outcomes if not o["ok"]][:5],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--accounts", type=int, default=4)
    parser.add_argument("--duplicates", type=float, default=0.1, help="fraction of exact repeats")
    parser.add_argument("--nodes", type=int, default=5)
    parser.add_argument("--threshold", type=int, default=2)
    parser.add_argument("--block-ms", type=int, default=100, help="the devnet's default: 100")
    parser.add_argument("--max-wait", type=float, default=600.0, help="client wait per request (s)")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--keep", action="store_true", help="leave the devnet running")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = run(args)
    if args.json:
        print(json.dumps(report))
    else:
        lat = report["latency_s"]
        print(f"{report['when']} on {report['machine']['cpus']} CPUs ({report['machine']['cpu']})")
        print(f"{report['outcomes']} requests ({report['unique_requests']} unique, {args.accounts} accounts, "
              f"ECDSA+EdDSA), {args.nodes} nodes K={args.threshold}, blocks {args.block_ms} ms")
        print(f"signed and verified: {report['signed_and_verified']}, failed: {report['failed']} {report['errors']}")
        print(f"throughput: {report['throughput_per_s']} signatures/s over {report['wall_seconds']} s")
        if lat:
            print(f"latency: p50 {lat['p50']} s, p95 {lat['p95']} s, p99 {lat['p99']} s, max {lat['max']} s")
            sent = report["latency_from_send_s"]
            if sent:
                print(f"from the transaction's send: p50 {sent['p50']} s, p95 {sent['p95']} s, p99 {sent['p99']} s")
        print(f"duplicate groups: {report['duplicate_groups']}, with different signatures: "
              f"{report['duplicate_groups_with_different_signatures']}; responds accepted: {report['responds_accepted']}, "
              f"distinct answers seen: {report['distinct_answers_seen']}")
    sys.exit(0 if report["failed"] == 0 and report["answered_once"] else 1)


if __name__ == "__main__":
    main()
