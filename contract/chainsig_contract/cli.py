"""``chainsig devnet host`` and ``chainsig devnet responder``.

The ``devnet`` click group is created here if core has none yet; later commands (``devnet
up/status/down/fund``) attach to the same group through :func:`devnet_group`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from chainsig_core.cli.output import warn
from chainsig_core.errors import InvalidInputError

DEFAULT_PORT = 3030
DEFAULT_BLOCK_MS = 100


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/chainsig/devnet`` (``~/.local/share/chainsig/devnet``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "chainsig" / "devnet"


@click.group("devnet")
def devnet_group() -> None:
    """The local devnet: a NEAR-like host running the signer contract (offline, loopback)."""


@devnet_group.command("host")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Chain database, keys and genesis (default ~/.local/share/chainsig/devnet).")
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True,
              help="JSON-RPC port on 127.0.0.1 (0 = any free port).")
@click.option("--block-ms", type=click.IntRange(5, 60_000), default=DEFAULT_BLOCK_MS, show_default=True,
              help="Block interval in milliseconds.")
@click.option("--genesis", "genesis_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Genesis JSON (see docs/devnet.md); ignored when the data dir holds a chain.")
@click.option("--responder", is_flag=True,
              help="Also run the dev responder (answers sign requests with the dev key: NOT MPC).")
@click.option("--wait-timeout", type=click.FloatRange(0.1, 600), default=10.0, show_default=True,
              help="Seconds send_tx/tx wait before answering TIMEOUT_ERROR (nearcore: 10).")
@click.option("--json", "json_out", is_flag=True, help="Print the devnet description as one JSON line.")
def host_command(data_dir: Path | None, port: int, block_ms: int, genesis_file: Path | None,
                 responder: bool, wait_timeout: float, json_out: bool) -> None:
    """Run the devnet host in the foreground until interrupted (state persists in SQLite)."""
    from .hosting import open_chain, run_host

    data_dir = (data_dir or default_data_dir()).expanduser().resolve()
    chain, created = open_chain(data_dir, genesis_file)
    if not created and genesis_file is not None:
        warn(f"{data_dir} already holds a chain; --genesis is ignored (use a new --data-dir)")
    import asyncio

    asyncio.run(run_host(chain, data_dir, port=port, block_ms=block_ms, responder=responder,
                         wait_timeout=wait_timeout, json_out=json_out))


@devnet_group.command("responder")
@click.option("--network", default="devnet", show_default=True, help="NEAR network from the config.")
@click.option("--rpc-url", default=None, help="Override the network's RPC URL.")
@click.option("--contract-id", default=None, help="Override the network's contract id.")
@click.option("--account", default=None,
              help="Participant account that sends respond (default: the first with credentials).")
@click.option("--credentials-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="near-cli credentials root (default: the network's).")
def responder_command(network: str, rpc_url: str | None, contract_id: str | None,
                      account: str | None, credentials_dir: Path | None) -> None:
    """Answer sign requests with the dev key (explicitly insecure fast mode; NOT MPC)."""
    from chainsig_core.config import load_config

    from .hosting import run_responder

    near_network = load_config().network(network)
    rpc_url = rpc_url or near_network.rpc_url
    contract_id = contract_id or near_network.contract_id
    if not rpc_url or not contract_id:
        raise InvalidInputError(f"network {network!r} has no RPC URL or contract id")
    creds = credentials_dir or near_network.credentials_dir
    import asyncio

    asyncio.run(run_responder(rpc_url, contract_id, creds, network, account))


def attach_devnet_commands(cli: click.Group) -> None:
    """Add ``host`` and ``responder`` to the CLI's ``devnet`` group (creating it if needed)."""
    existing = cli.commands.get("devnet")
    if isinstance(existing, click.Group) and existing is not devnet_group:
        for command in devnet_group.commands.values():
            existing.add_command(command)
        return
    cli.add_command(devnet_group)


def describe(chain: Any, data_dir: Path, rpc_url: str) -> dict[str, Any]:
    """The ``devnet host`` JSON (ARCHITECTURE.md): network, rpc_url, accounts, domains …"""
    genesis = json.loads((data_dir / "genesis.json").read_text("utf-8"))
    creds = data_dir / "credentials" / "devnet"
    accounts = [{"account_id": a["account_id"], "role": a["role"] if a["role"] != "registrar" else "user",
                 "credentials_file": str(creds / f"{a['account_id']}.json")}
                for a in genesis["accounts"]]
    domains = []
    state = chain.contract.state
    running = None
    if state is not None:
        protocol = state["protocol"]
        running = protocol.get("Running") if isinstance(protocol, dict) else None
    registry = running["domains"]["domains"] if running else genesis["domains"]
    keys = {k["domain_id"]: k["key"] for k in running["keyset"]["domains"]} if running else {}
    for domain in registry:
        key = keys.get(domain["id"])
        public = None
        if key:
            public = key["Secp256k1"]["near_public_key"] if "Secp256k1" in key else \
                key["Ed25519"]["near_public_key_compressed"]
        curve = domain.get("curve") or ("Secp256k1" if domain["protocol"] in ("DamgardEtAl", "CaitSith") else "Edwards25519")
        domains.append({"id": domain["id"], "curve": curve, "protocol": domain["protocol"],
                        "reconstruction_threshold": domain["reconstruction_threshold"],
                        "public_key": public})
    threshold = running["parameters"]["threshold"] if running else genesis["threshold"]
    return {"network": "devnet", "rpc_url": rpc_url, "contract_id": genesis["contract_id"],
            "data_dir": str(data_dir), "accounts": accounts, "nodes": [], "threshold": threshold,
            "domains": domains, "chains": {}}


__all__ = ["attach_devnet_commands", "default_data_dir", "describe", "devnet_group",
           "host_command", "responder_command"]
