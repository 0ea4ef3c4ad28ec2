"""``sign``, ``prepare``, ``finalize``, ``broadcast``, ``send`` and ``balance``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ..config import load_config
from ..derive import derive_address, resolve_chain_network
from ..errors import ChainsigError, InvalidInputError
from ..keys import MAX_DOMAIN_ID
from ..plugins import get_chain
from ..types import Prepared, SignedTx
from .base import given_options
from .common import (
    DOMAIN_HELP,
    account_options,
    chain_network_option,
    confirm_mainnet,
    domain_option,
    json_option,
    network_option,
    read_json_file,
    refuse_derivation_with_address,
    rpc_url_option,
    write_json_file,
)
from .output import emit_json, table

if TYPE_CHECKING:
    from ..signatures import Signature


@click.command()
@network_option(required=True)
@click.option("--account", required=True, help="NEAR account that calls sign (the predecessor).")
@click.option("--path", default=None, help="Derivation path (any string, e.g. 'ethereum-1').")
@click.option("--payload", default=None, help="Hex payload: a 32-byte hash (secp256k1 domains) or the message (ed25519 domains).")
@click.option("--domain", "domain_id", type=click.IntRange(0, MAX_DOMAIN_ID), default=0, show_default=True, help="Signer domain: 0 = secp256k1 ECDSA, 1 = ed25519 EdDSA; a domain the contract added (2, 3, …) signs on the curve of its root key.")
@click.option("--resume", "resume_tx", default=None, metavar="TX_HASH", help="Resume waiting for an earlier sign transaction instead of sending a new one.")
@click.option("--gas", "gas_tgas", type=click.IntRange(1, 300), default=None, help="Prepaid gas of the sign call in Tgas (default 300; unused gas is refunded).")
@click.option("--yes", is_flag=True, help="Do not ask before spending gas on mainnet.")
@json_option
def sign(network: str, account: str, path: str | None, payload: str | None, domain_id: int,
         resume_tx: str | None, gas_tgas: int | None, yes: bool, json_out: bool) -> None:
    """Get a verified signature of PAYLOAD from the network's signer."""
    from ..payloads import parse_payload_hex
    from ..signers import SignRequest
    from .progress import signer_session

    request = None
    if resume_tx is not None:
        if path is not None or payload is not None:
            raise InvalidInputError("--resume takes the path and payload from the transaction")
    else:
        if path is None or payload is None:
            raise InvalidInputError("sign needs --path and --payload (or --resume TX_HASH)")
        request = SignRequest(account, path, domain_id, parse_payload_hex(payload))
        confirm_mainnet(network, yes, "a signature request")
    with signer_session(network, json_out, gas_tgas) as signer:
        if request is not None:
            result = signer.sign(request)
        else:
            resume = getattr(signer, "resume", None)
            if resume is None:
                raise InvalidInputError(f"network {network!r} has no transactions to resume")
            result = resume(resume_tx, account)
    out = result.to_json(network)
    if json_out:
        emit_json(out)
        return
    click.echo(f"public key  {result.public_key.to_near_string()}")
    for key, value in out["signature"].items():
        click.echo(f"{key:<11} {value}")


def _transfer_options(f: Any) -> Any:
    f = domain_option(DOMAIN_HELP)(f)
    f = click.option("--address-type", default=None, help="Sender address form (bitcoin: p2wpkh, p2pkh).")(f)
    f = rpc_url_option(f)
    f = chain_network_option(f)
    f = click.option("--token", default=None, help="Token to send instead of the native asset (ERC-20 address, SPL mint …).")(f)
    f = click.option("--amount", required=True, help="Decimal amount in the main unit ('0.01') or base units with suffix ('1000wei').")(f)
    f = click.option("--to", required=True, help="Recipient address.")(f)
    f = account_options(f)
    f = click.option("--chain", required=True, help="Chain name (see 'chainsig chains').")(f)
    f = network_option(required=True)(f)
    return f


@click.command()
@_transfer_options
@click.option("-o", "--output", default=None, help="Write the unsigned bundle here (default: stdout).")
def prepare(
    network: str, chain: str, account: str, path: str, to: str, amount: str, token: str | None,
    chain_network: str | None, rpc_url: str | None, address_type: str | None, domain_id: int | None,
    output: str | None, **options: Any,
) -> None:
    """Build an unsigned bundle (transaction + payloads) for air-gapped or later signing."""
    from ..flow import prepare as prepare_flow

    prepared = prepare_flow(
        chain=chain, account=account, path=path, to=to, amount=amount, network=network,
        chain_network=chain_network, token=token, address_type=address_type,
        options=chain_options_given(chain, "prepare", options), rpc_url=rpc_url, domain_id=domain_id,
    )
    write_json_file(output, prepared.to_json())


@click.command()
@click.argument("bundle")
@click.option("--signatures", "signatures_file", default=None, help="JSON list of signatures, one per payload: contract responses, 'sign --json' objects or {r,s,recovery_id}/{ed25519}.")
@click.option("--sign", "sign_now", is_flag=True, help="Sign the payloads now with the bundle's network signer.")
@click.option("--yes", is_flag=True, help="Do not ask before spending gas on mainnet.")
@click.option("-o", "--output", default=None, help="Write the signed transaction here (default: stdout).")
@click.pass_context
def finalize(ctx: click.Context, bundle: str, signatures_file: str | None, sign_now: bool, yes: bool, output: str | None, **options: Any) -> None:
    """Attach signatures to BUNDLE (from 'prepare'; '-' = stdin) and verify the result."""
    from ..flow import finalize_bundle, sign_prepared
    from .progress import signer_session

    prepared = Prepared.from_json(read_json_file(bundle, "bundle"))
    if sign_now == (signatures_file is not None):
        raise InvalidInputError("finalize needs exactly one of --signatures FILE or --sign")
    if sign_now:
        network = prepared.sender.network
        confirm_mainnet(network, yes, "signing the bundle")
        with signer_session(network, False) as signer:
            signatures = sign_prepared(signer, prepared)
    else:
        raw = read_json_file(signatures_file, "signatures file")  # type: ignore[arg-type]
        if not isinstance(raw, list):
            raise InvalidInputError("the signatures file must hold a JSON list, one entry per payload")
        signatures = []
        for number, item in enumerate(raw, 1):
            try:
                signatures.append(_signature_item(item))
            except ChainsigError as exc:
                raise InvalidInputError(f"signatures file, entry {number}: {exc}") from None
    signed = finalize_bundle(prepared, signatures)
    write_json_file(output, signed.to_json())


def chain_options_given(chain: str, command: str, options: dict[str, Any]) -> dict[str, Any]:
    """The chain options given to ``command``, refusing those of other chains.

    Every installed chain's options are attached to the command, so ``--utxos`` parses for an
    Ethereum send: it is refused here, in one line, before any RPC call or signing session.

    Raises
    ------
    InvalidInputError
        Naming the options ``chain`` does not take and those it does.
    """
    given = given_options(options)
    own = {o.dest: o.flag for o in get_chain(chain).cli_options() if command in o.commands}
    foreign = sorted("--" + name.replace("_", "-") for name in given if name not in own)
    if foreign:
        takes = ", ".join(sorted(own.values())) or "no chain options"
        raise InvalidInputError(f"unknown {chain} option(s): {', '.join(foreign)} ({chain} takes: {takes})")
    return given


def _signature_item(item: Any) -> Signature:
    """One entry of a signatures file: a contract response, a 'sign --json' object, or the
    chain-neutral {r, s, recovery_id} / {ed25519} form."""
    from ..signatures import parse_signature_response, signature_from_json

    if isinstance(item, dict) and "response" in item:
        return parse_signature_response(item["response"])
    if isinstance(item, dict) and isinstance(item.get("signature"), dict):
        return signature_from_json(item["signature"])
    return signature_from_json(item)


@click.command()
@click.argument("signed_file")
@rpc_url_option
@json_option
def broadcast(signed_file: str, rpc_url: str | None, json_out: bool, **options: Any) -> None:
    """Send a signed transaction (from 'finalize'; '-' = stdin) and wait for it."""
    from ..flow import chain_endpoint

    signed = SignedTx.from_json(read_json_file(signed_file, "signed transaction"))
    chain_obj = get_chain(signed.chain)
    chain_obj.check_chain_network(signed.chain_network)
    receipt = chain_obj.broadcast(signed, chain_endpoint(chain_obj, signed.chain_network, rpc_url))
    out = {"chain": receipt.chain, "chain_network": receipt.chain_network, "tx_hash": receipt.tx_hash, "status": receipt.status}
    if json_out:
        emit_json({**out, "details": dict(receipt.details)})
    else:
        click.echo(f"{receipt.status}: {receipt.tx_hash}")


@click.command()
@_transfer_options
@click.option("--dry-run", is_flag=True, help="Sign and verify but do not broadcast; print the signed transaction.")
@click.option("--yes", is_flag=True, help="Do not ask before spending gas on mainnet.")
@json_option
def send(
    network: str, chain: str, account: str, path: str, to: str, amount: str, token: str | None,
    chain_network: str | None, rpc_url: str | None, address_type: str | None, domain_id: int | None,
    dry_run: bool, yes: bool, json_out: bool, **options: Any,
) -> None:
    """Move funds: prepare → sign → finalize → broadcast."""
    from ..flow import send as send_flow
    from .progress import signer_session

    own_options = chain_options_given(chain, "send", options)
    confirm_mainnet(network, yes, "sending")
    with signer_session(network, json_out) as signer:
        result = send_flow(
            chain=chain, account=account, path=path, to=to, amount=amount, network=network,
            chain_network=chain_network, token=token, address_type=address_type,
            options=own_options, rpc_url=rpc_url, dry_run=dry_run, signer=signer,
            domain_id=domain_id,
        )
    out = result.to_json(network)
    if json_out:
        emit_json(out)
        return
    click.echo(f"{out['status']}: {out['tx_hash']}")
    if dry_run:
        click.echo(result.signed.raw)


@click.command()
@click.option("--network", default="mainnet", show_default=True, help="NEAR network (for --account/--path).")
@click.option("--chain", required=True, help="Chain name.")
@click.option("--address", default=None, help="Address to query (or give --account and --path).")
@click.option("--account", default=None, help="NEAR account whose derived address to query.")
@click.option("--path", default=None, help="Derivation path.")
@click.option("--address-type", default=None, help="Address form (bitcoin: p2wpkh, p2pkh).")
@click.option("--token", default=None, help="Token balance instead of the native asset.")
@domain_option("With --account/--path: " + DOMAIN_HELP)
@chain_network_option
@rpc_url_option
@json_option
def balance(
    network: str, chain: str, address: str | None, account: str | None, path: str | None,
    address_type: str | None, token: str | None, domain_id: int | None, chain_network: str | None,
    rpc_url: str | None, json_out: bool, **options: Any,
) -> None:
    """Show the balance of an address or of an account's derived address."""
    from ..flow import chain_endpoint

    config = load_config()
    chain_obj = get_chain(chain)
    chain_net = resolve_chain_network(chain_obj, config.network(network).family, chain_network)
    if address is None:
        if account is None or path is None:
            raise InvalidInputError("balance needs --address, or --account and --path")
        address = derive_address(
            chain=chain_obj, account=account, path=path, network=network,
            chain_network=chain_net, address_type=address_type, config=config, domain_id=domain_id,
        ).address
    else:
        refuse_derivation_with_address(account=account, path=path, domain=domain_id, address_type=address_type)
        address = chain_obj.validate_address(address, chain_net)
    result = chain_obj.balance(address, chain_net, chain_endpoint(chain_obj, chain_net, rpc_url, config), token)
    if json_out:
        emit_json(result.to_json())
    else:
        table([(result.address, result.formatted, result.symbol)], ("address", "balance", "unit"))
