"""Options and helpers shared by several commands."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ..errors import InvalidInputError

F = TypeVar("F", bound=Callable[..., Any])


def json_option(f: F) -> F:
    return click.option("--json", "json_out", is_flag=True, help="Print machine-readable JSON.")(f)


def network_option(required: bool) -> Callable[[F], F]:
    return click.option(
        "--network",
        default=None if required else "mainnet",
        required=required,
        show_default=not required,
        help="NEAR network: mainnet, testnet, devnet, dev or one from the config.",
    )


def account_options(f: F) -> F:
    f = click.option("--path", required=True, help="Derivation path (any string, e.g. 'ethereum-1').")(f)
    f = click.option("--account", required=True, help="NEAR account that calls sign (the predecessor).")(f)
    return f


def chain_network_option(f: F) -> F:
    return click.option(
        "--chain-network",
        default=None,
        help="The chain's own network (default follows --network: mainnet → mainnet, testnet → a testnet, dev/devnet → local).",
    )(f)


def domain_option(help_text: str) -> Callable[[F], F]:
    """``--domain N``: the signer domain to derive in (default ``None``: the chain's own)."""
    from ..keys import MAX_DOMAIN_ID

    return click.option(
        "--domain", "domain_id", type=click.IntRange(0, MAX_DOMAIN_ID), default=None, metavar="N",
        help=help_text,
    )


DOMAIN_HELP = (
    "Signer domain to derive in (default: the chain's, 0 for secp256k1 chains, 1 for ed25519 ones). "
    "A domain the contract added (2, 3, …) needs its root key of the chain's curve in the config "
    "(root_public_keys)."
)


def rpc_url_option(f: F) -> F:
    return click.option("--rpc-url", default=None, callback=_check_rpc_url,
                         help="Chain RPC URL, http(s)://… (overrides the config).")(f)


def _check_rpc_url(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    from ..urls import check_http_url

    return None if value is None else check_http_url(value, "--rpc-url")


def refuse_derivation_with_address(**given: Any) -> None:
    """With ``--address`` the address is given: refuse options that would derive another one.

    ``given`` maps option names (``address_type``) to their values (None when not given).

    Raises
    ------
    InvalidInputError
        Naming the options given besides ``--address``.
    """
    flags = ["--" + name.replace("_", "-") for name, value in given.items() if value is not None]
    if flags:
        raise InvalidInputError(f"{', '.join(flags)} would derive an address: give --address or "
                                "the account's options, not both")


def confirm_mainnet(network: str, yes: bool, what: str) -> None:
    """Ask before spending real gas on mainnet, unless ``--yes``."""
    if network != "mainnet" or yes:
        return
    if not sys.stdin.isatty():
        raise InvalidInputError(f"{what} on mainnet costs real gas: pass --yes to confirm")
    click.confirm(f"{what} on mainnet costs real gas. Continue?", abort=True, err=True)


def read_json_file(path: str, what: str) -> Any:
    """Read a JSON document from ``path`` (``-`` = stdin) with one clear error."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text("utf-8")
    except OSError as exc:
        raise InvalidInputError(f"cannot read {what} {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidInputError(f"{what} {path} is not UTF-8 text") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidInputError(f"{what} {path} is not valid JSON: {exc}") from None


def write_json_file(path: str | None, data: Any) -> None:
    """Write JSON to ``path``, or to stdout when ``path`` is ``None`` or ``-``."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if path in (None, "-"):
        click.echo(text)
        return
    try:
        Path(path).write_text(text + "\n", "utf-8")
    except OSError as exc:
        raise InvalidInputError(f"cannot write {path}: {exc.strerror}") from None
