"""chainsig-bitcoin: receive and spend BTC from a NEAR account (P2WPKH/P2PKH, PSBT, Esplora and
Bitcoin Core back ends).

Importing this module is cheap: embit, btclib and httpx load only inside the functions that
build, verify or send transactions.
"""

from __future__ import annotations

from typing import Any

from chainsig_core import hookimpl

from .chain import BitcoinChain

__all__ = ["BitcoinChain"]


@hookimpl
def register_chains(register: Any) -> None:
    register(BitcoinChain())


@hookimpl
def register_commands(cli: Any) -> None:
    from .cli import bitcoin

    cli.add_command(bitcoin)
