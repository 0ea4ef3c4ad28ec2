"""Operator votes: ``chainsig mpc vote new-parameters`` / ``add-domains`` / ``cancel-resharing``.

A proposal is built deterministically from the contract's current Running state and the
operator's changes, so every operator who passes the same options votes for the *identical*
proposal (the contract counts identical proposals).

* ``new-parameters``: kept participants keep their id and info, joiners get ids from
  ``next_id`` in the order given, the governance threshold defaults to NEAR's rule (⌈60 %⌉ of
  n, at least 2).
* ``add-domains``: new domains get ids from the registry's ``next_domain_id`` in the order
  given (the contract requires them contiguous), purpose ``Sign``; a domain's reconstruction
  threshold defaults to the one the existing domains share (with no domain yet, or when they
  differ: the participant set's threshold, which NEAR's contract uses for every domain).
  Only the protocols this node implements are accepted (``DamgardEtAl``, ``Frost``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chainsig_core.account_id import validate_account_id
from chainsig_core.errors import InvalidInputError
from chainsig_core.keys import Curve, PublicKey

from .lifecycle import CURVE_OF_PROTOCOL, ECDSA_PROTOCOL

MIN_RECONSTRUCTION_THRESHOLD = 2
"""The contract's lower bound (one node alone must not sign)."""


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
        If the contract is not Running, an account to remove is unknown, one to add exists, or
        a threshold does not fit the new participant count.
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
    # The contract refuses these too, but only after the vote's transaction has cost gas.
    if threshold is not None and not governance_threshold(n) <= threshold <= n:
        raise InvalidInputError(f"--threshold {threshold}: with {n} participants the governance threshold "
                                f"must be from {governance_threshold(n)} (60 %, NEAR's rule) to {n}")
    for domain, k in sorted(domain_thresholds.items()):
        if k > n:
            raise InvalidInputError(f"--domain-threshold {domain}={k}: more than the {n} participants")
    cancelled = running.get("previously_cancelled_resharing_epoch_id")
    epoch = max(running["keyset"]["epoch_id"], cancelled if cancelled is not None else 0) + 1
    return {"prospective_epoch_id": epoch, "proposal": {
        "parameters": {"participants": {"next_id": next_id, "participants": kept},
                       "threshold": threshold if threshold is not None else governance_threshold(n)},
        "per_domain_thresholds": {str(d): k for d, k in sorted(domain_thresholds.items())},
    }}


@dataclass(frozen=True)
class DomainSpec:
    """One ``--domain PROTOCOL[:THRESHOLD]`` option: the protocol and an explicit threshold."""

    protocol: str
    threshold: int | None = None


def parse_domain_spec(text: str) -> DomainSpec:
    """``PROTOCOL[:THRESHOLD]`` → :class:`DomainSpec` (protocol names are case-insensitive).

    Raises
    ------
    InvalidInputError
        For a protocol this node does not implement (``CaitSith``, ``ConfidentialKeyDerivation``,
        anything else) or a threshold that is not an integer ≥ 2.
    """
    name, sep, k = text.strip().partition(":")
    protocol = next((p for p in CURVE_OF_PROTOCOL if p.lower() == name.lower()), None)
    if protocol is None:
        known = " or ".join(f"{p} ({c.value})" for p, c in CURVE_OF_PROTOCOL.items())
        raise InvalidInputError(f"--domain {text!r}: the MPC nodes run {known}, not {name!r}")
    if not sep:
        return DomainSpec(protocol)
    if not k.isdigit() or int(k) < MIN_RECONSTRUCTION_THRESHOLD:
        raise InvalidInputError(f"--domain {text!r}: the threshold must be an integer of at least "
                                f"{MIN_RECONSTRUCTION_THRESHOLD}")
    return DomainSpec(protocol, int(k))


def default_domain_threshold(running: dict[str, Any]) -> int:
    """The reconstruction threshold a new domain gets when none is given: the one every
    existing domain has, else the participant set's threshold."""
    existing = {d["reconstruction_threshold"] for d in running["domains"]["domains"]}
    if len(existing) == 1:
        return existing.pop()
    return int(running["parameters"]["threshold"])


def add_domains_proposal(state: Any, specs: Sequence[DomainSpec]) -> dict[str, Any]:
    """``vote_add_domains`` arguments from a Running ``state`` and the domains to add.

    Raises
    ------
    InvalidInputError
        If no domain is given, the contract is not Running, or a threshold does not fit the
        participant set (K ≤ n; robust ECDSA also needs 2K − 1 ≤ n).
    """
    if not specs:
        raise InvalidInputError("give at least one --domain PROTOCOL[:THRESHOLD]")
    running = state.get("Running") if isinstance(state, dict) else None
    if running is None:
        raise InvalidInputError("the contract is not Running; domains can be added only then")
    n = len(running["parameters"]["participants"]["participants"])
    next_id = running["domains"]["next_domain_id"]
    domains = []
    for offset, spec in enumerate(specs):
        k = spec.threshold if spec.threshold is not None else default_domain_threshold(running)
        named = f"--domain {spec.protocol}" + (f":{spec.threshold}" if spec.threshold is not None else "")
        if k > n:
            raise InvalidInputError(f"{named}: threshold {k} exceeds the {n} participants")
        if spec.protocol == ECDSA_PROTOCOL and 2 * k - 1 > n:
            largest = (n + 1) // 2
            hint = f"; give {spec.protocol}:{largest}" if largest >= MIN_RECONSTRUCTION_THRESHOLD else ""
            raise InvalidInputError(f"{named}: robust ECDSA with threshold {k} needs {2 * k - 1} participants, "
                                    f"there are {n}{hint}")
        domains.append({"id": next_id + offset, "protocol": spec.protocol, "reconstruction_threshold": k,
                        "purpose": "Sign"})
    return {"domains": domains}
