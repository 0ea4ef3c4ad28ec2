"""``chainsig chains`` and ``chainsig plugins``."""

from __future__ import annotations

import click

from ..config import load_config
from ..plugins import get_chains, no_chains_message, plugins as list_plugins
from .common import json_option
from .output import emit_json, table


@click.command()
@json_option
def chains(json_out: bool) -> None:
    """List the installed chains, their domains and chain networks."""
    load_config()  # chains read their settings from it: a malformed config is reported here
    rows = [
        {
            "chain": c.name,
            "domain_id": c.domain_id,
            "curve": "secp256k1" if c.domain_id == 0 else "ed25519",
            "symbol": c.symbol,
            "chain_networks": list(c.chain_networks),
            "address_types": list(c.address_types),
        }
        for c in sorted(get_chains().values(), key=lambda c: c.name)
    ]
    if json_out:
        emit_json(rows)
        return
    if not rows:
        click.echo(no_chains_message())
        return
    table(
        [(r["chain"], r["curve"], r["symbol"], ", ".join(r["chain_networks"])) for r in rows],
        ("chain", "curve", "symbol", "chain networks"),
    )


@click.group(invoke_without_command=True)
@json_option
@click.pass_context
def plugins(ctx: click.Context, json_out: bool) -> None:
    """List installed plugins (and whether they loaded)."""
    if ctx.invoked_subcommand is not None:
        return
    infos = list_plugins()
    if json_out:
        emit_json(
            [
                {"name": i.name, "module": i.module, "distribution": i.distribution,
                 "version": i.version, "loaded": i.error is None, "error": i.error}
                for i in infos
            ]
        )
        return
    table(
        [(i.name, i.distribution or "", i.version or "", "ok" if i.error is None else "FAILED") for i in infos],
        ("plugin", "distribution", "version", "status"),
    )  # a failed plugin's message was already printed by the group, when it loaded the plugins


@plugins.command("new")
@click.argument("name")
@click.option("--directory", "-d", type=click.Path(file_okay=False), default=None,
              help="Where to create the project (default: ./chainsig-NAME; must be empty).")
@json_option
def new_plugin(name: str, directory: str | None, json_out: bool) -> None:
    """Write a working skeleton chain plugin NAME, with its tests, to start from."""
    from ..errors import InvalidInputError
    from ..scaffold import create_plugin

    if name in get_chains():  # two plugins registering one chain name cannot both load
        raise InvalidInputError(f"a chain named {name!r} is already installed: pick another name for the plugin")
    skeleton = create_plugin(name, directory)
    if json_out:
        emit_json(skeleton.to_json())
        return
    click.echo(f"created {skeleton.distribution} in {skeleton.directory}")
    for path in skeleton.files:
        click.echo(f"  {path.relative_to(skeleton.directory)}")
    click.echo(
        f"next: cd {skeleton.directory} && pip install -e '.[test]' && pytest "
        f"(then: chainsig chains; see docs/plugins.md)"
    )
