"""The ``chainsig`` command line. Core owns every command; plugins add chains (and may add
commands through ``register_commands``)."""

from __future__ import annotations

import logging

import click

from .base import ChainsigGroup
from .demo_cmd import demo
from .derive_cmd import derive
from .devnet_cmds import devnet
from .plugin_cmds import chains, plugins
from .tx_cmds import balance, broadcast, finalize, prepare, send, sign


@click.group(cls=ChainsigGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="chainsig-core", prog_name="chainsig")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
def cli(verbose: int) -> None:
    """chainsig — control accounts on other chains from a NEAR account (NEAR Chain Signatures).

    Derive the addresses v1.signer controls for (account, path), sign payloads through the
    signer contract, and move funds on every installed chain.
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


for _command in (chains, plugins, derive, prepare, sign, finalize, broadcast, send, balance, devnet, demo):
    cli.add_command(_command)


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="chainsig")
