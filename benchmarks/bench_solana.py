"""Solana plugin throughput: offline prepare+sign+finalize, and transfers through the
LiteSVM-backed local RPC (prepare online → dev-sign → finalize → broadcast + confirm).

Run:  .venv/bin/python benchmarks/bench_solana.py [--count 200]

Goals: offline prepare+sign+finalize ≥ 300 transfers/s; end-to-end local transfers ≥ 20/s
(a devnet demo or test suite should never wait on the local Solana node).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("CHAINSIG_CONFIG", os.devnull)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()

    from solders.keypair import Keypair
    from solders.pubkey import Pubkey

    from chainsig_core import ChainEndpoint, TransferRequest, sign_prepared
    from chainsig_core.config import load_config
    from chainsig_core.derive import derive_address
    from chainsig_core.signers.dev import DevSigner
    from chainsig_solana import SolanaChain
    from chainsig_solana.local_rpc import LocalRpcServer

    chain = SolanaChain()
    signer = DevSigner(load_config().network("dev"))
    derived = derive_address(chain=chain, account="bench.near", path="solana", network="dev", chain_network="local")
    recipients = [str(Keypair().pubkey()) for _ in range(args.count)]

    start = time.perf_counter()
    for to in recipients:
        prepared = chain.prepare(
            TransferRequest(derived.derived_account, to, "0.001", options={"blockhash": "CmpNeggWJ4JaWJeJ8YKN1Zypmk7uvQq3PECGUCAEMbky"}),
            "local", ChainEndpoint(),
        )
        chain.finalize(prepared, sign_prepared(signer, prepared))
    offline = args.count / (time.perf_counter() - start)

    with LocalRpcServer() as server:
        server.node.airdrop(Pubkey.from_string(derived.address), 10**12)
        endpoint = ChainEndpoint(server.url)
        start = time.perf_counter()
        for to in recipients:
            prepared = chain.prepare(TransferRequest(derived.derived_account, to, "0.001"), "local", endpoint)
            receipt = chain.broadcast(chain.finalize(prepared, sign_prepared(signer, prepared)), endpoint)
            assert receipt.status == "confirmed", receipt
        online = args.count / (time.perf_counter() - start)
    signer.close()
    print(f"offline prepare+sign+finalize: {offline:8.1f} transfers/s (goal ≥ 300)")
    print(f"local RPC end to end:          {online:8.1f} transfers/s (goal ≥ 20)")


if __name__ == "__main__":
    main()
