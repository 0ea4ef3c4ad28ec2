"""Parsing of the signer contract's ``sign`` and ``respond`` arguments, by the contract's rules.

``sign``: ``{"request": {"path", "payload_v2": {"Ecdsa"|"Eddsa": hex} | "payload": [32 ints],
"domain_id" | "key_version"}}`` — each pair mutually exclusive. ``respond``'s ``request`` is the
``SignatureRequest`` ``{"domain_id", "payload": {kind: hex}, "tweak": hex | [32 ints]}``.
Hex is accepted in either case.
"""

from __future__ import annotations

from typing import Any

from chainsig_core.errors import InvalidInputError
from chainsig_core.keys import Curve
from chainsig_core.payloads import validate_payload

MAX_EDDSA_PAYLOAD = 1232


def parse_sign_request(args: Any) -> tuple[str, str, bytes, int]:
    """``sign`` arguments → (path, payload kind, payload, domain id).

    Raises
    ------
    InvalidInputError
        If the arguments do not follow the contract's rules, or the payload is one the
        contract refuses to sign (an ECDSA hash of zero or not below the curve order).
    """
    request = args.get("request") if isinstance(args, dict) else None
    if not isinstance(request, dict):
        raise InvalidInputError("sign arguments need a 'request' object")
    path = request.get("path")
    if not isinstance(path, str):
        raise InvalidInputError("request.path must be a string")
    if ("payload_v2" in request) == ("payload" in request):
        raise InvalidInputError("exactly one of payload_v2 and payload is required")
    if "domain_id" in request and "key_version" in request:
        raise InvalidInputError("domain_id and key_version are mutually exclusive")
    domain_id = _uint(request.get("domain_id", request.get("key_version", 0)), "domain_id")
    if "payload" in request:
        raw = request["payload"]
        if not isinstance(raw, list) or len(raw) != 32 or not all(_is_byte(b) for b in raw):
            raise InvalidInputError("legacy payload must be 32 integers 0-255")
        kind, payload = "Ecdsa", bytes(raw)
    else:
        kind, payload = parse_payload(request["payload_v2"])
    validate_payload(Curve.SECP256K1 if kind == "Ecdsa" else Curve.ED25519, payload)
    return path, kind, payload, domain_id


def parse_payload(value: Any) -> tuple[str, bytes]:
    """``{"Ecdsa": hex}`` / ``{"Eddsa": hex}`` → (kind, bytes).

    Raises
    ------
    InvalidInputError
    """
    if not isinstance(value, dict) or len(value) != 1:
        raise InvalidInputError('payload must be {"Ecdsa": hex} or {"Eddsa": hex}')
    ((kind, text),) = value.items()
    if kind not in ("Ecdsa", "Eddsa") or not isinstance(text, str):
        raise InvalidInputError('payload must be {"Ecdsa": hex} or {"Eddsa": hex}')
    payload = _hex(text, "payload")
    if kind == "Ecdsa" and len(payload) != 32:
        raise InvalidInputError("an Ecdsa payload is exactly 32 bytes")
    if kind == "Eddsa" and len(payload) > MAX_EDDSA_PAYLOAD:
        raise InvalidInputError(f"an Eddsa payload is at most {MAX_EDDSA_PAYLOAD} bytes")
    return kind, payload


def parse_signature_request(value: Any) -> tuple[int, str, str, str]:
    """A ``SignatureRequest`` → its request key ``(domain id, kind, payload hex, tweak hex)``.

    Raises
    ------
    InvalidInputError
    """
    if not isinstance(value, dict):
        raise InvalidInputError("request must be an object")
    domain_id = _uint(value.get("domain_id"), "domain_id")
    kind, payload = parse_payload(value.get("payload"))
    tweak = value.get("tweak")
    if isinstance(tweak, str):
        raw = _hex(tweak, "tweak")
    elif isinstance(tweak, list) and all(_is_byte(b) for b in tweak):
        raw = bytes(tweak)
    else:
        raise InvalidInputError("tweak must be hex or a list of bytes")
    if len(raw) != 32:
        raise InvalidInputError("tweak must be 32 bytes")
    return domain_id, kind, payload.hex(), raw.hex()


def _hex(text: str, what: str) -> bytes:
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise InvalidInputError(f"{what} is not valid hex") from None
    if len(text) != 2 * len(raw):
        raise InvalidInputError(f"{what} is not valid hex")
    return raw


def _uint(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**64:
        raise InvalidInputError(f"{what} must be an unsigned integer")
    return value


def _is_byte(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 256
