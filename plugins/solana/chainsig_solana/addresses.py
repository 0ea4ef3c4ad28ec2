"""Solana addresses: base58 of a 32-byte ed25519 public key (or of a program-derived address).

Only the ``base58`` package core already depends on is used here, so deriving an address never
imports solana-py or solders (``chainsig derive`` must stay fast).
"""

from __future__ import annotations

import base58

from chainsig_core import InvalidAddressError, InvalidInputError

PUBKEY_BYTES = 32


def encode_address(raw: bytes) -> str:
    """The base58 form of a 32-byte public key."""
    if len(raw) != PUBKEY_BYTES:
        raise InvalidInputError(f"a Solana address is {PUBKEY_BYTES} bytes, got {len(raw)}")
    return base58.b58encode(raw).decode("ascii")


def decode_address(text: object, what: str = "address") -> bytes:
    """Decode a base58 Solana address to its 32 bytes.

    Parameters
    ----------
    text:
        The address as the user gave it (surrounding blanks are ignored).
    what:
        What the address is, for the error message (``"recipient"``, ``"mint"`` …).

    Returns
    -------
    bytes
        The 32-byte public key.

    Raises
    ------
    InvalidAddressError
        If ``text`` is not base58 or does not decode to 32 bytes.
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidAddressError(f"Solana {what} must be a non-empty base58 string")
    body = text.strip()
    try:
        raw = base58.b58decode(body.encode("ascii"), autofix=False)
    except (ValueError, UnicodeEncodeError):
        raise InvalidAddressError(f"Solana {what} {_short(body)!r} is not valid base58") from None
    if len(raw) != PUBKEY_BYTES:
        raise InvalidAddressError(
            f"Solana {what} {_short(body)!r} decodes to {len(raw)} bytes, not {PUBKEY_BYTES}"
        )
    return raw


def canonical_address(text: object, what: str = "address") -> str:
    """``text`` re-encoded canonically (base58 has one encoding per value; this also strips)."""
    return encode_address(decode_address(text, what))


def _short(text: str, limit: int = 48) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
