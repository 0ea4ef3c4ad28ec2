"""The Bitcoin options of ``prepare``/``send`` (``--utxos``, ``--fee-rate``, ``--conf-target``,
``--no-rbf``), checked once, before any back end is asked.

Core hands every chain option given on the command line to the chain named by ``--chain``, so an
option meant for another chain (``--memo``, ``--nonce``, ``--data`` …) arrives here too; it is
refused rather than dropped, so nobody believes it went into the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from chainsig_core.chain import ChainOption
from chainsig_core.errors import InvalidInputError

from .fees import parse_fee_rate

DEFAULT_CONF_TARGET = 6
#: Bitcoin Core's ``estimatesmartfee`` answers for targets up to 1008 blocks (one week).
MAX_CONF_TARGET = 1008

KNOWN_OPTIONS = ("utxos", "fee_rate", "conf_target", "no_rbf")


@dataclass(frozen=True)
class SpendOptions:
    """The checked Bitcoin options of one spend.

    ``utxos`` is the raw option (a file path or a list; read by the caller), ``fee_rate`` a
    checked rate in sat/vB or ``None`` (ask the back end for an estimate at ``conf_target``).
    """

    utxos: Any = None
    fee_rate: Decimal | None = None
    conf_target: int = DEFAULT_CONF_TARGET
    rbf: bool = True


def cli_options() -> tuple[ChainOption, ...]:
    """The options core attaches to ``prepare`` and ``send``."""
    return (
        ChainOption(
            "--utxos",
            "Bitcoin: JSON file of UTXOs to spend [{txid, vout, value (sats), scriptPubKey?}]; "
            "with --fee-rate no network is used.",
        ),
        ChainOption("--fee-rate", "Bitcoin: fee rate in sat/vB (default: the back end's estimate)."),
        ChainOption(
            "--conf-target",
            f"Bitcoin: confirmation target in blocks (1-{MAX_CONF_TARGET}) for the fee estimate (default "
            f"{DEFAULT_CONF_TARGET}); not with --fee-rate.",
            type=int,
        ),
        ChainOption("--no-rbf", "Bitcoin: do not signal BIP125 replaceability (default: signal it).", is_flag=True),
    )


def parse_spend_options(options: Mapping[str, Any]) -> SpendOptions:
    """Check ``request.options`` of a Bitcoin spend.

    Raises
    ------
    InvalidInputError
        For an option Bitcoin does not take, a malformed value, or ``conf_target`` together
        with ``fee_rate`` (the target only steers the back end's estimate).
    """
    refuse_unknown_options("Bitcoin", options, KNOWN_OPTIONS)
    fee_rate = None if options.get("fee_rate") is None else parse_fee_rate(options["fee_rate"], "--fee-rate")
    conf_target = DEFAULT_CONF_TARGET
    if options.get("conf_target") is not None:
        if fee_rate is not None:
            raise InvalidInputError(
                "--conf-target chooses the fee estimate's target and --fee-rate replaces the estimate: give one of them"
            )
        conf_target = parse_conf_target(options["conf_target"])
    no_rbf = options.get("no_rbf", False)
    if not isinstance(no_rbf, bool):
        raise InvalidInputError("the no_rbf option must be true or false")
    return SpendOptions(options.get("utxos"), fee_rate, conf_target, not no_rbf)


def parse_conf_target(value: object) -> int:
    """``--conf-target``: a whole number of blocks from 1 to 1008 (text from a merged CLI option
    is accepted when it is plain ASCII digits).

    Raises
    ------
    InvalidInputError
    """
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CONF_TARGET:
        raise InvalidInputError(
            f"--conf-target must be a whole number of blocks from 1 to {MAX_CONF_TARGET}, got {value!r}"
        )
    return value


def refuse_unknown_options(chain_label: str, options: Mapping[str, Any], known: tuple[str, ...]) -> None:
    """One error for every option key not in ``known``.

    The wording is shared by chainsig's chain plugins: ``unknown Bitcoin option(s): data, memo
    (Bitcoin takes: utxos, fee_rate, …)``.

    Raises
    ------
    InvalidInputError
    """
    unknown = sorted(str(key) for key in options if key not in known)
    if unknown:
        raise InvalidInputError(
            f"unknown {chain_label} option(s): {', '.join(unknown)} ({chain_label} takes: {', '.join(known)})"
        )
