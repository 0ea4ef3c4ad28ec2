"""``chainsig solana …`` commands (added through the ``register_commands`` hook)."""

from __future__ import annotations

import json
import os
import sys

import click

from .chain import LOCAL_RPC_DEFAULT_PORT


@click.group("solana")
def solana_group() -> None:
    """Solana tools: the LiteSVM-backed local JSON-RPC endpoint."""


@solana_group.command("local-rpc")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=LOCAL_RPC_DEFAULT_PORT, show_default=True,
              help="Port (0 = pick a free one; the URL printed says which).")
@click.option("--json", "json_out", is_flag=True, help="Print {rpc_url, pid} as one JSON line once listening.")
def local_rpc(host: str, port: int, json_out: bool) -> None:
    """Serve a local Solana JSON-RPC endpoint backed by LiteSVM until interrupted.

    It is the chain network 'local' (default URL http://127.0.0.1:8899). State lives in
    memory; requestAirdrop funds accounts.
    """
    from .local_rpc.server import check_loopback, serve_forever

    check_loopback(host)

    def ready(url: str) -> None:
        if json_out:
            click.echo(json.dumps({"rpc_url": url, "pid": os.getpid()}))
        else:
            click.echo(f"Solana local RPC (LiteSVM) listening on {url} — Ctrl-C to stop")
        sys.stdout.flush()

    serve_forever(host, port, ready)
