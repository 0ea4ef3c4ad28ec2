"""chainsig-mpc: threshold protocols (DKG, robust ECDSA, FROST Ed25519, resharing) and the MPC
node service.

Registered under the ``chainsig`` entry-point group; importing this module is cheap — the
protocols live in :mod:`chainsig_mpc.protocols`, the node building blocks in
:mod:`chainsig_mpc.node`, the service in :mod:`chainsig_mpc.service`, and all are imported on
use. The plugin adds the ``chainsig mpc`` command group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chainsig_core import hookimpl

if TYPE_CHECKING:
    import click

__all__: list[str] = []


@hookimpl
def register_commands(cli: click.Group) -> None:
    """Add the ``mpc`` group: ``init``/``check``/``backup``/``restore`` (node building blocks)
    and ``node``/``status``/``vote``/``import`` (node service)."""
    import click

    from .node.cli import mpc_group
    from .service.cli import SERVICE_COMMANDS

    for command in SERVICE_COMMANDS:
        if command.name not in mpc_group.commands:
            mpc_group.add_command(command)
    existing = cli.commands.get("mpc")
    if isinstance(existing, click.Group) and existing is not mpc_group:
        for command in mpc_group.commands.values():
            existing.add_command(command)
        return
    cli.add_command(mpc_group)
