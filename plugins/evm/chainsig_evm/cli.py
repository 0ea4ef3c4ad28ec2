"""``chainsig evm …``: message signing and replacing pending transactions.

Added to the ``chainsig`` command line through the ``register_commands`` hook. Every command
signs through core's signer for ``--network`` (``dev`` now, the NEAR networks through the
contract), so what is tested on ``dev`` is what runs on mainnet.
"""

from __future__ import annotations

from typing import Any

import click

from chainsig_core.cli.common import (
    DOMAIN_HELP,
    account_options,
    chain_network_option,
    confirm_mainnet,
    domain_option,
    json_option,
    network_option,
    read_json_file,
    rpc_url_option,
)
from chainsig_core.cli.output import emit_json
from chainsig_core.errors import InvalidInputError


@click.group("evm")
def evm_group() -> None:
    """EVM extras: EIP-191/EIP-712 message signatures, speed-up and cancel of pending transactions."""


_KEY_DOMAIN_HELP = (
    "Signer domain of the key (default 0); a secp256k1 domain the contract added (2, …) signs with "
    "the key derived from its root key, read from the contract."
)


def _signer(network: str) -> Any:
    from chainsig_core.signers import get_signer

    return get_signer(network)


@evm_group.command("sign-message")
@network_option(required=True)
@account_options
@click.option("--message", default=None, help="The text to sign (UTF-8), as personal_sign does.")
@click.option("--message-hex", default=None, help="Raw bytes to sign instead, as 0x hex.")
@domain_option(_KEY_DOMAIN_HELP)
@click.option("--yes", is_flag=True, help="Do not ask before spending gas on mainnet.")
@json_option
def sign_message_cmd(
    network: str, account: str, path: str, message: str | None, message_hex: str | None, domain_id: int | None,
    yes: bool, json_out: bool,
) -> None:
    """Sign an EIP-191 personal_sign message with the derived EVM key."""
    from chainsig_core.payloads import parse_payload_hex

    from .messages import personal_sign_message

    if (message is None) == (message_hex is None):
        raise InvalidInputError("give exactly one of --message TEXT or --message-hex HEX")
    content: str | bytes = message if message is not None else parse_payload_hex(message_hex or "")
    signable = personal_sign_message(content)
    _emit(_sign(network, account, path, signable, "personal_sign", yes, domain_id), network, account, path, json_out)


@evm_group.command("sign-typed-data")
@network_option(required=True)
@account_options
@click.argument("typed_data_file")
@domain_option(_KEY_DOMAIN_HELP)
@click.option("--yes", is_flag=True, help="Do not ask before spending gas on mainnet.")
@json_option
def sign_typed_data_cmd(
    network: str, account: str, path: str, typed_data_file: str, domain_id: int | None, yes: bool, json_out: bool
) -> None:
    """Sign EIP-712 typed data (a JSON file with types, primaryType, domain, message; '-' = stdin)."""
    from .messages import typed_data_message

    signable = typed_data_message(read_json_file(typed_data_file, "typed data"))
    _emit(_sign(network, account, path, signable, "eip712", yes, domain_id), network, account, path, json_out)


def _sign(network: str, account: str, path: str, signable: Any, kind: Any, yes: bool, domain_id: int | None) -> Any:
    from .messages import sign_message

    confirm_mainnet(network, yes, "a signature request")
    signer = _signer(network)
    try:
        return sign_message(signer, account, path, signable, kind, 0 if domain_id is None else domain_id)
    finally:
        signer.close()


def _emit(signed: Any, network: str, account: str, path: str, json_out: bool) -> None:
    out = {"network": network, "account": account, "path": path, **signed.to_json()}
    if json_out:
        emit_json(out)
        return
    click.echo(f"address    {out['address']}")
    click.echo(f"signature  {out['signature']}")


def _replace_options(f: Any) -> Any:
    f = json_option(f)
    f = click.option("--yes", is_flag=True, help="Do not ask before spending gas on mainnet.")(f)
    f = click.option("--dry-run", is_flag=True, help="Sign and verify but do not broadcast.")(f)
    f = click.option("--gas-price", default=None, help="New legacy gas price in gwei (or '…wei').")(f)
    f = click.option("--priority-fee", default=None, help="New priority fee per gas in gwei (or '…wei').")(f)
    f = click.option("--max-fee", default=None, help="New max fee per gas in gwei (or '…wei').")(f)
    f = rpc_url_option(f)
    f = chain_network_option(f)
    f = click.option("--tx-hash", required=True, help="Hash of the pending transaction.")(f)
    f = domain_option(DOMAIN_HELP)(f)
    f = account_options(f)
    f = click.option("--chain", required=True, help="EVM chain (ethereum, base or one from the config).")(f)
    f = network_option(required=True)(f)
    return f


@evm_group.command("speed-up")
@_replace_options
def speed_up_cmd(**kwargs: Any) -> None:
    """Resend a pending transaction with the same nonce and higher fees."""
    _replace("speed-up", **kwargs)


@evm_group.command("cancel")
@_replace_options
def cancel_cmd(**kwargs: Any) -> None:
    """Replace a pending transaction by a 0-value transfer to yourself (same nonce, higher fees)."""
    _replace("cancel", **kwargs)


def _replace(
    mode: Any, *, network: str, chain: str, account: str, path: str, tx_hash: str, chain_network: str | None,
    rpc_url: str | None, max_fee: str | None, priority_fee: str | None, gas_price: str | None,
    dry_run: bool, yes: bool, json_out: bool, domain_id: int | None,
) -> None:
    from chainsig_core.config import load_config
    from chainsig_core.derive import derive_address, resolve_chain_network
    from chainsig_core.flow import chain_endpoint, sign_prepared
    from chainsig_core.plugins import get_chain

    from .chain import EvmChain
    from .replace import prepare_replacement

    config = load_config()
    chain_obj = get_chain(chain)
    if not isinstance(chain_obj, EvmChain):
        raise InvalidInputError(f"{chain} is not an EVM chain")
    chain_net = resolve_chain_network(chain_obj, config.network(network).family, chain_network)
    derived = derive_address(chain=chain_obj, account=account, path=path, network=network, chain_network=chain_net,
                             config=config, domain_id=domain_id)
    endpoint = chain_endpoint(chain_obj, chain_net, rpc_url, config)
    options = {k: v for k, v in {"max_fee": max_fee, "priority_fee": priority_fee, "gas_price": gas_price}.items() if v is not None}
    prepared = prepare_replacement(chain_obj, derived.derived_account, tx_hash, chain_net, endpoint, mode=mode, options=options)
    confirm_mainnet(network, yes, f"{mode} of a transaction")
    signer = _signer(network)
    try:
        signatures = sign_prepared(signer, prepared)
    finally:
        signer.close()
    signed = chain_obj.finalize(prepared, signatures)
    receipt = None if dry_run else chain_obj.broadcast(signed, endpoint)
    out: dict[str, Any] = {
        "network": network, "chain": chain_obj.name, "chain_network": chain_net, "mode": mode,
        "replaces": prepared.summary["replaces"], "from": prepared.from_address, "nonce": prepared.tx["nonce"],
        "tx_hash": signed.tx_hash, "status": receipt.status if receipt else "signed",
    }
    if receipt is None:
        out["raw"] = signed.raw
    if json_out:
        emit_json(out)
    else:
        click.echo(f"{out['status']}: {out['tx_hash']} (replaces {out['replaces']})")
