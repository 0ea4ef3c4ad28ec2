"""The v1.signer argument formats, shared by the client, the contract and the MPC nodes.

``sign``: ``{"request": {"path", "payload_v2": {"Ecdsa"|"Eddsa": hex} | "payload": [32 ints],
"domain_id" | "key_version"}}`` — each pair mutually exclusive. ``respond``'s ``request`` is a
``SignatureRequest``: ``{"domain_id", "payload": {kind: hex}, "tweak": hex | [32 ints]}``.
Hex is accepted in either case. Every parser raises :class:`InvalidInputError` with one line
naming the rule; callers wrap it in their own error (the contract: a deserialization panic).
"""

from __future__ import annotations

from typing import Any

from .errors import InvalidInputError
from .keys import Curve
from .payloads import ECDSA_PAYLOAD_BYTES, EDDSA_MAX_PAYLOAD_BYTES

SIGN_REQUEST_FIELDS = frozenset({"path", "payload_v2", "payload", "domain_id", "key_version"})


PAYLOAD_KINDS = {Curve.SECP256K1: "Ecdsa", Curve.ED25519: "Eddsa"}
"""The ``payload_v2`` variant a domain takes, by the curve of its root key."""


def payload_kind(curve: Curve) -> str:
    """``"Ecdsa"`` for a secp256k1 domain, ``"Eddsa"`` for an ed25519 one."""
    return PAYLOAD_KINDS[Curve(curve)]


def curve_of_kind(kind: str) -> Curve:
    """The curve a ``payload_v2`` variant is signed on (inverse of :func:`payload_kind`).

    Raises
    ------
    InvalidInputError
        For a variant other than ``Ecdsa``/``Eddsa``.
    """
    for curve, name in PAYLOAD_KINDS.items():
        if name == kind:
            return curve
    raise InvalidInputError('payload must be {"Ecdsa": hex} or {"Eddsa": hex}')


def build_sign_request(path: str, domain_id: int, payload: bytes, curve: Curve | None = None) -> dict[str, Any]:
    """The ``request`` object of a ``sign`` call (current ``payload_v2``/``domain_id`` form).

    Parameters
    ----------
    path, domain_id, payload:
        As in the request.
    curve:
        The curve of the domain's root key, which picks the payload variant. May be left out
        for domains 0 (secp256k1) and 1 (ed25519) only.

    Raises
    ------
    InvalidInputError
        For another domain without ``curve``.
    """
    if curve is None:
        curve = Curve.default_for_domain(domain_id)
        if curve is None:
            raise InvalidInputError(
                f"the payload kind of domain {domain_id!r} follows the curve of its root key: give the curve"
            )
    return {"path": path, "payload_v2": {payload_kind(curve): payload.hex()}, "domain_id": domain_id}


def parse_sign_request(request: Any) -> tuple[str, str, bytes, int]:
    """The ``request`` object of ``sign`` → (path, payload kind, payload, domain id).

    Raises
    ------
    InvalidInputError
        Unknown fields, both or neither of a mutually exclusive pair, malformed values.
    """
    if not isinstance(request, dict):
        raise InvalidInputError("request must be an object")
    unknown = set(request) - SIGN_REQUEST_FIELDS
    if unknown:
        raise InvalidInputError(f"unknown field {sorted(unknown)[0]!r} in request")
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
        if not isinstance(raw, list) or len(raw) != ECDSA_PAYLOAD_BYTES or not all(_is_byte(b) for b in raw):
            raise InvalidInputError("legacy payload must be 32 integers 0-255")
        return path, "Ecdsa", bytes(raw), domain_id
    return (path, *parse_payload(request["payload_v2"]), domain_id)


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
    if kind == "Ecdsa" and len(payload) != ECDSA_PAYLOAD_BYTES:
        raise InvalidInputError("an Ecdsa payload is exactly 32 bytes")
    if kind == "Eddsa" and len(payload) > EDDSA_MAX_PAYLOAD_BYTES:
        raise InvalidInputError(f"an Eddsa payload is at most {EDDSA_MAX_PAYLOAD_BYTES} bytes")
    return kind, payload


def parse_signature_request(value: Any) -> tuple[int, str, bytes, bytes]:
    """A ``SignatureRequest`` → (domain id, kind, payload, 32-byte tweak).

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
    return domain_id, kind, payload, raw


def _hex(text: str, what: str) -> bytes:
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise InvalidInputError(f"{what} is not valid hex") from None
    if len(text) != 2 * len(raw):  # bytes.fromhex skips whitespace; the wire form has none
        raise InvalidInputError(f"{what} is not valid hex")
    return raw


def _uint(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**64:
        raise InvalidInputError(f"{what} must be an unsigned 64-bit integer")
    return value


def _is_byte(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 256
