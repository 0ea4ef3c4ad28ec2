"""``chainsig devnet up / status / down / fund`` (the contract plugin adds ``host`` and
``responder`` to the same group)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from .common import DOMAIN_HELP, domain_option, json_option, refuse_derivation_with_address
from .output import emit_json, is_terminal, table


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/chainsig/devnet-up`` (``~/.local/share/chainsig/devnet-up``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "chainsig" / "devnet-up"


_data_dir_option = click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Where the devnet keeps its chain, keys, logs and state (default ~/.local/share/chainsig/devnet-up).",
)


@click.group("devnet")
def devnet() -> None:
    """The local devnet: NEAR host, signers, anvil and a local Solana RPC, on loopback."""


@devnet.command("up")
@_data_dir_option
@click.option("--nodes", type=click.IntRange(2, 30), default=5, show_default=True, help="MPC node processes.")
@click.option("--threshold", type=click.IntRange(2, 30), default=2, show_default=True, help="Reconstruction threshold K.")
@click.option("--block-ms", type=click.IntRange(5, 60_000), default=100, show_default=True, help="NEAR block interval.")
@click.option("--signers", type=click.Choice(["mpc", "dev-responder"]), default="mpc", show_default=True,
              help="Who answers sign requests: the MPC nodes, or the dev responder (one local key: NOT MPC).")
@click.option("--no-evm", is_flag=True, help="Do not start anvil.")
@click.option("--no-solana", is_flag=True, help="Do not start the local Solana RPC.")
@json_option
def up_command(data_dir: Path | None, nodes: int, threshold: int, block_ms: int, signers: str,
               no_evm: bool, no_solana: bool, json_out: bool) -> None:
    """Start the devnet and return once it signs."""
    from ..devnet import UpOptions, up

    options = UpOptions(data_dir=data_dir or default_data_dir(), nodes=nodes, threshold=threshold,
                        block_ms=block_ms, signers=signers, evm=not no_evm, solana=not no_solana)
    progress = (lambda message: click.echo(message + "…", err=True)) if is_terminal() and not json_out else (lambda _m: None)
    description = up(options, progress)
    if json_out:
        emit_json(description, compact=True)
        return
    click.echo(f"devnet up: NEAR RPC {description['rpc_url']}, contract {description['contract_id']}")
    if description.get("nodes"):
        table([(n["account_id"], n["url"], n["pid"], n["metrics_url"] or "") for n in description["nodes"]],
              ("MPC node", "peer url", "pid", "metrics"))
    table([(d["id"], d["curve"], d["protocol"], d["public_key"] or "") for d in description["domains"]],
          ("domain", "curve", "protocol", "root public key"))
    table([(name, c["chain_network"], c["rpc_url"]) for name, c in description["chains"].items()],
          ("chain", "chain network", "rpc url"))


@devnet.command("status")
@_data_dir_option
@json_option
def status_command(data_dir: Path | None, json_out: bool) -> None:
    """Show the devnet's services and whether they run."""
    from ..devnet import status

    description = status(data_dir or default_data_dir())
    if json_out:
        emit_json(description)
        return
    table([(s["name"], s["pid"], "running" if s["running"] else "STOPPED") for s in description["services"]],
          ("service", "pid", "state"))


@devnet.command("down")
@_data_dir_option
def down_command(data_dir: Path | None) -> None:
    """Stop exactly the processes 'devnet up' started."""
    from ..devnet import down

    stopped = down(data_dir or default_data_dir())
    click.echo(f"stopped: {', '.join(stopped) or 'nothing was running'}")


@devnet.command("fund")
@_data_dir_option
@click.option("--chain", required=True, help="ethereum, base or solana (the devnet's local nodes).")
@click.option("--address", default=None, help="Address to fund (or --account and --path).")
@click.option("--account", default=None, help="NEAR account whose derived address to fund.")
@click.option("--path", default=None, help="Derivation path.")
@click.option("--amount", required=True, help="Decimal amount in the main unit, or base units with suffix.")
@domain_option("With --account/--path: " + DOMAIN_HELP)
@json_option
def fund_command(data_dir: Path | None, chain: str, address: str | None, account: str | None,
                 path: str | None, amount: str, domain_id: int | None, json_out: bool) -> None:
    """Faucet: add funds to an address on a devnet chain."""
    from ..derive import derive_address
    from ..devnet import status
    from ..devnet.faucet import fund
    from ..errors import InvalidInputError

    description = status(data_dir or default_data_dir())
    if address is None:
        if account is None or path is None:
            raise InvalidInputError("fund needs --address, or --account and --path")
        address = derive_address(chain=chain, account=account, path=path, network="devnet",
                                 chain_network=description.get("chains", {}).get(chain, {}).get("chain_network"),
                                 domain_id=domain_id).address
    else:
        refuse_derivation_with_address(account=account, path=path, domain=domain_id)
    result = fund(description, chain, address, amount)
    if json_out:
        emit_json(result)
    else:
        click.echo(f"{result['address']}: +{result['amount']} → {result['balance']}")
