"""``chainsig derive``: addresses the signer contract controls for (account, path)."""

from __future__ import annotations

import sys
from typing import IO

import click

from ..config import load_config
from ..derive import derive_address, derive_batch_parallel
from ..chain import Chain
from ..config import Config
from ..errors import InvalidInputError
from ..keys import Curve
from ..plugins import get_chain, get_chains
from .common import DOMAIN_HELP, chain_network_option, domain_option, json_option
from .output import emit_json, table


@click.command()
@click.option("--network", default="mainnet", show_default=True, help="NEAR network whose root key derives.")
@click.option("--chain", default=None, help="Chain name; default: every installed chain.")
@click.option("--account", default=None, help="NEAR account that calls sign (the predecessor).")
@click.option("--path", default=None, help="Derivation path (any string, e.g. 'ethereum-1').")
@chain_network_option
@click.option("--address-type", default=None, help="Address form for chains with several (bitcoin: p2wpkh, p2pkh).")
@click.option(
    "--from-file", "from_file", default=None,
    # utf-8-sig: a BOM (Windows editors) is not part of line 1; surrogateescape: a line that is
    # not UTF-8 becomes one {"line", "error"} object instead of ending the batch.
    type=click.File("r", encoding="utf-8-sig", errors="surrogateescape"),
    help="Batch: JSON lines with chain, account, path [, network, chain_network, address_type, domain_id]; '-' = stdin. Writes JSON lines in input order.",
)
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Processes for --from-file (default: one per CPU; small files run in process).")
@domain_option(DOMAIN_HELP + " Without --chain: every installed chain of that domain's curve.")
@json_option
def derive(
    network: str,
    chain: str | None,
    account: str | None,
    path: str | None,
    chain_network: str | None,
    address_type: str | None,
    from_file: IO[str] | None,
    workers: int | None,
    domain_id: int | None,
    json_out: bool,
    **options: object,
) -> None:
    """Derive the keys and addresses v1.signer controls for an account and path.

    \b
    chainsig derive --account alice.near --path ethereum-1
    chainsig derive --chain bitcoin --account alice.near --path btc --address-type p2pkh --json
    chainsig derive --chain ethereum --account alice.near --path eth-1 --domain 2
    chainsig derive --from-file rows.jsonl > addresses.jsonl
    """
    config = load_config()
    if from_file is not None:
        if account or path or chain:
            raise InvalidInputError("--from-file takes the chain, account and path from each line")
        if domain_id is not None:
            raise InvalidInputError(
                "--domain is for one account: give a --from-file row its domain with \"domain_id\": N "
                "(rows without it derive in their chain's default domain)"
            )
        config.network(network)  # an unknown default network is an error, not one per line
        out = sys.stdout
        for text in derive_batch_parallel(from_file, network=network, workers=workers):
            out.write(text if text.endswith("\n") else text + "\n")
        out.flush()
        return
    if account is None or path is None:
        raise InvalidInputError("derive needs --account and --path (or --from-file)")
    chains = [get_chain(chain)] if chain else list(get_chains().values())
    if not chains:
        raise InvalidInputError("no chain plugin is installed (pip install chainsig-evm, …)")
    if chain is None and domain_id is not None:
        chains = _chains_of_domain(chains, config, network, domain_id)
    if address_type is not None and chain is None:
        raise InvalidInputError("--address-type needs --chain")
    if chain_network is not None and chain is None:
        raise InvalidInputError("--chain-network needs --chain")
    results = [
        derive_address(
            chain=chain_obj, account=account, path=path, network=network,
            chain_network=chain_network, address_type=address_type, config=config, domain_id=domain_id,
        ).to_json()
        for chain_obj in chains
    ]
    if json_out:
        emit_json(results[0] if chain else results)
        return
    table(
        [(r["chain"], r["chain_network"], r.get("address_type") or "", r["address"]) for r in results],
        ("chain", "chain network", "type", "address"),
    )
    if not chain:
        domain = "" if domain_id is None else f" · domain {domain_id}"
        click.echo(f"\n{network} · account {account} · path {path!r}{domain}", err=True)


def _chains_of_domain(chains: list[Chain], config: Config, network: str, domain_id: int) -> list[Chain]:
    """The chains whose curve is that of ``domain_id``'s root key on ``network``.

    Raises
    ------
    UnknownNameError
        When the domain's root key is not known (built in or configured).
    InvalidInputError
        When no installed chain uses that curve.
    """
    curve = config.network(network).root_public_key(domain_id).curve
    matching = [c for c in chains if Curve.default_for_domain(c.domain_id) is curve]
    if not matching:
        raise InvalidInputError(
            f"domain {domain_id} on network {network!r} is {curve.value}, and no installed chain uses {curve.value} keys"
        )
    return matching
