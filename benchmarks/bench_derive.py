"""Derivation throughput: ``chainsig derive --from-file`` beside chainsig.js 1.1.16.

Run:  .venv/bin/python benchmarks/bench_derive.py [--rows 20000] [--repeat 3]

For each of EVM (secp256k1 + keccak + EIP-55) and Solana (ed25519 + base58) it writes ``rows``
JSON lines, times the whole ``chainsig derive --from-file`` process (start-up, plugin loading,
parsing, derivation, JSON output) and, when Node.js is available, chainsig.js deriving the same
rows in process (its derivation only — a lower bound of its cost). Both outputs' last address
are compared so the two agree on what they computed. The goal (issue 2): ≥ 10× chainsig.js.

The two run alternately (chainsig, chainsig.js, chainsig, …) so that load from other work on a
shared machine falls on both alike; the ratio is that of the medians. chainsig runs as an
installed package does, with Python's bytecode cache: one untimed run writes it first, and
``PYTHONDONTWRITEBYTECODE`` is dropped from its environment (with it and a stale cache, every
start recompiles the modules it changed). Besides rows/s it reports chainsig's CPU seconds
(both workers and the parent) and its start-up alone (a one-row file).
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


def run_reference(path: Path) -> tuple[float, str]:
    """chainsig.js deriving the rows in process: (its own timing in seconds, last address)."""
    node = shutil.which("node")
    assert node is not None
    out = subprocess.run([node, str(REFERENCE / "derive.mjs"), str(path)], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    return result["seconds"], result["last"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None, help="chainsig derive --workers (default: one per CPU)")
    parser.add_argument("--no-reference", action="store_true", help="skip chainsig.js")
    args = parser.parse_args()
    with_reference = not args.no_reference and reference_ready()
    print(f"rows per run: {args.rows}; median of {args.repeat} runs, chainsig and chainsig.js alternating")
    print(f"{'chain':<10}{'chainsig rows/s':>18}{'CPU s':>8}{'chainsig.js rows/s':>21}{'ratio':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        one_row = Path(tmp) / "one.jsonl"
        write_rows(one_row, "solana", 1)
        run_chainsig(one_row, args.workers)  # untimed: writes the bytecode cache
        for chain in ("ethereum", "solana"):
            path = Path(tmp) / f"{chain}.jsonl"
            write_rows(path, chain, args.rows)
            ours, cpus, theirs = [], [], []
            for _ in range(args.repeat):
                wall, cpu, our_last = run_chainsig(path, args.workers)
                ours.append(wall)
                cpus.append(cpu)
                if with_reference:
                    seconds, ref_last = run_reference(path)
                    if ref_last != our_last:
                        raise SystemExit(f"{chain}: chainsig and chainsig.js disagree on the last address")
                    theirs.append(seconds)
            our_rate = args.rows / statistics.median(ours)
            cpu = statistics.median(cpus)
            if not theirs:
                print(f"{chain:<10}{our_rate:>18,.0f}{cpu:>8.2f}{'n/a':>21}{'':>8}")
                continue
            ref_rate = args.rows / statistics.median(theirs)
            print(f"{chain:<10}{our_rate:>18,.0f}{cpu:>8.2f}{ref_rate:>21,.0f}{our_rate / ref_rate:>7.1f}×")
        starts = [run_chainsig(one_row, args.workers)[:2] for _ in range(args.repeat)]
        wall = statistics.median(s[0] for s in starts)
        cpu = statistics.median(s[1] for s in starts)
        print(f"start-up alone (derive --from-file with one row): {wall * 1000:.0f} ms wall, {cpu * 1000:.0f} ms CPU")


if __name__ == "__main__":
    main()
