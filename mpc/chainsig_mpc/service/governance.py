"""Operator votes: ``chainsig mpc vote new-parameters`` / ``cancel-resharing``.

A proposal is built deterministically from the contract's current Running state and the
operator's changes, so every operator who passes the same ``--add``/``--remove`` options votes
for the *identical* proposal (the contract counts identical proposals): kept participants keep
their id and info, joiners get ids from ``next_id`` in the order given, the governance
threshold defaults to NEAR's rule (⌈60 %⌉ of n, at least 2).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from chainsig_core.account_id import validate_account_id
from chainsig_core.errors import InvalidInputError
from chainsig_core.keys import Curve, PublicKey


def governance_threshold(n: int) -> int:
    """NEAR's rule: ⌈0.6·n⌉, at least 2, at most n."""
    return min(max(2, math.ceil(0.6 * n)), n)


def parse_joiner(text: str) -> tuple[str, str, str]:
    """``ACCOUNT=URL,TLS_PUBLIC_KEY`` → (account, url, tls key).

    Raises
    ------
    InvalidInputError
    """
    account, sep, rest = text.partition("=")
    url, sep2, key = rest.partition(",")
    if not sep or not sep2 or not url:
        raise InvalidInputError(f"--add {text!r}: expected ACCOUNT=URL,TLS_PUBLIC_KEY")
    validate_account_id(account)
    try:
        parsed = PublicKey.from_near_string(key)
    except ValueError as exc:
        raise InvalidInputError(f"--add {account}: {exc}") from None
    if parsed.curve is not Curve.ED25519:
        raise InvalidInputError(f"--add {account}: the TLS key must be an ed25519 key")
    return account, url, key


def new_parameters_proposal(state: Any, add: Sequence[str], remove: Sequence[str],
                            threshold: int | None, domain_thresholds: dict[int, int]) -> dict[str, Any]:
    """``vote_new_parameters`` arguments from a Running ``state`` and the changes.

    Raises
    ------
    InvalidInputError
        If the contract is not Running, an account to remove is unknown, or one to add exists.
    """
    running = state.get("Running") if isinstance(state, dict) else None
    if running is None:
        raise InvalidInputError("the contract is not Running; a new participant set can be voted only then")
    old = running["parameters"]["participants"]
    accounts = {p[0] for p in old["participants"]}
    for account in remove:
        if account not in accounts:
            raise InvalidInputError(f"--remove {account}: not a participant")
    kept = [p for p in old["participants"] if p[0] not in set(remove)]
    next_id = old["next_id"]
    for text in add:
        account, url, key = parse_joiner(text)
        if account in accounts:
            raise InvalidInputError(f"--add {account}: already a participant")
        kept.append([account, next_id, {"url": url, "tls_public_key": key}])
        next_id += 1
    n = len(kept)
    cancelled = running.get("previously_cancelled_resharing_epoch_id")
    epoch = max(running["keyset"]["epoch_id"], cancelled if cancelled is not None else 0) + 1
    return {"prospective_epoch_id": epoch, "proposal": {
        "parameters": {"participants": {"next_id": next_id, "participants": kept},
                       "threshold": threshold if threshold is not None else governance_threshold(n)},
        "per_domain_thresholds": {str(d): k for d, k in sorted(domain_thresholds.items())},
    }}
