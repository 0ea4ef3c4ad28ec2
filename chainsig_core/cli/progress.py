"""A signer for a CLI command, with a progress line on a terminal (quiet under --json)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..signers import Signer, get_signer
from .output import is_terminal


@contextmanager
def signer_session(network: str, quiet: bool, gas_tgas: int | None = None) -> Iterator[Signer]:
    """Yield the network's signer; long waits show a spinner on stderr when it is a terminal.

    The ``dev`` signer logs its warning (one local key: not MPC) through ``logging``.
    """
    options: dict[str, Any] = {}
    if gas_tgas is not None:
        options["gas"] = gas_tgas * 10**12
    status = None
    if network != "dev" and not quiet and is_terminal():
        from rich.console import Console

        status = Console(stderr=True).status("contacting the signer contract…")
        status.start()
        options["progress"] = lambda message: status.update(message)
    signer = get_signer(network, **options)
    try:
        yield signer
    finally:
        if status is not None:
            status.stop()
        signer.close()
