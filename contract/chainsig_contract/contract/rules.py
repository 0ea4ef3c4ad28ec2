"""Parameter rules of contract 3.14: governance threshold, participants, domains, keys.

Every function takes the contract's JSON shapes and raises :class:`ContractPanic` with the
real contract's error text when a rule is broken.
"""

from __future__ import annotations

import math
from typing import Any

from chainsig_core.account_id import is_valid_account_id
from chainsig_core.errors import InvalidKeyError
from chainsig_core.keys import Curve, PublicKey

from . import errors as E
from .env import ContractPanic

MIN_GOVERNANCE_THRESHOLD = 2
MIN_RECONSTRUCTION_THRESHOLD = 2
PROTOCOLS = ("CaitSith", "Frost", "ConfidentialKeyDerivation", "DamgardEtAl")
PURPOSES = ("Sign", "ForeignTx", "CKD")
PROTOCOL_CURVE = {"CaitSith": "Secp256k1", "DamgardEtAl": "Secp256k1", "Frost": "Edwards25519",
                  "ConfidentialKeyDerivation": "Bls12381"}
CURVE_OF_NAME = {"Secp256k1": Curve.SECP256K1, "Edwards25519": Curve.ED25519}


def fail(message: str) -> None:
    raise ContractPanic(message)


def deserialize_error(reason: str) -> ContractPanic:
    """near-sdk's argument-decoding failure, with the reason appended."""
    return ContractPanic(f"{E.DESERIALIZE} {reason}")


def as_uint(value: Any, what: str, bits: int = 64) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**bits:
        raise deserialize_error(f"{what} must be an unsigned {bits}-bit integer")
    return value


def min_governance_threshold(n: int) -> int:
    """NEAR's rule: at least 60 % of ``n`` rounded up, and at least 2."""
    return max(MIN_GOVERNANCE_THRESHOLD, math.ceil(n * 3 / 5))


def validate_governance_threshold(threshold: int, n: int) -> None:
    """≥ 2, ≥ ⌈0.6·n⌉, ≤ n (InvalidThreshold texts)."""
    if threshold < MIN_GOVERNANCE_THRESHOLD:
        fail(E.THRESHOLD_MIN_ABS)
    required = math.ceil(n * 3 / 5)
    if threshold < required:
        fail(E.threshold_min_rel(required, threshold))
    if threshold > n:
        fail(E.threshold_max(n, threshold))


def parse_participants(value: Any) -> dict[str, Any]:
    """Validate a ``Participants`` JSON object; returns it normalised."""
    if not isinstance(value, dict) or "participants" not in value or "next_id" not in value:
        raise deserialize_error("participants must be {next_id, participants}")
    next_id = as_uint(value["next_id"], "next_id", 32)
    entries = value["participants"]
    if not isinstance(entries, list):
        raise deserialize_error("participants.participants must be a list")
    out = []
    for entry in entries:
        if not isinstance(entry, list) or len(entry) != 3:
            raise deserialize_error("each participant is [account_id, id, {url, tls_public_key}]")
        account, pid, info = entry
        if not is_valid_account_id(account):
            raise deserialize_error(f"invalid participant account id {str(account)[:70]!r}")
        pid = as_uint(pid, "participant id", 32)
        if not isinstance(info, dict) or not isinstance(info.get("url"), str):
            raise deserialize_error("participant info needs url and tls_public_key")
        tls = info.get("tls_public_key")
        tls_key = _parse_ed25519_key(tls, "tls_public_key")
        if pid >= next_id:
            fail(E.participant_id_not_less_than_next_id(pid, next_id))
        out.append([account, pid, {"url": info["url"], "tls_public_key": tls_key}])
    if len({p[1] for p in out}) != len(out):
        fail(E.DUPLICATE_PARTICIPANT_IDS)
    if len({p[0] for p in out}) != len(out):
        fail(E.DUPLICATE_ACCOUNT_IDS)
    return {"next_id": next_id, "participants": out}


def _parse_ed25519_key(value: Any, what: str) -> str:
    if isinstance(value, list):
        if len(value) != 32 or not all(isinstance(b, int) and 0 <= b < 256 for b in value):
            raise deserialize_error(f"{what} must be 32 bytes")
        return PublicKey(Curve.ED25519, bytes(value)).to_near_string()
    try:
        key = PublicKey.from_near_string(value)
    except InvalidKeyError as exc:
        raise deserialize_error(f"{what}: {exc}") from None
    if key.curve is not Curve.ED25519:
        raise deserialize_error(f"{what} must be an ed25519 key")
    return key.to_near_string()


def parse_parameters(value: Any) -> dict[str, Any]:
    """Validate ``GovernanceThresholdParameters`` ({participants, threshold})."""
    if not isinstance(value, dict) or "participants" not in value or "threshold" not in value:
        raise deserialize_error("parameters must be {participants, threshold}")
    participants = parse_participants(value["participants"])
    threshold = as_uint(value["threshold"], "threshold")
    validate_governance_threshold(threshold, len(participants["participants"]))
    return {"participants": participants, "threshold": threshold}


def participant_accounts(parameters: dict[str, Any]) -> list[str]:
    return [p[0] for p in parameters["participants"]["participants"]]


def participant_id(parameters: dict[str, Any], account_id: str) -> int | None:
    for account, pid, _ in parameters["participants"]["participants"]:
        if account == account_id:
            return pid
    return None


def leader(parameters: dict[str, Any]) -> str:
    """The participant with the lowest id (starts key-event instances)."""
    return min(parameters["participants"]["participants"], key=lambda p: p[1])[0]


def parse_domain(value: Any) -> dict[str, Any]:
    """Validate a ``DomainConfig``; fills ``curve`` (the live contract reports it)."""
    if not isinstance(value, dict):
        raise deserialize_error("a domain must be an object")
    domain_id = as_uint(value.get("id"), "domain id")
    protocol = value.get("protocol")
    if protocol not in PROTOCOLS:
        raise deserialize_error(f"unknown protocol {str(protocol)[:40]!r}")
    purpose = value.get("purpose", "Sign")
    if purpose not in PURPOSES:
        raise deserialize_error(f"unknown purpose {str(purpose)[:40]!r}")
    threshold = as_uint(value.get("reconstruction_threshold"), "reconstruction_threshold")
    curve = PROTOCOL_CURVE[protocol]
    if "curve" in value and value["curve"] != curve:
        raise deserialize_error(f"protocol {protocol} uses curve {curve}, not {value['curve']}")
    return {"id": domain_id, "curve": curve, "protocol": protocol,
            "reconstruction_threshold": threshold, "purpose": purpose}


def validate_domain(domain: dict[str, Any], n: int) -> None:
    """Protocol/purpose combination and reconstruction threshold for ``n`` participants."""
    protocol, purpose = domain["protocol"], domain["purpose"]
    if protocol == "CaitSith":
        fail(E.CAITSITH_REFUSED)
    if (protocol == "ConfidentialKeyDerivation") != (purpose == "CKD"):
        fail(E.protocol_purpose(protocol, purpose))
    if protocol == "ConfidentialKeyDerivation":
        fail(E.protocol_purpose(protocol, purpose))  # CKD is not offered by this contract
    validate_reconstruction_threshold(protocol, domain["reconstruction_threshold"], n)


def validate_reconstruction_threshold(protocol: str, threshold: int, n: int) -> None:
    if threshold < MIN_RECONSTRUCTION_THRESHOLD:
        fail(E.reconstruction_too_low(MIN_RECONSTRUCTION_THRESHOLD))
    if threshold > n:
        fail(E.reconstruction_exceeds(threshold, n))
    if protocol == "DamgardEtAl" and 2 * threshold - 1 > n:
        fail(E.protocol_needs_participants(protocol, 2 * threshold - 1, n))


def curve_of_domain(domain: dict[str, Any]) -> Curve:
    return CURVE_OF_NAME[domain["curve"]]


def extended_key(key: PublicKey) -> dict[str, Any]:
    """``PublicKeyExtended`` JSON of a root key, as the live ``state`` view shows it."""
    if key.curve is Curve.SECP256K1:
        return {"Secp256k1": {"near_public_key": key.to_near_string()}}
    return {"Ed25519": {"near_public_key_compressed": key.to_near_string(),
                        "edwards_point": list(key.data)}}


def key_of_extended(value: dict[str, Any]) -> PublicKey:
    if "Secp256k1" in value:
        return PublicKey.from_near_string(value["Secp256k1"]["near_public_key"])
    return PublicKey.from_near_string(value["Ed25519"]["near_public_key_compressed"])


def parse_public_key(value: Any) -> PublicKey:
    """A key given as a NEAR string, ``PublicKey`` DTO, or ``PublicKeyExtended``."""
    try:
        if isinstance(value, str):
            return PublicKey.from_near_string(value)
        if isinstance(value, dict) and len(value) == 1:
            (tag, body), = value.items()
            if isinstance(body, dict):
                return key_of_extended(value)
            if tag == "Secp256k1" and isinstance(body, str):
                return PublicKey.from_near_string(body)
            if tag == "Ed25519":
                if isinstance(body, str):
                    return PublicKey.from_near_string(body)
                if isinstance(body, list) and all(isinstance(b, int) and 0 <= b < 256 for b in body):
                    key = PublicKey(Curve.ED25519, bytes(body))
                    key.validate()
                    return key
    except (InvalidKeyError, KeyError, TypeError) as exc:
        raise deserialize_error(f"public key: {exc}") from None
    raise deserialize_error("public key must be 'secp256k1:…' / 'ed25519:…' or its DTO form")


def parse_keyset(value: Any, domains: list[dict[str, Any]]) -> dict[str, Any]:
    """Validate a ``Keyset`` against the domains it must cover, in order."""
    if not isinstance(value, dict) or not isinstance(value.get("domains"), list):
        raise deserialize_error("keyset must be {epoch_id, domains}")
    epoch_id = as_uint(value.get("epoch_id"), "epoch_id")
    keys = []
    for entry in value["domains"]:
        if not isinstance(entry, dict):
            raise deserialize_error("keyset entries are {domain_id, key, attempt}")
        key = parse_public_key(entry.get("key"))
        keys.append({"domain_id": as_uint(entry.get("domain_id"), "domain_id"),
                     "key": extended_key(key),
                     "attempt": as_uint(entry.get("attempt", 0), "attempt")})
    if [k["domain_id"] for k in keys] != [d["id"] for d in domains]:
        fail(E.DOMAINS_MISMATCH)
    for key, domain in zip(keys, domains, strict=True):
        if key_of_extended(key["key"]).curve is not curve_of_domain(domain):
            fail(E.DOMAINS_MISMATCH)
    return {"epoch_id": epoch_id, "domains": keys}


def validate_candidate_set(old: dict[str, Any], new: dict[str, Any]) -> None:
    """Rules for a proposed participant set (InvalidCandidateSet texts)."""
    old_by_account = {p[0]: p for p in old["participants"]["participants"]}
    old_ids = {p[1]: p[0] for p in old["participants"]["participants"]}
    kept = 0
    new_ids = []
    for account, pid, info in new["participants"]["participants"]:
        if account in old_by_account:
            kept += 1
            _, old_pid, old_info = old_by_account[account]
            if old_pid != pid:
                fail(E.participant_id_changed(account, old_pid, pid))
            if old_info != info:
                fail(E.participant_info_changed(account))
        else:
            if pid in old_ids:
                fail(f"New participant {account} reuses ID {pid} already assigned to existing "
                     f"participant {old_ids[pid]}.")
            new_ids.append(pid)
    if kept < old["threshold"]:
        fail(E.INSUFFICIENT_OLD_PARTICIPANTS)
    old_next = old["participants"]["next_id"]
    if sorted(new_ids) != list(range(old_next, old_next + len(new_ids))):
        fail(E.NEW_IDS_NOT_CONTIGUOUS)
    if new["participants"]["next_id"] != old_next + len(new_ids):
        fail(E.NEW_IDS_NOT_CONTIGUOUS)
