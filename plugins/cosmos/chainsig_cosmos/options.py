"""The Cosmos options of ``prepare``/``send`` (``--account-number``, ``--sequence``,
``--gas-limit``, ``--fee``, ``--memo``).

Core hands every chain option given on the command line to the chain named by ``--chain``, so an
option meant for another chain (``--nonce``, ``--utxos``, ``--data`` …) arrives here too; it is
refused rather than dropped, so nobody believes it went into the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chainsig_core import ChainOption, InvalidInputError

KNOWN_OPTIONS = ("account_number", "sequence", "gas_limit", "fee", "memo")


def cli_options() -> tuple[ChainOption, ...]:
    """The options core attaches to ``prepare`` and ``send`` (the same for every Cosmos SDK chain)."""
    return (
        ChainOption("--account-number", "Cosmos: sender's account number (offline signing; with --sequence).", type=int),
        ChainOption("--sequence", "Cosmos: sender's next sequence (offline signing; with --account-number).", type=int),
        ChainOption("--gas-limit", "Cosmos: gas limit of the transaction (default 200000).", type=int),
        ChainOption("--fee", "Cosmos: fee in base units of the chain's denom (default gas limit × gas price).", type=int),
        ChainOption("--memo", "Cosmos: transaction memo (at most 256 characters)."),
    )


def refuse_unknown_options(options: Mapping[str, Any]) -> None:
    """One error naming every option a Cosmos SDK chain does not take.

    The wording is shared by chainsig's chain plugins: ``unknown Cosmos option(s): nonce, utxos
    (Cosmos takes: account_number, …)``.

    Raises
    ------
    InvalidInputError
    """
    unknown = sorted(str(key) for key in options if key not in KNOWN_OPTIONS)
    if unknown:
        raise InvalidInputError(
            f"unknown Cosmos option(s): {', '.join(unknown)} (Cosmos takes: {', '.join(KNOWN_OPTIONS)})"
        )
