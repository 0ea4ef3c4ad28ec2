"""NEAR account-id validation.

Rules (nearcore ``near-account-id``): 2–64 characters; parts of lowercase letters and digits
separated by single ``-``, ``_`` or ``.``; no separator at either end or next to another.
Implicit accounts are 64 lowercase hex characters; eth-implicit accounts are ``0x`` + 40
lowercase hex characters — both already satisfy the general rule.
"""

from __future__ import annotations

import re

from .errors import InvalidAccountIdError

MIN_LENGTH = 2
MAX_LENGTH = 64

_ACCOUNT_ID = re.compile(r"(?:[a-z\d]+[-_])*[a-z\d]+(?:\.(?:[a-z\d]+[-_])*[a-z\d]+)*")
_IMPLICIT = re.compile(r"[0-9a-f]{64}")
_ETH_IMPLICIT = re.compile(r"0x[0-9a-f]{40}")


def is_valid_account_id(account_id: object) -> bool:
    """True when ``account_id`` is a valid NEAR account id."""
    return (
        isinstance(account_id, str)
        and MIN_LENGTH <= len(account_id) <= MAX_LENGTH
        and _ACCOUNT_ID.fullmatch(account_id) is not None
    )


def validate_account_id(account_id: object) -> str:
    """Return ``account_id`` unchanged if it is a valid NEAR account id.

    Raises
    ------
    InvalidAccountIdError
        With a message naming the rule that was broken.
    """
    if is_valid_account_id(account_id):
        return account_id  # type: ignore[return-value]
    raise InvalidAccountIdError(_explain(account_id))


def is_implicit_account(account_id: str) -> bool:
    """True for a 64-hex implicit (ed25519 key) account."""
    return _IMPLICIT.fullmatch(account_id) is not None


def is_eth_implicit_account(account_id: str) -> bool:
    """True for a ``0x`` + 40-hex eth-implicit account."""
    return _ETH_IMPLICIT.fullmatch(account_id) is not None


def _explain(account_id: object) -> str:
    if not isinstance(account_id, str):
        return f"NEAR account id must be a string, not {type(account_id).__name__}"
    shown = account_id if len(account_id) <= 70 else account_id[:67] + "…"
    prefix = f"invalid NEAR account id {shown!r}: "
    if len(account_id) < MIN_LENGTH:
        return prefix + f"must be at least {MIN_LENGTH} characters"
    if len(account_id) > MAX_LENGTH:
        return prefix + f"must be at most {MAX_LENGTH} characters"
    if any(c.isupper() for c in account_id):
        return prefix + "must be lowercase"
    bad = sorted({c for c in account_id if not (c.isascii() and (c.isdigit() or c.islower() or c in "-_."))})
    if bad:
        return prefix + f"character {bad[0]!r} is not allowed (use a-z, 0-9, '-', '_', '.')"
    if account_id[0] in "-_." or account_id[-1] in "-_.":
        return prefix + "must not start or end with '-', '_' or '.'"
    return prefix + "separators '-', '_', '.' must stand alone between letters or digits"
