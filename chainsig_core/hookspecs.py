"""The hooks a chainsig plugin can implement (pluggy).

A plugin is a module named by an entry point in the ``chainsig`` group::

    [project.entry-points.chainsig]
    mychain = "chainsig_mychain"

and implements hooks with ``@chainsig_core.hookimpl``. An implementation may accept any
subset of a hook's arguments; hooks grow by gaining arguments, so old plugins keep working.
Every hook here is documented in docs/hooks.md (a test checks it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from .chain import Chain

PROJECT_NAME = "chainsig"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_chains(register: Callable[[Chain], None], config: Mapping[str, Any]) -> None:
    """Register the chains this plugin provides.

    :param register: call it once per :class:`~chainsig_core.Chain` instance; registering a
        name twice is an error reported with both plugins' names.
    :param config: the parsed ``config.toml`` (read-only), e.g. for chains defined in
        configuration such as custom EVM chains.

    Since 0.1.0.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add commands or command groups to the ``chainsig`` command line.

    :param cli: the top-level ``chainsig`` click group; call ``cli.add_command(...)`` or use
        ``@cli.command()``.

    Since 0.1.0.
    """
