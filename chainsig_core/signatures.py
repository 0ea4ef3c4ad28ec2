"""Signature values, v1.signer response parsing, and verification against a derived key.

The contract answers ``sign`` with one of (hex case varies between contract versions)::

    {"scheme": "Secp256k1", "big_r": {"affine_point": "<33-byte hex>"},
     "s": {"scalar": "<32-byte hex>"}, "recovery_id": 0..3}
    {"scheme": "Ed25519", "signature": [64 ints]}

Older contracts omit ``scheme``; both forms parse. ``big_r`` is the nonce point as the MPC
network computed it: after low-s normalisation the recovery id is flipped but ``big_r`` is not,
so the parity of ``big_r`` need not equal bit 0 of the recovery id.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from .errors import SignatureResponseError, SignatureVerificationError
from .keys import SECP256K1_N, Curve, PublicKey

_HALF_N = SECP256K1_N // 2


class EcdsaResponseJSON(TypedDict, total=False):
    """The contract's secp256k1 response."""

    scheme: Literal["Secp256k1"]
    big_r: dict[str, str]
    s: dict[str, str]
    recovery_id: int


class Ed25519ResponseJSON(TypedDict, total=False):
    """The contract's ed25519 response."""

    scheme: Literal["Ed25519"]
    signature: list[int]


SignatureResponseJSON = EcdsaResponseJSON | Ed25519ResponseJSON


@dataclass(frozen=True)
class EcdsaSignature:
    """A secp256k1 ECDSA signature as the signer contract returns it.

    Parameters
    ----------
    big_r:
        33-byte compressed nonce point R.
    s:
        The scalar s (low-s after verification).
    recovery_id:
        0–3: bit 0 is the parity of the y of the point recovering to the key, bit 1 whether its
        x was ≥ n.
    """

    big_r: bytes
    s: int
    recovery_id: int

    curve = Curve.SECP256K1

    def __post_init__(self) -> None:
        if len(self.big_r) != 33 or self.big_r[0] not in (2, 3):
            raise SignatureResponseError("big_r must be a 33-byte compressed secp256k1 point")
        if not 0 < self.s < SECP256K1_N:
            raise SignatureResponseError("ECDSA s is out of range")
        if self.recovery_id not in (0, 1, 2, 3):
            raise SignatureResponseError("recovery_id must be 0, 1, 2 or 3")

    @property
    def r(self) -> int:
        """r = x(R) mod n."""
        return int.from_bytes(self.big_r[1:], "big") % SECP256K1_N

    @property
    def y_parity(self) -> int:
        """The y-parity EVM transactions carry (bit 0 of the recovery id)."""
        return self.recovery_id & 1

    def rs_bytes(self) -> bytes:
        """The 64-byte compact ``r‖s``."""
        return self.r.to_bytes(32, "big") + self.s.to_bytes(32, "big")

    def recoverable_bytes(self) -> bytes:
        """65 bytes ``r‖s‖recovery_id`` (libsecp256k1's recoverable form)."""
        return self.rs_bytes() + bytes([self.recovery_id])

    def to_json(self) -> dict[str, Any]:
        """chainsig's chain-neutral form: ``{r, s, recovery_id}`` as hex."""
        return {"r": f"{self.r:064x}", "s": f"{self.s:064x}", "recovery_id": self.recovery_id}

    def to_response(self) -> EcdsaResponseJSON:
        """The v1.signer response JSON for this signature."""
        return {
            "scheme": "Secp256k1",
            "big_r": {"affine_point": self.big_r.hex().upper()},
            "s": {"scalar": f"{self.s:064X}"},
            "recovery_id": self.recovery_id,
        }


@dataclass(frozen=True)
class Ed25519Signature:
    """A 64-byte RFC 8032 Ed25519 signature ``R‖S``."""

    signature: bytes

    curve = Curve.ED25519

    def __post_init__(self) -> None:
        if len(self.signature) != 64:
            raise SignatureResponseError("an Ed25519 signature is 64 bytes")

    def to_json(self) -> dict[str, Any]:
        """chainsig's chain-neutral form: ``{ed25519: hex}``."""
        return {"ed25519": self.signature.hex()}

    def to_response(self) -> Ed25519ResponseJSON:
        """The v1.signer response JSON for this signature."""
        return {"scheme": "Ed25519", "signature": list(self.signature)}


Signature = EcdsaSignature | Ed25519Signature


def parse_signature_response(response: Mapping[str, Any] | str | bytes) -> Signature:
    """Parse a v1.signer ``sign`` response (a dict or its JSON text).

    Raises
    ------
    SignatureResponseError
        If the response has neither shape, or a field is malformed.
    """
    if isinstance(response, str | bytes):
        try:
            response = json.loads(response)
        except ValueError:
            raise SignatureResponseError("signature response is not valid JSON") from None
    if not isinstance(response, Mapping):
        raise SignatureResponseError("signature response must be a JSON object")
    scheme = response.get("scheme")
    if scheme == "Ed25519" or (scheme is None and "signature" in response):
        return _parse_ed25519(response)
    if scheme == "Secp256k1" or (scheme is None and "big_r" in response):
        return _parse_ecdsa(response)
    raise SignatureResponseError(f"unknown signature scheme {scheme!r} in response")


def signature_from_json(value: Mapping[str, Any]) -> Signature:
    """Inverse of ``to_json`` of either signature type; also accepts a contract response.

    Raises
    ------
    SignatureResponseError
    """
    if not isinstance(value, Mapping):
        raise SignatureResponseError("signature must be a JSON object")
    if "ed25519" in value:
        return Ed25519Signature(_hex_bytes(value["ed25519"], "ed25519", 64))
    if "r" in value and "s" in value and "recovery_id" in value:
        # {r, s, recovery_id} loses the parity of R; rebuild it from the recovery id, which is
        # what verification uses.
        r = _hex_int(value["r"], "r")
        s = _hex_int(value["s"], "s")
        rec = _recovery_id(value["recovery_id"])
        if not 0 < r < SECP256K1_N:
            raise SignatureResponseError("ECDSA r is out of range")
        x = r + SECP256K1_N if rec & 2 else r
        if x >= 2**256:
            raise SignatureResponseError("recovery_id 2/3 is impossible for this r")
        return EcdsaSignature(bytes([2 + (rec & 1)]) + x.to_bytes(32, "big"), s, rec)
    return parse_signature_response(value)


def verify_signature(public_key: PublicKey, payload: bytes, signature: Signature) -> None:
    """Check ``signature`` over ``payload`` under ``public_key``, as the contract's ``respond``.

    ECDSA: ``payload`` is the 32-byte message hash, s must be low, and the key recovered with
    the given recovery id must equal ``public_key``. Ed25519: RFC 8032 verification.

    Raises
    ------
    SignatureVerificationError
        If the signature does not verify, is high-s, or its curve does not match the key.
    """
    if isinstance(signature, EcdsaSignature):
        _verify_ecdsa(public_key, payload, signature)
    elif isinstance(signature, Ed25519Signature):
        _verify_ed25519(public_key, payload, signature)
    else:  # pragma: no cover - defensive
        raise SignatureVerificationError("unknown signature type")


def _verify_ecdsa(public_key: PublicKey, payload: bytes, sig: EcdsaSignature) -> None:
    import coincurve

    if public_key.curve is not Curve.SECP256K1:
        raise SignatureVerificationError("an ECDSA signature needs a secp256k1 key")
    if len(payload) != 32:
        raise SignatureVerificationError("an ECDSA payload is exactly 32 bytes")
    if sig.s > _HALF_N:
        raise SignatureVerificationError("ECDSA signature is not low-s")
    if sig.r == 0:
        raise SignatureVerificationError("ECDSA r is zero")
    try:
        recovered = coincurve.PublicKey.from_signature_and_message(
            sig.recoverable_bytes(), payload, hasher=None
        )
    except (ValueError, TypeError):
        raise SignatureVerificationError(
            "ECDSA signature does not recover to any key with its recovery id"
        ) from None
    if recovered.format(compressed=False)[1:] != public_key.data:
        raise SignatureVerificationError(
            "ECDSA signature does not verify against the derived key"
        )


def _verify_ed25519(public_key: PublicKey, payload: bytes, sig: Ed25519Signature) -> None:
    from nacl.exceptions import BadSignatureError
    from nacl.signing import VerifyKey

    if public_key.curve is not Curve.ED25519:
        raise SignatureVerificationError("an Ed25519 signature needs an ed25519 key")
    try:
        VerifyKey(public_key.data).verify(payload, sig.signature)
    except (BadSignatureError, ValueError, TypeError):
        raise SignatureVerificationError(
            "Ed25519 signature does not verify against the derived key"
        ) from None


def _parse_ecdsa(response: Mapping[str, Any]) -> EcdsaSignature:
    big_r = response.get("big_r")
    s = response.get("s")
    if isinstance(big_r, Mapping):
        big_r = big_r.get("affine_point")
    if isinstance(s, Mapping):
        s = s.get("scalar")
    if big_r is None or s is None or "recovery_id" not in response:
        raise SignatureResponseError("ECDSA response needs big_r.affine_point, s.scalar and recovery_id")
    return EcdsaSignature(
        _hex_bytes(big_r, "big_r", 33),
        int.from_bytes(_hex_bytes(s, "s", 32), "big"),
        _recovery_id(response["recovery_id"]),
    )


def _parse_ed25519(response: Mapping[str, Any]) -> Ed25519Signature:
    raw = response.get("signature")
    if isinstance(raw, str):
        return Ed25519Signature(_hex_bytes(raw, "signature", 64))
    if not isinstance(raw, list) or len(raw) != 64:
        raise SignatureResponseError("Ed25519 response needs 'signature': a list of 64 bytes")
    if not all(isinstance(b, int) and not isinstance(b, bool) and 0 <= b <= 255 for b in raw):
        raise SignatureResponseError("Ed25519 signature bytes must be integers 0–255")
    return Ed25519Signature(bytes(raw))


def _hex_bytes(value: object, name: str, length: int) -> bytes:
    if not isinstance(value, str):
        raise SignatureResponseError(f"{name} must be a hex string")
    text = value[2:] if value[:2] in ("0x", "0X") else value
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise SignatureResponseError(f"{name} is not valid hex") from None
    if len(raw) != length:
        raise SignatureResponseError(f"{name} must be {length} bytes, got {len(raw)}")
    return raw


def _hex_int(value: object, name: str) -> int:
    return int.from_bytes(_hex_bytes(value, name, 32), "big")


def _recovery_id(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in (0, 1, 2, 3):
        raise SignatureResponseError("recovery_id must be an integer 0–3")
    return value
