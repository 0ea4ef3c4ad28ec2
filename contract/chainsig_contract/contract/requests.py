"""Sign-request arguments, ``SignatureRequest`` values and the fan-out queue."""

from __future__ import annotations

import json
from typing import Any

from chainsig_core import kdf
from chainsig_core.errors import InvalidInputError
from chainsig_core.keys import Curve
from chainsig_core.payloads import validate_payload

from . import errors as E
from .env import ContractPanic
from .rules import as_uint, deserialize_error

MAX_PENDING_REQUEST_FAN_OUT = 128
"""Identical pending requests that may wait for one response (mpc-contract's limit)."""


def parse_sign_args(request: Any) -> tuple[str, str, bytes, int]:
    """``SignRequestArgs`` → (path, payload kind, payload bytes, domain id).

    ``payload_v2`` or legacy ``payload`` (32 ints, ECDSA), ``domain_id`` or legacy
    ``key_version``; each pair is mutually exclusive.
    """
    if not isinstance(request, dict):
        raise deserialize_error("request must be an object")
    unknown = set(request) - {"path", "payload_v2", "payload", "domain_id", "key_version"}
    if unknown:
        raise deserialize_error(f"unknown field {sorted(unknown)[0]!r} in request")
    path = request.get("path")
    if not isinstance(path, str):
        raise deserialize_error("request.path must be a string")
    if ("payload_v2" in request) == ("payload" in request):
        raise deserialize_error("exactly one of payload_v2 and payload is required")
    if "domain_id" in request and "key_version" in request:
        raise deserialize_error("domain_id and key_version are mutually exclusive")
    domain_id = as_uint(request.get("domain_id", request.get("key_version", 0)), "domain_id")
    if "payload" in request:
        raw = request["payload"]
        if not isinstance(raw, list) or len(raw) != 32 or not all(
            isinstance(b, int) and not isinstance(b, bool) and 0 <= b < 256 for b in raw
        ):
            raise deserialize_error("legacy payload must be 32 integers 0-255")
        return path, "Ecdsa", bytes(raw), domain_id
    return (path, *parse_payload(request["payload_v2"]), domain_id)


def parse_payload(value: Any) -> tuple[str, bytes]:
    """``{"Ecdsa": hex}`` / ``{"Eddsa": hex}`` → (kind, bytes); hex case-insensitive."""
    if not isinstance(value, dict) or len(value) != 1:
        raise deserialize_error("payload must be {\"Ecdsa\": hex} or {\"Eddsa\": hex}")
    (kind, text), = value.items()
    if kind not in ("Ecdsa", "Eddsa") or not isinstance(text, str):
        raise deserialize_error("payload must be {\"Ecdsa\": hex} or {\"Eddsa\": hex}")
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise deserialize_error("payload is not valid hex") from None
    if len(text) != 2 * len(raw):
        raise deserialize_error("payload is not valid hex")
    if kind == "Ecdsa" and len(raw) != 32:
        raise deserialize_error("an Ecdsa payload is exactly 32 bytes")
    if kind == "Eddsa" and len(raw) > 1232:
        raise deserialize_error("an Eddsa payload is at most 1232 bytes")
    return kind, raw


def check_payload(curve: Curve, kind: str, payload: bytes) -> None:
    """The payload must match the domain's curve and chainsig's payload rules."""
    wanted = "Ecdsa" if curve is Curve.SECP256K1 else "Eddsa"
    if kind != wanted:
        raise ContractPanic(E.malformed_payload(f"this domain signs {wanted} payloads, got {kind}"))
    try:
        validate_payload(curve, payload)
    except InvalidInputError as exc:
        raise ContractPanic(E.malformed_payload(str(exc))) from None


def signature_request(domain_id: int, kind: str, payload: bytes, tweak: bytes) -> dict[str, Any]:
    """The ``SignatureRequest`` JSON stored in the contract and passed to ``respond``."""
    return {"domain_id": domain_id, "payload": {kind: payload.hex()}, "tweak": list(tweak)}


def parse_signature_request(value: Any) -> tuple[int, str, bytes, bytes]:
    """``SignatureRequest`` JSON → (domain id, kind, payload, tweak)."""
    if not isinstance(value, dict):
        raise deserialize_error("request must be an object")
    domain_id = as_uint(value.get("domain_id"), "domain_id")
    kind, payload = parse_payload(value.get("payload"))
    tweak = value.get("tweak")
    if isinstance(tweak, str):
        try:
            tweak = list(bytes.fromhex(tweak))
        except ValueError:
            raise deserialize_error("tweak is not valid hex") from None
    if not isinstance(tweak, list) or len(tweak) != 32 or not all(
        isinstance(b, int) and not isinstance(b, bool) and 0 <= b < 256 for b in tweak
    ):
        raise deserialize_error("tweak must be 32 bytes")
    return domain_id, kind, payload, bytes(tweak)


def request_key(domain_id: int, kind: str, payload: bytes, tweak: bytes) -> str:
    """Canonical key of a request in the pending map (identical requests share it)."""
    return json.dumps([domain_id, kind, payload.hex(), tweak.hex()])


def tweak_for(predecessor: str, path: str) -> bytes:
    try:
        return kdf.tweak(predecessor, path)
    except InvalidInputError as exc:
        raise deserialize_error(str(exc)) from None
