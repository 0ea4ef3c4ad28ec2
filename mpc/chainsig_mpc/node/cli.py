"""Operator commands: ``chainsig mpc init | check | backup | restore``.

``mpc_group`` is the click group; the core CLI attaches it through the ``register_commands``
hook. (``mpc node``, ``mpc status`` and ``mpc vote`` join it with the node service.)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from chainsig_core.cli.base import ChainsigGroup
from chainsig_core.cli.output import emit_json

from .errors import BackupError, NodeConfigError

PASSPHRASE_ENV_HELP = "Read the passphrase from this environment variable instead of prompting."


@click.group("mpc", cls=ChainsigGroup)
def mpc_group() -> None:
    """Run and operate an MPC node of the signer network."""


@mpc_group.command("init")
@click.option("--account", "account_id", required=True, help="The node's NEAR account id.")
@click.option("--network", default="devnet", show_default=True, help="NEAR network name (from the chainsig config, or any name with --rpc-url and --contract-id).")
@click.option("--rpc-url", default=None, help="NEAR JSON-RPC URL (default: the network's in the chainsig config).")
@click.option("--contract-id", default=None, help="The signer contract (default: the network's in the chainsig config).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), required=True, help="Directory for the keys, the config and the encrypted store.")
@click.option("--listen", default="127.0.0.1:4001", show_default=True, help="host:port where peers connect.")
@click.option("--public-url", default=None, help="The url peers use (the participant url in the contract); default https://<listen>.")
@click.option("--metrics", default=None, help="host:port of the /health and /metrics endpoint (default: none).")
@click.option("--node-key-env", default=None, help="Take the node key from this environment variable instead of generating a key file.")
@click.option("--credentials-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="near-cli credentials directory (default: <data-dir>/credentials).")
@click.option("--json", "json_out", is_flag=True, help="Print machine-readable JSON.")
def init_command(account_id: str, network: str, rpc_url: str | None, contract_id: str | None,
                 data_dir: Path, listen: str, public_url: str | None, metrics: str | None,
                 node_key_env: str | None, credentials_dir: Path | None, json_out: bool) -> None:
    """Create a node: TLS identity, node key, NEAR account key and node.toml.

    Prints what to register in the contract: the account's public key and the participant's
    url and tls_public_key. Existing files are never overwritten; an existing account key in
    the credentials directory is reused.
    """
    from chainsig_core.credentials import credentials_path, generate_access_key, load_access_key, write_access_key

    from .config import parse_node_config, write_node_config
    from .identity import NodeIdentity, save_identity
    from .nodekey import generate_node_key_file

    rpc_url, contract_id = _network_defaults(network, rpc_url, contract_id)
    data_dir = data_dir.expanduser().resolve()
    credentials_dir = (credentials_dir or data_dir / "credentials").expanduser().resolve()
    config_path = data_dir / "node.toml"
    node: dict[str, Any] = {"account_id": account_id, "data_dir": str(data_dir), "listen": listen,
                            "tls_identity_file": str(data_dir / "tls_identity.pem")}
    if public_url:
        node["public_url"] = public_url
    if metrics:
        node["metrics"] = metrics
    document = {
        "node": node,
        "near": {"network": network, "rpc_url": rpc_url, "contract_id": contract_id,
                 "credentials_dir": str(credentials_dir)},
        "node_key": {"env": node_key_env} if node_key_env else {"file": str(data_dir / "node.key")},
    }
    config = parse_node_config(document, config_path)  # every problem reported before any write
    for existing in (config_path, config.tls_identity_file, config.node_key.file):
        if existing is not None and existing.exists():
            raise NodeConfigError(f"{existing} already exists: this data directory holds a node already")
    data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)
    identity = NodeIdentity.generate()
    save_identity(config.tls_identity_file, identity)
    if config.node_key.file is not None:
        generate_node_key_file(config.node_key.file)
    key_file = credentials_path(credentials_dir, network, account_id)
    if key_file.exists():
        access_key, account_key = load_access_key(credentials_dir, network, account_id), "existing"
    else:
        access_key, account_key = generate_access_key(account_id), "generated"
        write_access_key(credentials_dir, network, access_key)
    write_node_config(config_path, document)
    result = {
        "config": str(config_path), "account_id": account_id,
        "account_public_key": access_key.public_key.to_near_string(), "account_key": account_key,
        "credentials_file": str(key_file), "url": config.public_url,
        "tls_public_key": identity.tls_public_key, "node_key": config.node_key.describe(),
        "data_dir": str(data_dir), "network": network, "contract_id": contract_id,
    }
    if json_out:
        emit_json(result)
        return
    click.echo(f"node config      {config_path}")
    click.echo(f"account          {account_id} ({account_key} key {result['account_public_key']})")
    click.echo(f"participant url  {config.public_url}")
    click.echo(f"tls_public_key   {identity.tls_public_key}")
    click.echo(f"node key         {config.node_key.describe()}")
    click.echo("Register the account, url and tls_public_key with the contract, then run "
               f"'chainsig mpc node --config {config_path}'.")


@mpc_group.command("check")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The node's node.toml.")
@click.option("--json", "json_out", is_flag=True, help="Print machine-readable JSON.")
def check_command(config_path: Path, json_out: bool) -> None:
    """Validate a node config and open everything it names (keys, credentials, store)."""
    config, identity, store = _open(config_path)
    try:
        access_key = config.load_access_key()
        counts = {kind: store.count(kind) for kind in store.kinds()}
    finally:
        store.close()
    result = dict(config.summary(), tls_public_key=identity.tls_public_key,
                  account_public_key=access_key.public_key.to_near_string(), records=counts)
    if json_out:
        emit_json(result)
        return
    for key, value in result.items():
        click.echo(f"{key:<20} {value}")


@mpc_group.command("backup")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The node's node.toml.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Backup file to create.")
@click.option("--passphrase-env", default=None, help=PASSPHRASE_ENV_HELP)
@click.option("--json", "json_out", is_flag=True, help="Print machine-readable JSON.")
def backup_command(config_path: Path, out_path: Path, passphrase_env: str | None, json_out: bool) -> None:
    """Write the node's key shares to a passphrase-encrypted file (never presignatures)."""
    from .backup import backup_shares

    passphrase = _passphrase(passphrase_env, confirm=True)
    _config, _identity, store = _open(config_path)
    try:
        count = backup_shares(store, out_path, passphrase)
    finally:
        store.close()
    if json_out:
        emit_json({"backup": str(out_path), "records": count})
    else:
        click.echo(f"backed up {count} key share record(s) to {out_path}")


@mpc_group.command("restore")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The node's node.toml.")
@click.option("--in", "in_path", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Backup file to read.")
@click.option("--passphrase-env", default=None, help=PASSPHRASE_ENV_HELP)
@click.option("--replace", is_flag=True, help="Overwrite shares the store holds with other values.")
@click.option("--json", "json_out", is_flag=True, help="Print machine-readable JSON.")
def restore_command(config_path: Path, in_path: Path, passphrase_env: str | None, replace: bool, json_out: bool) -> None:
    """Put key shares from a backup file into the node's store."""
    from .backup import restore_shares

    passphrase = _passphrase(passphrase_env, confirm=False)
    _config, _identity, store = _open(config_path)
    try:
        count = restore_shares(store, in_path, passphrase, replace=replace)
    finally:
        store.close()
    if json_out:
        emit_json({"restored": count, "backup": str(in_path)})
    else:
        click.echo(f"restored {count} key share record(s) from {in_path}")


def _open(config_path: Path) -> tuple[Any, Any, Any]:
    from .config import load_node_config
    from .store import NodeStore

    config = load_node_config(config_path)
    identity = config.load_identity()
    store = NodeStore(config.store_path, config.node_key.load())
    return config, identity, store


def _passphrase(env: str | None, *, confirm: bool) -> str:
    if env:
        value = os.environ.get(env)
        if not value:
            raise BackupError(f"the passphrase variable {env} is not set")
        return value
    return str(click.prompt("Backup passphrase", hide_input=True, confirmation_prompt=confirm, err=True))


def _network_defaults(network: str, rpc_url: str | None, contract_id: str | None) -> tuple[str, str]:
    if rpc_url and contract_id:
        return rpc_url, contract_id
    from chainsig_core.config import load_config
    from chainsig_core.errors import UnknownNameError

    try:
        known = load_config().network(network)
    except UnknownNameError:
        raise NodeConfigError(
            f"network {network!r} is not in the chainsig config: pass --rpc-url and --contract-id"
        ) from None
    if not known.rpc_url or not known.contract_id:
        raise NodeConfigError(f"network {network!r} has no contract: pass --rpc-url and --contract-id")
    return rpc_url or known.rpc_url, contract_id or known.contract_id
