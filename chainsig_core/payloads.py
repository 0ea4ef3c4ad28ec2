"""Rules a sign payload must follow, shared by every signer and by the contract.

The rules follow the domain's curve (domains 0 and 1 are secp256k1 and ed25519 by default; an
added domain's curve is its root key's). ECDSA (secp256k1): exactly 32 bytes, read big-endian
it must be < n and — unlike NEAR's contract — ≠ 0, because the robust ECDSA protocol never
signs h = 0. EdDSA (ed25519): the message itself, 0–1232 bytes (Solana's transaction limit, as
in ``v1.signer``).
"""

from __future__ import annotations

from .errors import InvalidInputError
from .keys import SECP256K1_N, Curve

ECDSA_PAYLOAD_BYTES = 32
EDDSA_MAX_PAYLOAD_BYTES = 1232


def validate_payload(curve: Curve | int, payload: bytes) -> bytes:
    """Return ``payload`` if it may be signed in ``curve``'s domain.

    Parameters
    ----------
    curve:
        A :class:`Curve` or a domain id (0 = secp256k1, 1 = ed25519).
    payload:
        The bytes to sign.

    Raises
    ------
    InvalidInputError
        With the rule that was broken.
    """
    if not isinstance(curve, Curve):
        curve = Curve.for_domain(curve)
    if not isinstance(payload, bytes | bytearray):
        raise InvalidInputError("payload must be bytes")
    payload = bytes(payload)
    if curve is Curve.SECP256K1:
        if len(payload) != ECDSA_PAYLOAD_BYTES:
            raise InvalidInputError(
                f"an ECDSA payload is exactly 32 bytes (a hash), got {len(payload)}"
            )
        value = int.from_bytes(payload, "big")
        if value == 0:
            raise InvalidInputError("an ECDSA payload must not be zero")
        if value >= SECP256K1_N:
            raise InvalidInputError("an ECDSA payload must be smaller than the secp256k1 order")
    elif len(payload) > EDDSA_MAX_PAYLOAD_BYTES:
        raise InvalidInputError(
            f"an EdDSA payload is at most {EDDSA_MAX_PAYLOAD_BYTES} bytes, got {len(payload)}"
        )
    return payload


def parse_payload_hex(text: str) -> bytes:
    """Decode a payload given as hex (``0x`` prefix allowed).

    Raises
    ------
    InvalidInputError
        If ``text`` is not hex.
    """
    if not isinstance(text, str):
        raise InvalidInputError("payload must be a hex string")
    body = text.strip()
    if body[:2] in ("0x", "0X"):
        body = body[2:]
    try:
        return bytes.fromhex(body)
    except ValueError:
        raise InvalidInputError("payload is not valid hex") from None
