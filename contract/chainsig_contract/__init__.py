"""chainsig-contract: the v1.signer-compatible signer contract, the local NEAR-RPC devnet host
and the dev responder.

Importing this module stays cheap: it only declares the plugin's hooks. ``chainsig devnet``
commands are added through ``register_commands``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chainsig_core import hookimpl

if TYPE_CHECKING:
    import click

__version__ = "0.1.0"


@hookimpl
def register_commands(cli: click.Group) -> None:
    """Add (or extend) the ``devnet`` command group."""
    from .cli import attach_devnet_commands

    attach_devnet_commands(cli)
