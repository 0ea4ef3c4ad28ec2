"""Cosmos SDK account addresses: bech32(prefix, RIPEMD-160(SHA-256(compressed secp256k1 key))).

Only ``hashlib`` and the tiny ``bech32`` package (the reference implementation cosmpy itself
uses) are imported here, because ``chainsig derive`` imports this module for every call.
"""

from __future__ import annotations

import hashlib

import bech32

from chainsig_core import InvalidAddressError, InvalidKeyError, PublicKey

#: Account addresses are 20 bytes; ADR-028 module and interchain accounts are 32 bytes.
ADDRESS_LENGTHS = (20, 32)


def _ripemd160(data: bytes) -> bytes:
    try:
        return hashlib.new("ripemd160", data).digest()
    except ValueError:  # OpenSSL 3 builds without the legacy provider lack RIPEMD-160
        from Crypto.Hash import RIPEMD160  # pycryptodome, a cosmpy dependency

        return RIPEMD160.new(data).digest()


def account_id(public_key: PublicKey) -> bytes:
    """The 20-byte account id of a secp256k1 key: RIPEMD-160(SHA-256(compressed key)).

    Raises
    ------
    InvalidKeyError
        For a key that is not secp256k1.
    """
    if public_key.domain_id != 0:
        raise InvalidKeyError("Cosmos accounts need a secp256k1 key (domain 0)")
    return _ripemd160(hashlib.sha256(public_key.compressed).digest())


def encode_address(prefix: str, data: bytes) -> str:
    """Bech32 (not bech32m) encoding of ``data`` with human-readable part ``prefix``."""
    words = bech32.convertbits(data, 8, 5, True)
    if words is None:  # pragma: no cover - convertbits with padding never fails on bytes
        raise InvalidAddressError("cannot encode address bytes")
    return bech32.bech32_encode(prefix, words)


def decode_address(address: str, prefix: str) -> bytes:
    """The account bytes of a bech32 ``address`` with human-readable part ``prefix``.

    Raises
    ------
    InvalidAddressError
        For a bad checksum, mixed case, another prefix or a wrong length.
    """
    if not isinstance(address, str) or not address.strip():
        raise InvalidAddressError("a Cosmos address must be a non-empty string")
    text = address.strip()
    if not text.isascii() or len(text) > 90:
        raise InvalidAddressError(f"not a bech32 address: {_short(text)!r}")
    hrp, words = bech32.bech32_decode(text)
    if hrp is None or words is None:
        raise InvalidAddressError(f"not a bech32 address (bad characters or checksum): {_short(text)!r}")
    if hrp != prefix:
        raise InvalidAddressError(f"address {_short(text)!r} has prefix {hrp!r}, expected {prefix!r}")
    data = bech32.convertbits(words, 5, 8, False)
    if data is None or len(data) not in ADDRESS_LENGTHS:
        raise InvalidAddressError(f"address {_short(text)!r} does not encode 20 or 32 bytes")
    return bytes(data)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
