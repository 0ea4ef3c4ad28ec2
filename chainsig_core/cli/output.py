"""Printing for the CLI: JSON on stdout, one-line errors and warnings on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import click


def emit_json(data: Any, *, compact: bool = False) -> None:
    """Write ``data`` as JSON on stdout (one line when ``compact``)."""
    if compact:
        click.echo(json.dumps(data, separators=(",", ":"), ensure_ascii=False))
    else:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def warn(message: str) -> None:
    """One warning line on stderr."""
    click.echo(f"warning: {message}", err=True)


def error_line(message: str) -> None:
    """One error line on stderr (newlines folded so it stays one line)."""
    click.echo("error: " + " ".join(str(message).split()), err=True)


def table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> None:
    """A plain aligned table (no colour, safe for pipes)."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(str(c))) for w, c in zip(widths, row, strict=False)]
    line = "  ".join("{:<%d}" % w for w in widths)
    click.echo(line.format(*headers).rstrip())
    for row in rows:
        click.echo(line.format(*[str(c) for c in row]).rstrip())


def is_terminal() -> bool:
    """True when stderr is a terminal (progress display is worth showing)."""
    return sys.stderr.isatty()
