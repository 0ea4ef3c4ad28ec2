"""``chainsig bitcoin …``: fee bumping (BIP125) and PSBT (BIP174) import/export.

These produce and read core's bundles, so signing stays ``chainsig finalize BUNDLE --sign``
(or ``--signatures FILE`` on an air-gapped machine) and sending stays ``chainsig broadcast``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from chainsig_core.cli.common import DOMAIN_HELP, domain_option, read_json_file, write_json_file
from chainsig_core.errors import InvalidInputError


@click.group("bitcoin")
def bitcoin() -> None:
    """Bitcoin tools: fee bumping (BIP125) and PSBT (BIP174) import/export."""


def _sender_options(f: Any) -> Any:
    f = domain_option(DOMAIN_HELP)(f)
    f = click.option("--rpc-url", default=None, help="Esplora or Bitcoin Core URL (overrides the config).")(f)
    f = click.option("--address-type", default=None, help="Sender address form: p2wpkh (default) or p2pkh.")(f)
    f = click.option(
        "--chain-network", default=None,
        help="mainnet, testnet, testnet4, signet or regtest (default follows --network).",
    )(f)
    f = click.option("--path", default=None, help="Derivation path.")(f)
    f = click.option("--account", default=None, help="NEAR account that calls sign.")(f)
    f = click.option("--network", default=None, help="NEAR network: mainnet, testnet, devnet, dev …")(f)
    return f


def _derive(
    network: str | None, account: str | None, path: str | None, chain_network: str | None,
    address_type: str | None, domain_id: int | None,
) -> Any:
    from chainsig_core.derive import derive_address

    if not (network and account and path):
        raise InvalidInputError("this needs --network, --account and --path (the sender)")
    return derive_address(
        chain="bitcoin", account=account, path=path, network=network,
        chain_network=chain_network, address_type=address_type, domain_id=domain_id,
    )


@bitcoin.command("bump-fee")
@click.argument("bundle", required=False)
@click.option("--fee-rate", required=True, help="The new fee rate in sat/vB (higher than the original's).")
@click.option("--txid", default=None, help="Replace this broadcast transaction (fetched from the back end) instead of a BUNDLE.")
@_sender_options
@click.option("-o", "--output", default=None, help="Write the new unsigned bundle here (default: stdout).")
def bump_fee(
    bundle: str | None, fee_rate: str, txid: str | None, network: str | None, account: str | None,
    path: str | None, chain_network: str | None, address_type: str | None, rpc_url: str | None,
    domain_id: int | None, output: str | None,
) -> None:
    """Build a BIP125 replacement paying FEE-RATE, as an unsigned bundle.

    Give the original's BUNDLE (from 'chainsig prepare' or an earlier bump-fee), or --txid with
    the sender (--network/--account/--path) to fetch it from the back end. Then sign and send
    the result with 'chainsig finalize OUT --sign' and 'chainsig broadcast'.
    """
    from chainsig_core.flow import chain_endpoint
    from chainsig_core.plugins import get_chain
    from chainsig_core.types import Prepared

    from .backends import get_backend
    from .bump import bump_spend, spend_from_transaction
    from .chain import make_prepared
    from .fees import parse_fee_rate
    from .spend import UnsignedSpend

    rate = parse_fee_rate(fee_rate, "--fee-rate")
    chain = get_chain("bitcoin")
    if (bundle is None) == (txid is None):
        raise InvalidInputError("bump-fee needs exactly one of BUNDLE or --txid")
    if bundle is not None:
        original = Prepared.from_json(read_json_file(bundle, "bundle"))
        if domain_id is not None:
            raise InvalidInputError("a BUNDLE names its sender and domain: --domain goes with --txid")
        if original.chain != "bitcoin":
            raise InvalidInputError(f"the bundle is for {original.chain}, not bitcoin")
        sender, net = original.sender, original.chain_network
        spend = UnsignedSpend.from_json(original.tx)
        carried = {k: original.summary[k] for k in ("to", "amount", "amount_sats") if k in original.summary}
        endpoint = chain_endpoint(chain, net, rpc_url)
    else:
        derived = _derive(network, account, path, chain_network, address_type, domain_id)
        sender, net = derived.derived_account, derived.chain_network
        endpoint = chain_endpoint(chain, net, rpc_url)
        backend = get_backend(endpoint, net)
        try:
            raw = backend.raw_transaction(txid.lower())  # type: ignore[union-attr]
            from embit.transaction import Transaction

            prev_ids = {vin.txid.hex() for vin in Transaction.parse(raw).vin}
            previous = {p: backend.raw_transaction(p) for p in prev_ids}
        finally:
            backend.close()
        spend = spend_from_transaction(raw, previous, sender.public_key.compressed, derived.address_type)
        carried = {"replaces": txid.lower()}  # type: ignore[union-attr]
    bumped = bump_spend(spend, rate, endpoint.settings, where=f"[chains.bitcoin.{net}]")
    from .psbt import export_psbt

    prepared = make_prepared(
        sender, net, bumped, export_psbt(bumped),
        {**carried, "fee_rate": str(rate), "original_fee": spend.fee},
    )
    write_json_file(output, prepared.to_json())


@bitcoin.command("psbt-export")
@click.argument("source")
@click.option("-o", "--output", default=None, help="Write the base64 PSBT here (default: stdout).")
def psbt_export(source: str, output: str | None) -> None:
    """Print the PSBT of SOURCE: an unsigned bundle (from 'prepare') or a signed transaction
    (from 'finalize', with the partial signatures and final scripts)."""
    data = read_json_file(source, "bundle or signed transaction")
    psbt = None
    if isinstance(data, dict):
        psbt = (data.get("tx") or {}).get("psbt") if isinstance(data.get("tx"), dict) else None
        if psbt is None and isinstance(data.get("details"), dict):
            psbt = data["details"].get("psbt")
    if not isinstance(psbt, str):
        raise InvalidInputError(f"{source} is neither a bitcoin bundle nor a signed bitcoin transaction")
    _write_text(output, psbt)


@bitcoin.command("psbt-import")
@click.argument("psbt_file")
@_sender_options
@click.option("-o", "--output", default=None, help="Write the unsigned bundle here (default: stdout).")
def psbt_import(
    psbt_file: str, network: str | None, account: str | None, path: str | None,
    chain_network: str | None, address_type: str | None, rpc_url: str | None, domain_id: int | None,
    output: str | None,
) -> None:
    """Turn a PSBT from another wallet (PSBT_FILE: base64 or binary, '-' = stdin) into an
    unsigned bundle for the derived key of --account/--path; sign it with 'chainsig finalize'."""
    from .chain import make_prepared
    from .psbt import export_psbt, import_psbt

    derived = _derive(network, account, path, chain_network, address_type, domain_id)
    spend = import_psbt(_read_psbt(psbt_file), derived.public_key.compressed)
    prepared = make_prepared(
        derived.derived_account, derived.chain_network, spend, export_psbt(spend), {"source": "psbt"}
    )
    write_json_file(output, prepared.to_json())


def _read_psbt(path: str) -> str:
    import base64
    import sys

    try:
        raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"cannot read PSBT file {path}: {exc.strerror}") from None
    if raw.startswith(b"psbt\xff"):
        return base64.b64encode(raw).decode("ascii")
    try:
        return raw.decode("ascii").strip()
    except UnicodeDecodeError:
        raise InvalidInputError(f"{path} is neither a base64 nor a binary PSBT") from None


def _write_text(path: str | None, text: str) -> None:
    if path in (None, "-"):
        click.echo(text)
        return
    try:
        Path(path).write_text(text + "\n", "utf-8")
    except OSError as exc:
        raise InvalidInputError(f"cannot write {path}: {exc.strerror}") from None
