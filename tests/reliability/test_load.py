"""Load (slow): ``benchmarks/bench_load.py`` — 1,000 concurrent sign requests (ECDSA and EdDSA,
four accounts, 10 % exact duplicates) through a 5-node MPC devnet at the default 100 ms block
time. Every request must be answered with a signature that verifies under its derived key;
none lost; no request answered twice; a timeout is a failure.

Run: ``.venv/bin/python -m pytest tests/reliability -m slow -k load -q -s`` (prints the figures).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_load.py"


def test_one_thousand_concurrent_requests(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(BENCH), "--requests", "1000", "--data-dir", str(tmp_path), "--json"],
                          capture_output=True, text=True, timeout=3600, env={**os.environ})
    assert done.stdout.strip(), done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps(report, indent=2))
    assert report["outcomes"] == 1000  # none lost
    assert report["failed"] == 0, report["first_errors"]
    assert report["signed_and_verified"] == 1000
    assert report["duplicate_groups"] > 0 and report["unique_requests"] < 1000
    assert report["answered_once"], (report["responds_accepted"], report["distinct_answers_seen"])
    assert done.returncode == 0, done.stderr[-3000:]
