"""chainsig-bitcoin throughput: address encoding, import cost, and offline spends.

Run:  .venv/bin/python benchmarks/bench_bitcoin.py [--keys 20000] [--spends 50] [--inputs 20]

Goals:
- P2WPKH / P2PKH address encoding (hashlib + own BIP173 checksum / base58check, no embit) ≥
  20,000 keys/s in process, a small share of ``chainsig derive --from-file``'s budget.
- Importing ``chainsig_bitcoin`` (after ``chainsig_core``) loads none of embit, btclib, bitcoinlib or httpx and costs
  < 30 ms (``chainsig derive`` imports every installed chain plugin).
- Offline prepare + dev-signer signatures + finalize (embit + btclib interpreter on every
  input) of a 20-input P2WPKH spend ≥ 5 spends/s: far above what MPC signing allows.
Each line prints the measured value and whether the goal is met; the exit status is 1 if not.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

IMPORT_PROBE = """
import sys, time
import chainsig_core  # already loaded by every chainsig command: not this plugin's cost
t = time.perf_counter()
import chainsig_bitcoin
elapsed = time.perf_counter() - t
heavy = sorted(m for m in ("embit", "btclib", "bitcoinlib", "httpx") if m in sys.modules)
print(elapsed, ",".join(heavy))
"""


def bench_addresses(keys: int) -> float:
    from chainsig_core.keys import Curve
    from chainsig_core.signers.dev import public_key_of_secret

    from chainsig_bitcoin.addresses import key_address

    compressed = [public_key_of_secret(Curve.SECP256K1, i + 1).compressed for i in range(500)]
    start = time.perf_counter()
    for i in range(keys):
        key_address(compressed[i % 500], "mainnet", "p2wpkh" if i % 2 else "p2pkh")
    return keys / (time.perf_counter() - start)


def bench_import() -> tuple[float, str]:
    env = {**os.environ, "CHAINSIG_LOAD_PLUGINS": ""}
    best, heavy = 1e9, ""
    for _ in range(5):
        out = subprocess.run([sys.executable, "-c", IMPORT_PROBE], capture_output=True, text=True, env=env, check=True)
        elapsed, heavy = out.stdout.split()[0], (out.stdout.split() + [""])[1]
        best = min(best, float(elapsed))
    return best, heavy


def bench_spends(spends: int, inputs: int) -> float:
    from chainsig_core.config import load_config
    from chainsig_core.flow import sign_prepared
    from chainsig_core.signers.dev import DEFAULT_DEV_SEED, DevSigner
    from chainsig_core.types import ChainEndpoint, DerivedAccount, TransferRequest

    from chainsig_bitcoin import BitcoinChain

    chain = BitcoinChain()
    signer = DevSigner(load_config(os.devnull).network("dev"), seed=DEFAULT_DEV_SEED)
    sender = DerivedAccount("dev", "bench.near", "btc", signer.derived_public_key("bench.near", "btc", 0))
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump([{"txid": f"{i + 1:064x}", "vout": 0, "value": 10_000} for i in range(inputs)], handle)
    request = TransferRequest(sender, "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080",
                              inputs * 10_000 - 5_000, options={"utxos": handle.name, "fee_rate": "1"})
    start = time.perf_counter()
    for _ in range(spends):
        prepared = chain.prepare(request, "regtest", ChainEndpoint())
        assert len(prepared.payloads) == inputs
        chain.finalize(prepared, sign_prepared(signer, prepared))
    os.unlink(handle.name)
    return spends / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=20_000)
    parser.add_argument("--spends", type=int, default=50)
    parser.add_argument("--inputs", type=int, default=20)
    args = parser.parse_args()
    ok = True
    rate = bench_addresses(args.keys)
    ok &= rate >= 20_000
    print(f"address encoding     {rate:12,.0f} keys/s        goal ≥ 20,000   {'ok' if rate >= 20_000 else 'MISSED'}")
    elapsed, heavy = bench_import()
    good = elapsed < 0.030 and not heavy
    ok &= good
    print(f"import chainsig_bitcoin {elapsed * 1000:9.1f} ms  heavy: {heavy or '-':8} goal < 30 ms, none  {'ok' if good else 'MISSED'}")
    rate = bench_spends(args.spends, args.inputs)
    ok &= rate >= 5
    print(f"{args.inputs}-input spend        {rate:12,.1f} spends/s      goal ≥ 5        {'ok' if rate >= 5 else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
