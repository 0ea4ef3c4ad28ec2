"""chainsig-evm: Ethereum, Base and any EVM chain for chainsig (web3.py / eth-account).

Registers the chains ``ethereum`` and ``base`` (chain networks ``mainnet``, ``sepolia``,
``local``) and every ``[evm.chains.<name>]`` of the config, and adds the ``chainsig evm``
commands (``sign-message``, ``sign-typed-data``, ``speed-up``, ``cancel``). See docs/evm.md.

Importing this module is cheap on purpose (``chainsig derive`` imports every chain plugin):
web3 and eth-account load only inside the functions that use them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from chainsig_core import hookimpl
from chainsig_core.errors import PluginError

from .address import address_from_public_key, keccak256, parse_address, to_checksum_address
from .chain import EvmChain
from .networks import BUILTIN_CHAINS, EvmChainSpec, custom_chain_specs

if TYPE_CHECKING:
    import click

__all__ = [
    "EvmChain",
    "EvmChainSpec",
    "address_from_public_key",
    "keccak256",
    "parse_address",
    "to_checksum_address",
]


@hookimpl
def register_chains(register: Callable[[EvmChain], None], config: Mapping[str, Any]) -> None:
    """Register ethereum, base and the config's custom EVM chains.

    A malformed custom chain is reported (after the others are registered) instead of
    hiding Ethereum and Base.
    """
    for spec in BUILTIN_CHAINS:
        register(EvmChain(spec))
    specs, errors = custom_chain_specs(config)
    for spec in specs:
        try:
            register(EvmChain(spec))
        except PluginError as exc:
            errors.append(str(exc))
    if errors:
        raise PluginError("; ".join(errors))


@hookimpl
def register_commands(cli: click.Group) -> None:
    """Add the ``chainsig evm`` command group."""
    from .cli import evm_group

    cli.add_command(evm_group)
