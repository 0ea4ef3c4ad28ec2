"""chainsig-cosmos throughput: address encoding, import cost, offline prepare → sign → finalize.

Run:  .venv/bin/python benchmarks/bench_cosmos.py [--keys 20000] [--sends 200]

Goals:
- Cosmos address encoding (hashlib SHA-256 + RIPEMD-160 + bech32) ≥ 20,000 keys/s in process,
  so ``chainsig derive --from-file`` is never limited by it.
- Importing ``chainsig_cosmos`` (after ``chainsig_core``) loads none of cosmpy, protobuf,
  requests or ecdsa and costs < 30 ms (``chainsig derive`` imports every chain plugin).
- Offline prepare + dev-signer signature + finalize (two verifications: coincurve and cosmpy's
  pure-Python ecdsa) ≥ 50 sends/s: far above what MPC signing allows.
Each line prints the measured value and whether the goal is met; the exit status is 1 if not.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

IMPORT_PROBE = """
import sys, time
import chainsig_core
t = time.perf_counter()
import chainsig_cosmos
elapsed = time.perf_counter() - t
heavy = sorted(m for m in ("cosmpy", "google.protobuf", "requests", "ecdsa") if m in sys.modules)
print(elapsed, ",".join(heavy))
"""


def bench_addresses(keys: int) -> float:
    from chainsig_core import Curve
    from chainsig_core.signers.dev import public_key_of_secret
    from chainsig_cosmos.address import account_id, encode_address

    public_keys = [public_key_of_secret(Curve.SECP256K1, 1000 + i) for i in range(min(keys, 2000))]
    start = time.perf_counter()
    for i in range(keys):
        encode_address("cosmos", account_id(public_keys[i % len(public_keys)]))
    return keys / (time.perf_counter() - start)


def bench_import() -> tuple[float, str]:
    times, heavy = [], ""
    for _ in range(5):
        out = subprocess.run([sys.executable, "-c", IMPORT_PROBE], capture_output=True, text=True, check=True)
        elapsed, heavy = out.stdout.split()[0], (out.stdout.split() + [""])[1]
        times.append(float(elapsed))
    return min(times), heavy


def bench_sends(sends: int) -> float:
    from chainsig_core import ChainEndpoint, DevSigner, TransferRequest, sign_prepared
    from chainsig_core.config import load_config
    from chainsig_core.plugins import get_chain

    chain = get_chain("cosmos")
    signer = DevSigner(load_config().network("dev"))
    key = signer.derived_public_key("bench.near", "cosmos", 0)
    from chainsig_core import DerivedAccount

    sender = DerivedAccount("dev", "bench.near", "cosmos", key)
    to = "cosmos1w508d6qejxtdg4y5r3zarvary0c5xw7k6ah60c"
    start = time.perf_counter()
    for i in range(sends):
        request = TransferRequest(sender, to, i + 1, options={"account_number": 1, "sequence": i})
        prepared = chain.prepare(request, "local", ChainEndpoint())
        chain.finalize(prepared, sign_prepared(signer, prepared))
    return sends / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=20000)
    parser.add_argument("--sends", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CHAINSIG_CONFIG"] = os.path.join(tmp, "config.toml")
        os.environ["CHAINSIG_LOAD_PLUGINS"] = "cosmos"
        ok = True
        rate = bench_addresses(args.keys)
        ok &= rate >= 20000
        print(f"addresses: {rate:,.0f} keys/s (goal ≥ 20,000) {'ok' if rate >= 20000 else 'MISSED'}")
        elapsed, heavy = bench_import()
        good = elapsed < 0.030 and not heavy
        ok &= good
        print(f"import: {elapsed * 1000:.1f} ms, heavy modules: {heavy or 'none'} (goal < 30 ms, none) {'ok' if good else 'MISSED'}")
        import logging

        logging.getLogger("chainsig_core.signers.dev").setLevel(logging.ERROR)
        rate = bench_sends(args.sends)
        ok &= rate >= 50
        print(f"offline sends: {rate:,.1f}/s (goal ≥ 50) {'ok' if rate >= 50 else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
