"""``chainsig demo``: the whole flow on a private devnet, then torn down.

devnet up → derive one NEAR account's addresses → fund them from the local faucets → send on
Ethereum and Base (anvil) and Solana (the LiteSVM-backed RPC), and build, sign and verify a
Bitcoin spend (no Bitcoin node is installable here) — every signature requested from the signer
contract with ``sign`` and answered through ``respond`` by the MPC nodes (or, with
``signers="dev-responder"``, by the explicitly insecure dev responder). The demo uses its own data directory
and config file, so it never touches the user's.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import ChainsigError

ACCOUNT = "alice.devnet"
RECIPIENT_ACCOUNT = "bob.devnet"
PATH = "demo"

TRANSFERS = (
    ("ethereum", "1", "0.01"),
    ("base", "1", "0.01"),
    ("solana", "2", "0.1"),
)


def run_demo(
    *,
    signers: str = "mpc",
    nodes: int = 5,
    threshold: int = 2,
    data_dir: Path | None = None,
    progress: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    """Run the demo and return ``{ok, results: [...]}`` (ARCHITECTURE.md, ``demo``).

    A failing step is reported in its result (``status: "failed"``, ``error``) and makes
    ``ok`` false; the devnet is torn down in every case.
    """
    from . import plugins
    from .devnet import UpOptions, down, up

    with tempfile.TemporaryDirectory(prefix="chainsig-demo-") as tmp:
        root = data_dir or Path(tmp) / "devnet"
        previous = os.environ.get("CHAINSIG_CONFIG")
        os.environ["CHAINSIG_CONFIG"] = str(Path(tmp) / "config.toml")
        plugins.reset()
        try:
            progress(f"starting the devnet ({signers})")
            description = up(UpOptions(data_dir=root, nodes=nodes, threshold=threshold, signers=signers), progress)
            try:
                results = [_transfer(description, chain, fund, amount, progress) for chain, fund, amount in TRANSFERS]
                results.append(_bitcoin(progress))
            finally:
                progress("stopping the devnet")
                down(root)
        finally:
            if previous is None:
                os.environ.pop("CHAINSIG_CONFIG", None)
            else:
                os.environ["CHAINSIG_CONFIG"] = previous
            plugins.reset()
    ok = all(r["status"] in ("confirmed", "verified") for r in results)
    return {"ok": ok, "signers": signers, "results": results}


def _transfer(description: dict[str, Any], chain: str, fund_amount: str, amount: str,
              progress: Callable[[str], None]) -> dict[str, Any]:
    from .derive import derive_address
    from .devnet.faucet import fund
    from .flow import send

    sender = derive_address(chain=chain, account=ACCOUNT, path=PATH, network="devnet")
    to = derive_address(chain=chain, account=RECIPIENT_ACCOUNT, path=PATH, network="devnet").address
    result: dict[str, Any] = {"chain": chain, "chain_network": sender.chain_network, "from": sender.address,
                              "to": to, "amount": amount, "tx_hash": None}
    try:
        progress(f"{chain}: funding {sender.address}")
        fund(description, chain, sender.address, fund_amount)
        progress(f"{chain}: sending {amount} to {to}")
        sent = send(chain=chain, account=ACCOUNT, path=PATH, to=to, amount=amount, network="devnet")
    except ChainsigError as exc:
        return {**result, "status": "failed", "error": str(exc)}
    return {**result, "tx_hash": sent.signed.tx_hash, "status": sent.receipt.status if sent.receipt else "signed"}


def _bitcoin(progress: Callable[[str], None]) -> dict[str, Any]:
    """A two-input P2WPKH spend from synthetic UTXOs, signed through the contract and verified
    by an independent script interpreter (no Bitcoin node can be installed here)."""
    from .derive import derive_address
    from .flow import send

    sender = derive_address(chain="bitcoin", account=ACCOUNT, path=PATH, network="devnet")
    to = derive_address(chain="bitcoin", account=RECIPIENT_ACCOUNT, path=PATH, network="devnet").address
    amount = "0.0005"
    result: dict[str, Any] = {"chain": "bitcoin", "chain_network": sender.chain_network, "from": sender.address,
                              "to": to, "amount": amount, "tx_hash": None}
    with tempfile.TemporaryDirectory(prefix="chainsig-demo-btc-") as tmp:
        utxos = Path(tmp) / "utxos.json"
        utxos.write_text(json.dumps([
            {"txid": hashlib.sha256(f"demo-funding-{i}".encode()).hexdigest(), "vout": i, "value": 40_000}
            for i in range(2)
        ]))
        try:
            progress("bitcoin: building, signing and verifying a 2-input spend")
            sent = send(chain="bitcoin", account=ACCOUNT, path=PATH, to=to, amount=amount, network="devnet",
                        options={"utxos": str(utxos), "fee_rate": "2"}, dry_run=True)
        except ChainsigError as exc:
            return {**result, "status": "failed", "error": str(exc)}
    return {**result, "tx_hash": sent.signed.tx_hash, "status": "verified"}
