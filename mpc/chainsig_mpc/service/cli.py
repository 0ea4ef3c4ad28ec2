"""The node service's commands in the ``chainsig mpc`` group: ``node``, ``status``, ``vote …``
and ``import`` (the group and ``init``/``check``/``backup``/``restore`` come from
:mod:`chainsig_mpc.node.cli`; :data:`SERVICE_COMMANDS` are added to it).

``mpc node --config F`` runs a node in the foreground; ``mpc status --config F`` asks a running
node's health endpoint; ``mpc vote new-parameters`` votes for a join/leave, ``mpc vote
add-domains`` for new domains (key generation); ``mpc import``
creates a node directory from existing keys (the devnet uses it).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .faults import MODES as FAULT_MODES


@click.command("import")
@click.option("--data-dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The node's directory (config, keys, encrypted store).")
@click.option("--account", "account_id", required=True, help="The node's NEAR account (a participant).")
@click.option("--account-key-file", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="near-cli key file of the account (copied into the node's credentials).")
@click.option("--tls-key-file", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="near-cli style ed25519 key file whose key the contract lists as tls_public_key.")
@click.option("--rpc-url", required=True, help="NEAR JSON-RPC endpoint.")
@click.option("--contract-id", required=True, help="The signer contract.")
@click.option("--network", default="devnet", show_default=True, help="NEAR network name (credentials layout).")
@click.option("--listen", required=True, help="host:port for peers (the port of the contract URL).")
@click.option("--metrics", default="127.0.0.1:0", show_default=True, help="host:port of /health and /metrics ('' for none).")
@click.option("--json", "json_out", is_flag=True, help="Print the result as JSON.")
def import_command(data_dir: Path, account_id: str, account_key_file: Path, tls_key_file: Path,
                   rpc_url: str, contract_id: str, network: str, listen: str, metrics: str,
                   json_out: bool) -> None:
    """Create a node from keys that exist already (e.g. registered by a devnet genesis).

    Use 'chainsig mpc init' to create a node with fresh keys.
    """
    from chainsig_core.cli.output import emit_json

    from .config import import_node, read_key_file

    tls_seed = read_key_file(tls_key_file, account_id).seed
    result = import_node(data_dir, account_key=read_key_file(account_key_file, account_id), tls_seed=tls_seed,
                         rpc_url=rpc_url, contract_id=contract_id, network=network, listen=listen,
                         metrics=metrics or None)
    if json_out:
        emit_json(result)
    else:
        click.echo(f"node config {result['config']}; tls_public_key {result['tls_public_key']}")


@click.command("node")
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The node's TOML config (from mpc init).")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning"]), default="info", show_default=True)
@click.option("--insecure-corrupt", "corrupt", multiple=True, type=click.Choice(FAULT_MODES),
              help="TEST ONLY, insecure: make this node send corrupted shares of this kind "
                   "(repeatable), to test that the other nodes name and exclude it.")
def node_command(config_path: Path, log_level: str, corrupt: tuple[str, ...]) -> None:
    """Run the node in the foreground until SIGINT/SIGTERM."""
    from .config import load_node_config
    from .faults import Faults
    from .node import MpcNode

    logging.basicConfig(level=getattr(logging, log_level.upper()), stream=sys.stderr, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "httpcore", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    config = load_node_config(config_path)

    if corrupt and config.network in ("mainnet", "testnet"):
        from chainsig_core.errors import InvalidInputError

        raise InvalidInputError(f"--insecure-corrupt is refused on NEAR {config.network}: it is for local test networks")
    faults = Faults(frozenset(corrupt))
    faults.warn()

    async def main() -> None:
        await MpcNode(config, faults).run()

    import asyncio

    asyncio.run(main())


@click.command("status")
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--metrics-url", default=None, help="The node's metrics URL (default: from the config).")
@click.option("--json", "json_out", is_flag=True)
def status_command(config_path: Path, metrics_url: str | None, json_out: bool) -> None:
    """Show a running node's health (participant id, contract state, peers, pools)."""
    import httpx

    from chainsig_core.cli.output import emit_json
    from chainsig_core.errors import RpcError

    from .config import load_node_config

    config = load_node_config(config_path)
    if metrics_url is None:
        import json

        from .node import RUNNING_FILE

        try:  # what the running node wrote when it became ready
            metrics_url = json.loads((config.data_dir / RUNNING_FILE).read_text())["metrics_url"]
        except (OSError, ValueError, KeyError, TypeError):
            metrics_url = None
        if metrics_url is None and config.metrics is not None and config.metrics[1] != 0:
            metrics_url = f"http://{config.metrics[0]}:{config.metrics[1]}"
        if metrics_url is None:
            raise RpcError("the node has not reported a metrics endpoint (is it running?); pass --metrics-url")
    try:
        health = httpx.get(f"{metrics_url}/health", timeout=5).json()
    except (httpx.HTTPError, ValueError) as exc:
        raise RpcError(f"the node at {metrics_url} does not answer: {type(exc).__name__}") from None
    if json_out:
        emit_json(health)
        return
    for key, value in health.items():
        click.echo(f"{key}: {value}")


@click.group("vote")
def vote_group() -> None:
    """Governance votes from this node's NEAR account."""


@vote_group.command("new-parameters")
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--add", multiple=True, help="Joiner as ACCOUNT=URL,TLS_PUBLIC_KEY (repeatable; order matters).")
@click.option("--remove", multiple=True, help="Account of a participant that leaves (repeatable).")
@click.option("--threshold", type=click.IntRange(2, 1000), default=None, help="Governance threshold (default NEAR's 60 % rule).")
@click.option("--domain-threshold", multiple=True, help="DOMAIN=K: a new reconstruction threshold.")
@click.option("--json", "json_out", is_flag=True, help="Print the proposal voted for.")
def vote_new_parameters(config_path: Path, add: tuple[str, ...], remove: tuple[str, ...],
                        threshold: int | None, domain_threshold: tuple[str, ...], json_out: bool) -> None:
    """Vote for a new participant set (join/leave): reshare with the same public keys."""
    from chainsig_core.cli.output import emit_json
    from chainsig_core.errors import InvalidInputError

    from .governance import new_parameters_proposal

    thresholds = {}
    for item in domain_threshold:
        domain, _, k = item.partition("=")
        if not domain.isdigit() or not k.isdigit():
            raise InvalidInputError(f"--domain-threshold {item!r}: expected DOMAIN=K")
        thresholds[int(domain)] = int(k)
    args = _vote(config_path, "vote_new_parameters",
                 lambda state: new_parameters_proposal(state, add, remove, threshold, thresholds))
    if json_out:
        emit_json(args)
    else:
        click.echo(f"voted for epoch {args['prospective_epoch_id']} with "
                   f"{len(args['proposal']['parameters']['participants']['participants'])} participants")


@vote_group.command("add-domains")
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--domain", "domains", multiple=True, required=True, metavar="PROTOCOL[:THRESHOLD]",
              help="A domain to add: DamgardEtAl (secp256k1) or Frost (ed25519), with its reconstruction "
                   "threshold (default: the existing domains' one, else the participant set's). "
                   "Repeatable; ids follow the contract's next_domain_id in the order given.")
@click.option("--json", "json_out", is_flag=True, help="Print the proposal voted for.")
def vote_add_domains(config_path: Path, domains: tuple[str, ...], json_out: bool) -> None:
    """Vote to add signing domains: once the governance threshold of participants voted for the
    same domains, the contract is Initializing and the nodes generate their keys."""
    from chainsig_core.cli.output import emit_json

    from .governance import add_domains_proposal, parse_domain_spec

    specs = [parse_domain_spec(text) for text in domains]  # refuse bad options before any RPC
    args = _vote(config_path, "vote_add_domains", lambda state: add_domains_proposal(state, specs))
    if json_out:
        emit_json(args)
    else:
        click.echo("voted to add " + ", ".join(
            f"domain {d['id']} ({d['protocol']}, threshold {d['reconstruction_threshold']})" for d in args["domains"]))


@vote_group.command("cancel-resharing")
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
def vote_cancel_resharing(config_path: Path) -> None:
    """Vote to cancel a reshare in progress (back to the previous Running state)."""
    _vote(config_path, "vote_cancel_resharing", lambda _state: {})
    click.echo("voted to cancel the resharing")


def _vote(config_path: Path, method: str, build: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """Send ``method`` from the node's account with the arguments ``build`` makes from the
    contract's current ``state``; returns them (the contract's refusal is one clear line)."""
    from .chain import ChainClient
    from .config import load_node_config

    config = load_node_config(config_path)

    async def main() -> dict[str, Any]:
        client = ChainClient(config.rpc_url, config.contract_id, config.access_key(), config.network)
        try:
            args = build(await client.state())
            await client.call(method, args)
            return args
        finally:
            await client.aclose()

    return _run_vote(main())


def _run_vote(coroutine):  # type: ignore[no-untyped-def]
    """Run a vote; the contract's refusal becomes one clear line."""
    from chainsig_core.errors import ChainsigError, RpcError

    try:
        import asyncio

        return asyncio.run(coroutine)
    except ChainsigError:
        raise
    except Exception as exc:  # near-kit's errors carry the contract's panic text
        raise RpcError(f"the vote was not accepted: {exc}") from None


SERVICE_COMMANDS = (node_command, status_command, vote_group, import_command)
"""Commands this module adds to the ``mpc`` group."""
