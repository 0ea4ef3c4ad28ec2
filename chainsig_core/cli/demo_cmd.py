"""``chainsig demo``."""

from __future__ import annotations

import click

from .common import json_option
from .output import emit_json, table


@click.command()
@click.option("--signers", type=click.Choice(["mpc", "dev-responder"]), default="mpc", show_default=True,
              help="Who answers sign requests on the demo devnet: the MPC nodes, or the dev responder (one local key: NOT MPC).")
@click.option("--nodes", type=click.IntRange(2, 30), default=5, show_default=True, help="MPC nodes (with --signers mpc).")
@click.option("--threshold", type=click.IntRange(2, 30), default=2, show_default=True, help="Reconstruction threshold K.")
@json_option
def demo(signers: str, nodes: int, threshold: int, json_out: bool) -> None:
    """Run the whole flow on a private devnet, report, and tear it down.

    devnet up → derive alice.devnet's addresses → fund them → send on Ethereum and Base (anvil)
    and Solana (local RPC), and build, sign and verify a Bitcoin spend → report → devnet down.
    """
    from ..demo import run_demo

    progress = (lambda _m: None) if json_out else (lambda message: click.echo(f"· {message}", err=True))
    report = run_demo(signers=signers, nodes=nodes, threshold=threshold, progress=progress)
    if json_out:
        emit_json(report)
    else:
        table([(r["chain"], r["chain_network"], r["amount"], r["status"], r.get("tx_hash") or r.get("error", ""))
               for r in report["results"]], ("chain", "chain network", "amount", "status", "tx hash / error"))
        click.echo(f"\n{'ok' if report['ok'] else 'FAILED'} — signatures from: {signers}")
    if not report["ok"]:
        raise SystemExit(1)
