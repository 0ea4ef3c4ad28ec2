"""Sign-request arguments, ``SignatureRequest`` values and the fan-out queue."""

from __future__ import annotations

import json
from typing import Any

from chainsig_core import kdf, sign_args
from chainsig_core.errors import InvalidInputError
from chainsig_core.keys import Curve
from chainsig_core.payloads import validate_payload

from . import errors as E
from .env import ContractPanic
from .rules import deserialize_error

MAX_PENDING_REQUEST_FAN_OUT = 128
"""Identical pending requests that may wait for one response (mpc-contract's limit)."""


def parse_sign_args(request: Any) -> tuple[str, str, bytes, int]:
    """``SignRequestArgs`` → (path, payload kind, payload bytes, domain id).

    ``payload_v2`` or legacy ``payload`` (32 ints, ECDSA), ``domain_id`` or legacy
    ``key_version``; each pair is mutually exclusive (``chainsig_core.sign_args``).
    """
    try:
        return sign_args.parse_sign_request(request)
    except InvalidInputError as exc:
        raise deserialize_error(str(exc)) from None


def parse_payload(value: Any) -> tuple[str, bytes]:
    """``{"Ecdsa": hex}`` / ``{"Eddsa": hex}`` → (kind, bytes); hex case-insensitive."""
    try:
        return sign_args.parse_payload(value)
    except InvalidInputError as exc:
        raise deserialize_error(str(exc)) from None


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
    try:
        return sign_args.parse_signature_request(value)
    except InvalidInputError as exc:
        raise deserialize_error(str(exc)) from None


def request_key(domain_id: int, kind: str, payload: bytes, tweak: bytes) -> str:
    """Canonical key of a request in the pending map (identical requests share it)."""
    return json.dumps([domain_id, kind, payload.hex(), tweak.hex()])


def tweak_for(predecessor: str, path: str) -> bytes:
    try:
        return kdf.tweak(predecessor, path)
    except InvalidInputError as exc:
        raise deserialize_error(str(exc)) from None
