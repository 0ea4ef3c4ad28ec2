"""Bounded JSON decoding for bytes that come from the network (the devnet host's NEAR RPC
and the local Solana RPC both decode request bodies with it).

serde_json, which nearcore, near-sdk contracts and Solana validators decode with, refuses documents nested
deeper than 128 levels ("recursion limit exceeded"). Python's ``json`` has no such limit of its
own: it recurses until the interpreter's recursion limit and then raises ``RecursionError`` —
at a depth that depends on how deep the caller's stack already is, and after a near-limit
document has been accepted that later code (``json.dumps`` of an echo, validators that walk
the value) then fails on. So the depth is checked *before* ``json.loads``, with the same limit
as nearcore, and the parser is only ever given documents it can handle.

The check is cheap: a body with at most 128 brackets in total cannot nest deeper (two
``bytes.count`` calls, C speed: the path of every real request). Otherwise the string literals
are removed (one regular-expression pass) and the brackets left are walked with an early exit,
so ``"[" * 100000`` is refused after 129 steps. Removing millions of strings or walking millions
of brackets would stall the event loop for seconds on a small machine, so such a document (more
than 128 brackets *and* more than :data:`MAX_JSON_CONTAINERS` arrays, objects or strings) is
refused outright: no NEAR or Solana JSON-RPC request has anywhere near as many (transactions
and call arguments travel as base64 strings).
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_JSON_DEPTH = 128
"""serde_json's default recursion limit (nearcore's RPC, near-sdk contracts)."""
MAX_JSON_CONTAINERS = 65_536
"""Most arrays + objects, and most strings, a document with more than :data:`MAX_JSON_DEPTH`
brackets may hold (bounds the cost of the depth check)."""

# A JSON string literal (unrolled: the two alternatives cannot both match, so no backtracking).
# An unterminated one runs to the end of the body: it always matches, so a quote without its
# partner costs one pass, not a rescan of the rest per quote (quadratic: 32 KB took 4.7 s). The
# document is then invalid anyway, and json.loads rejects a string without recursing.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_OPEN = frozenset(b"[{")


class JsonBodyError(ValueError):
    """The bytes are not a JSON document this host accepts (one-line reason)."""


def nesting_exceeds(raw: bytes, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``raw`` (UTF-8 JSON) nests arrays/objects deeper than ``max_depth``.

    Unbalanced brackets, and more than :data:`MAX_JSON_CONTAINERS` arrays and objects (or
    strings, once there are more than ``max_depth`` brackets), count as too deep: such bytes are not JSON this host accepts, and the parser must never be
    handed e.g. ``"[" * 100000``.

    Parameters
    ----------
    raw:
        The document's bytes (UTF-8: no multi-byte sequence contains an ASCII byte, so a
        byte-level scan is exact).
    max_depth:
        The deepest nesting allowed.

    Returns
    -------
    bool
    """
    if raw.count(b"[") + raw.count(b"{") <= max_depth:
        return False
    if raw.count(b'"') > 2 * MAX_JSON_CONTAINERS:
        return True
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKET)
    if len(brackets) > 2 * MAX_JSON_CONTAINERS:
        return True
    depth = 0
    for byte in brackets:
        if byte in _OPEN:
            depth += 1
            if depth > max_depth:
                return True
        else:
            depth -= 1
            if depth < 0:
                return True
    return depth != 0


def _no_constants(name: str) -> Any:
    raise JsonBodyError(f"{name} is not a JSON value")


def loads_bounded(raw: bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Decode a UTF-8 JSON document whose nesting is at most ``max_depth``.

    ``NaN``/``Infinity`` (which Python accepts and serde_json does not) are refused.

    Parameters
    ----------
    raw:
        The document.
    max_depth:
        The deepest nesting allowed.

    Returns
    -------
    Any
        The decoded value.

    Raises
    ------
    JsonBodyError
        Not UTF-8, not JSON, or nested too deeply.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise JsonBodyError("request body is not UTF-8 text") from None
    if nesting_exceeds(raw, max_depth):
        raise JsonBodyError(f"request body is not valid JSON: nested deeper than {max_depth} levels "
                            f"or holds more than {MAX_JSON_CONTAINERS} arrays, objects or strings")
    try:
        return json.loads(text, parse_constant=_no_constants)
    except JsonBodyError:
        raise
    except (ValueError, RecursionError):  # RecursionError: not reachable after the depth check
        raise JsonBodyError("request body is not valid JSON") from None


__all__ = ["JsonBodyError", "MAX_JSON_CONTAINERS", "MAX_JSON_DEPTH", "loads_bounded", "nesting_exceeds"]
