"""chainsig-solana: Solana accounts controlled by a NEAR account through the ed25519 domain.

Importing this module is cheap (``chainsig derive`` imports it for every installed chain):
solana-py and solders are imported only inside the functions that build, sign, send or query
transactions, and by the LiteSVM-backed local RPC (:mod:`chainsig_solana.local_rpc`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chainsig_core import hookimpl

from .chain import SolanaChain

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    import click

    from chainsig_core import Chain

__all__ = ["SolanaChain", "register_chains", "register_commands"]


@hookimpl
def register_chains(register: Callable[[Chain], None], config: Mapping[str, Any]) -> None:
    """Register the ``solana`` chain (with the custom chain networks of the config)."""
    register(SolanaChain.from_config(config))


@hookimpl
def register_commands(cli: click.Group) -> None:
    """Add ``chainsig solana …`` (the local LiteSVM-backed JSON-RPC server)."""
    from .cli import solana_group

    cli.add_command(solana_group)
