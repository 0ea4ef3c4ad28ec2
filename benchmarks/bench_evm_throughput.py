"""chainsig-evm throughput: address encoding, offline prepare → sign → finalize, and sends on anvil.

Run:  .venv/bin/python benchmarks/bench_evm_throughput.py [--keys 20000] [--txs 300] [--sends 50] [--no-anvil]

Goals (issue 3 and the derive budget of issue 2):
- EVM address encoding (keccak256 + EIP-55, no web3) ≥ 20,000 keys/s in process, so that it
  stays a small share of ``chainsig derive --from-file``'s ≥ 10,000 addresses/s (whole process;
  measured by benchmarks/bench_derive.py).
- Offline prepare + dev-signer signature + finalize (eth-account serialization and sender
  recovery) ≥ 100 transactions/s — far above what an MPC signature round allows, so the
  plugin is never the bottleneck of a batch.
- A send through anvil (prepare with the node's nonce/fees/gas, sign, finalize, broadcast,
  receipt) with a median under 100 ms.
Each line prints the measured rate and whether the goal is met; the exit status is 1 if not.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANVIL = ROOT / "tools" / "node_modules" / ".bin" / "anvil"
RECIPIENT = "0x000000000000000000000000000000000000dEaD"


def bench_addresses(keys: int) -> float:
    from chainsig_core import derive_address
    from chainsig_evm import address_from_public_key

    publics = [derive_address(chain="ethereum", account="bench.near", path=str(i), network="dev").public_key
               for i in range(min(keys, 500))]
    start = time.perf_counter()
    for i in range(keys):
        address_from_public_key(publics[i % len(publics)])
    return keys / (time.perf_counter() - start)


def bench_offline(txs: int) -> float:
    from chainsig_core import ChainEndpoint, TransferRequest, derive_address, get_signer, sign_prepared
    from chainsig_core.plugins import get_chain

    chain = get_chain("ethereum")
    signer = get_signer("dev")
    sender = derive_address(chain="ethereum", account="bench.near", path="offline", network="dev").derived_account
    options = {"gas": 21000, "max_fee": "30", "priority_fee": "1"}

    def one(nonce: int) -> None:
        request = TransferRequest(sender, RECIPIENT, "0.001", options={**options, "nonce": nonce})
        prepared = chain.prepare(request, "mainnet", ChainEndpoint())
        chain.finalize(prepared, sign_prepared(signer, prepared))

    one(0)  # warm-up: the first transaction imports eth-account (start-up, not throughput)
    start = time.perf_counter()
    for nonce in range(txs):
        one(nonce)
    return txs / (time.perf_counter() - start)


def bench_anvil(sends: int) -> float | None:
    import json
    import socket
    import urllib.request

    if not ANVIL.exists():
        print("anvil not installed (./run installs it): send benchmark skipped")
        return None
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    node = subprocess.Popen([str(ANVIL), "--port", str(port), "--chain-id", "8453", "--silent"])
    try:
        from chainsig_core import derive_address, send

        def rpc(method: str, *params: object) -> object:
            body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
            with urllib.request.urlopen(urllib.request.Request(url, body, {"Content-Type": "application/json"})) as r:
                return json.loads(r.read()).get("result")

        deadline = time.monotonic() + 20
        while True:
            try:
                rpc("eth_chainId")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        sender = derive_address(chain="base", account="bench.near", path="sends", network="dev").address
        rpc("anvil_setBalance", sender, hex(10**20))
        times = []
        for _ in range(sends):
            start = time.perf_counter()
            result = send(chain="base", account="bench.near", path="sends", to=RECIPIENT, amount="0.001",
                          network="dev", rpc_url=url)
            assert result.receipt is not None and result.receipt.status == "confirmed"
            times.append(time.perf_counter() - start)
        return statistics.median(times)
    finally:
        node.terminate()
        node.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys", type=int, default=20_000)
    parser.add_argument("--txs", type=int, default=300)
    parser.add_argument("--sends", type=int, default=50)
    parser.add_argument("--no-anvil", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CHAINSIG_CONFIG"] = str(Path(tmp) / "config.toml")
        ok = True
        rate = bench_addresses(args.keys)
        ok &= rate >= 20_000
        print(f"address encoding      {rate:>10,.0f} keys/s   goal ≥ 20,000  {'ok' if rate >= 20_000 else 'MISSED'}")
        rate = bench_offline(args.txs)
        ok &= rate >= 100
        print(f"prepare+sign+finalize {rate:>10,.0f} txs/s    goal ≥ 100     {'ok' if rate >= 100 else 'MISSED'}")
        if not args.no_anvil:
            median = bench_anvil(args.sends)
            if median is not None:
                ok &= median < 0.1
                print(f"send on anvil         {median * 1000:>10,.1f} ms median goal < 100   {'ok' if median < 0.1 else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
