"""Derivation throughput: ``chainsig derive --from-file`` beside chainsig.js 1.1.16.

Run:  .venv/bin/python benchmarks/bench_derive.py [--rows 20000] [--repeat 3]
      .venv/bin/python benchmarks/bench_derive.py --stages   (where a Solana row's time goes)

For each of EVM (secp256k1 + keccak + EIP-55) and Solana (ed25519 + base58) it writes ``rows``
JSON lines, times the whole ``chainsig derive --from-file`` process (start-up, plugin loading,
parsing, derivation, JSON output) and, when Node.js is available, chainsig.js deriving the same
rows in process (its derivation only — a lower bound of its cost). Both outputs' last address
are compared so the two agree on what they computed. The goal (issue 2): ≥ 10× chainsig.js.

The two run alternately (chainsig, chainsig.js, chainsig, …) so that load from other work on a
shared machine falls on both alike; the ratio is that of the medians. chainsig runs as an
installed package does, with Python's bytecode cache: one untimed run writes it first, and
``PYTHONDONTWRITEBYTECODE`` is dropped from its environment (with it and a stale cache, every
start recompiles the modules it changed). Besides rows/s it reports CPU per row — chainsig's
processes (start-up included) and chainsig.js's process over its timed span (node's GC and
compiler threads included) — which load from other work moves less than wall time, and
chainsig's start-up alone (a one-row file).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = Path(__file__).resolve().parent / "reference"
CHAINSIG = [sys.executable, "-m", "chainsig_core"]


def write_rows(path: Path, chain: str, rows: int) -> None:
    with path.open("w") as handle:
        for i in range(rows):
            handle.write(json.dumps({"chain": chain, "account": f"user{i % 97}.near", "path": f"{chain}-{i}"}) + "\n")


def chainsig_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_chainsig(path: Path, workers: int | None) -> tuple[float, float, str]:
    """One ``chainsig derive --from-file`` run: (wall seconds, CPU seconds, last address)."""
    args = [*CHAINSIG, "derive", "--from-file", str(path)]
    if workers:
        args += ["--workers", str(workers)]
    cpu, start = children_cpu(), time.perf_counter()
    out = subprocess.run(args, capture_output=True, text=True, check=True, env=chainsig_env())
    wall = time.perf_counter() - start
    return wall, children_cpu() - cpu, json.loads(out.stdout.splitlines()[-1])["address"]


def reference_ready() -> bool:
    if shutil.which("node") is None or shutil.which("npm") is None:
        return False
    if not (REFERENCE / "node_modules" / "chainsig.js").exists():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=REFERENCE, check=True)
    return True


def run_reference(path: Path) -> tuple[float, float, str]:
    """chainsig.js deriving the rows in process: (its own wall seconds, its CPU seconds over the
    same span, last address)."""
    node = shutil.which("node")
    assert node is not None
    out = subprocess.run([node, str(REFERENCE / "derive.mjs"), str(path)], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    return result["seconds"], result["cpu_seconds"], result["last"]


def print_stages(rows: int, repeat: int) -> None:
    """CPU µs per Solana row, whole and by step, in this one process (min of ``repeat`` passes)."""
    from chainsig_core import kdf
    from chainsig_core.config import load_config
    from chainsig_core.derive import _BatchDeriver, _DerivationTarget, _error_line, _parse_row
    from chainsig_core.ed25519_ops import ops
    from chainsig_core.keys import b58encode

    lines = [json.dumps({"chain": "solana", "account": f"user{i % 97}.near", "path": f"solana-{i}"}) for i in range(rows)]
    deriver = _BatchDeriver(load_config(), "mainnet")
    "".join(deriver.derive(lines[:1], 1, _DerivationTarget.json_line, _error_line))
    root = next(iter(deriver.targets.values())).root.data
    parsed = [_parse_row(line) for line in lines]
    scalars = [
        (int.from_bytes(kdf.tweak(row["account"], row["path"]), "little") % kdf.ED25519_L).to_bytes(32, "little")
        for row in parsed
    ]
    point_ops = ops()
    offsets = [point_ops.base_noclamp(scalar) for scalar in scalars]
    keys = [point_ops.add(root, offset) for offset in offsets]
    steps = {
        "whole row (JSON line in -> JSON line out)": lambda: "".join(deriver.derive(lines, 1, _DerivationTarget.json_line, _error_line)),
        "  JSON parse and field checks": lambda: [_parse_row(line) for line in lines],
        "  tweak (account-id check + SHA3-256)": lambda: [kdf.tweak(row["account"], row["path"]) for row in parsed],
        "  libsodium base_noclamp (t·B)": lambda: [point_ops.base_noclamp(scalar) for scalar in scalars],
        "  libsodium add (root + t·B)": lambda: [point_ops.add(root, offset) for offset in offsets],
        "  base58 of the key": lambda: [b58encode(key) for key in keys],  # type: ignore[arg-type]
    }
    print(f"CPU per Solana row in one process, min of {repeat} passes over {rows} rows")
    for name, step in steps.items():
        best = min(_cpu_seconds(step) for _ in range(repeat))
        print(f"{name:<44}{best / rows * 1e6:7.1f} µs")


def _cpu_seconds(step: Callable[[], object]) -> float:
    start = time.process_time()
    step()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None, help="chainsig derive --workers (default: one per CPU)")
    parser.add_argument("--no-reference", action="store_true", help="skip chainsig.js")
    parser.add_argument("--stages", action="store_true", help="only where a Solana row's time goes, in process")
    args = parser.parse_args()
    if args.stages:
        print_stages(args.rows, max(args.repeat, 5))
        return
    with_reference = not args.no_reference and reference_ready()
    print(f"rows per run: {args.rows}; median of {args.repeat} runs, chainsig and chainsig.js alternating")
    print("rows/s is wall time; CPU is µs per row (chainsig: all its processes, start-up included;")
    print("chainsig.js: its process over its timed span), a figure load from other work moves less")
    header = f"{'chain':<10}{'chainsig rows/s':>17}{'chainsig.js rows/s':>20}{'ratio':>7}"
    print(f"{header}{'chainsig CPU':>14}{'chainsig.js CPU':>17}{'CPU ratio':>11}")
    with tempfile.TemporaryDirectory() as tmp:
        one_row = Path(tmp) / "one.jsonl"
        write_rows(one_row, "solana", 1)
        run_chainsig(one_row, args.workers)  # untimed: writes the bytecode cache
        for chain in ("ethereum", "solana"):
            path = Path(tmp) / f"{chain}.jsonl"
            write_rows(path, chain, args.rows)
            ours, cpus, theirs, their_cpus = [], [], [], []
            for _ in range(args.repeat):
                wall, cpu, our_last = run_chainsig(path, args.workers)
                ours.append(wall)
                cpus.append(cpu)
                if with_reference:
                    seconds, ref_cpu, ref_last = run_reference(path)
                    if ref_last != our_last:
                        raise SystemExit(f"{chain}: chainsig and chainsig.js disagree on the last address")
                    theirs.append(seconds)
                    their_cpus.append(ref_cpu)
            our_rate = args.rows / statistics.median(ours)
            our_cpu = statistics.median(cpus) / args.rows * 1e6
            if not theirs:
                print(f"{chain:<10}{our_rate:>17,.0f}{'n/a':>20}{'':>7}{our_cpu:>11.0f} µs")
                continue
            ref_rate = args.rows / statistics.median(theirs)
            ref_cpu = statistics.median(their_cpus) / args.rows * 1e6
            print(
                f"{chain:<10}{our_rate:>17,.0f}{ref_rate:>20,.0f}{our_rate / ref_rate:>6.1f}×"
                f"{our_cpu:>11.0f} µs{ref_cpu:>14.0f} µs{ref_cpu / our_cpu:>10.1f}×"
            )
        starts = [run_chainsig(one_row, args.workers)[:2] for _ in range(args.repeat)]
        wall = statistics.median(s[0] for s in starts)
        cpu = statistics.median(s[1] for s in starts)
        print(f"start-up alone (derive --from-file with one row): {wall * 1000:.0f} ms wall, {cpu * 1000:.0f} ms CPU")


if __name__ == "__main__":
    main()
