"""Derivation throughput: ``chainsig derive --from-file`` beside chainsig.js 1.1.16.

Run:  .venv/bin/python benchmarks/bench_derive.py [--rows 20000] [--repeat 3]

For each of EVM (secp256k1 + keccak + EIP-55) and Solana (ed25519 + base58) it writes ``rows``
JSON lines, times the whole ``chainsig derive --from-file`` process (start-up, plugin loading,
parsing, derivation, JSON output) and, when Node.js is available, chainsig.js deriving the same
rows in process (its derivation only — a lower bound of its cost). Both outputs' last address
are compared so the two agree on what they computed. The goal (issue 2): ≥ 10× chainsig.js.
"""

from __future__ import annotations

import argparse
import json
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


def time_chainsig(path: Path, repeat: int, workers: int | None) -> tuple[float, str]:
    times, last = [], ""
    args = [*CHAINSIG, "derive", "--from-file", str(path)]
    if workers:
        args += ["--workers", str(workers)]
    for _ in range(repeat):
        start = time.perf_counter()
        out = subprocess.run(args, capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - start)
        last = json.loads(out.stdout.splitlines()[-1])["address"]
    return statistics.median(times), last


def time_reference(path: Path, repeat: int) -> tuple[float, str] | None:
    node = shutil.which("node")
    if node is None or shutil.which("npm") is None:
        return None
    if not (REFERENCE / "node_modules" / "chainsig.js").exists():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=REFERENCE, check=True)
    times, last = [], ""
    for _ in range(repeat):
        out = subprocess.run([node, str(REFERENCE / "derive.mjs"), str(path)], capture_output=True, text=True, check=True)
        result = json.loads(out.stdout)
        times.append(result["seconds"])
        last = result["last"]
    return statistics.median(times), last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None, help="chainsig derive --workers (default: one per CPU)")
    parser.add_argument("--no-reference", action="store_true", help="skip chainsig.js")
    args = parser.parse_args()
    print(f"rows per run: {args.rows}; median of {args.repeat} runs")
    print(f"{'chain':<10}{'chainsig rows/s':>18}{'chainsig.js rows/s':>21}{'ratio':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for chain in ("ethereum", "solana"):
            path = Path(tmp) / f"{chain}.jsonl"
            write_rows(path, chain, args.rows)
            ours, our_last = time_chainsig(path, args.repeat, args.workers)
            ref = None if args.no_reference else time_reference(path, args.repeat)
            our_rate = args.rows / ours
            if ref is None:
                print(f"{chain:<10}{our_rate:>18,.0f}{'n/a':>21}{'':>8}")
                continue
            if ref[1] != our_last:
                raise SystemExit(f"{chain}: chainsig and chainsig.js disagree on the last address")
            ref_rate = args.rows / ref[0]
            print(f"{chain:<10}{our_rate:>18,.0f}{ref_rate:>21,.0f}{our_rate / ref_rate:>7.1f}×")


if __name__ == "__main__":
    main()
