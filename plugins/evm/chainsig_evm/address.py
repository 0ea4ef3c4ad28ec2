"""EVM addresses: keccak256 of the public key, EIP-55 checksums, and checking user input.

Deliberately free of web3/eth-account: ``chainsig derive`` computes addresses in bulk (a
benchmark asks for >10,000 addresses/s including process start) and importing web3 alone costs
seconds. pycryptodome's Keccak is a small C extension; EIP-55 is a few lines, written here and
checked against ``tests/vectors/derivation.json`` and eth-utils in the tests.
"""

from __future__ import annotations

import re

from chainsig_core.errors import InvalidAddressError, InvalidKeyError
from chainsig_core.keys import Curve, PublicKey

_HEX40 = re.compile(r"0[xX]([0-9a-fA-F]{40})")
_HIGH_NIBBLES = frozenset("89abcdef")


def keccak256(data: bytes) -> bytes:
    """Keccak-256 (Ethereum's hash, not NIST SHA3-256) of ``data``."""
    from Crypto.Hash import keccak

    return keccak.new(data=data, digest_bits=256).digest()


def to_checksum_address(raw: bytes | str) -> str:
    """The EIP-55 mixed-case form of a 20-byte address.

    Parameters
    ----------
    raw:
        20 bytes, or 40 hex digits with or without ``0x`` in any case.

    Returns
    -------
    str
        ``0x`` followed by 40 hex digits, upper case where the keccak of the lower-case hex
        has a nibble ≥ 8.

    Raises
    ------
    InvalidAddressError
        If ``raw`` is not 20 bytes.
    """
    if isinstance(raw, bytes | bytearray):
        if len(raw) != 20:
            raise InvalidAddressError(f"an EVM address is 20 bytes, got {len(raw)}")
        lower = bytes(raw).hex()
    else:
        body = raw[2:] if raw[:2] in ("0x", "0X") else raw
        if len(body) != 40 or not all(c in "0123456789abcdefABCDEF" for c in body):
            raise InvalidAddressError("an EVM address is 40 hex digits")
        lower = body.lower()
    digest = keccak256(lower.encode("ascii")).hex()
    # Upper-case a letter where the digest's nibble is ≥ 8 (upper() leaves digits alone).
    return "0x" + "".join(c.upper() if d in _HIGH_NIBBLES else c for c, d in zip(lower, digest[:40], strict=True))


def address_from_public_key(public_key: PublicKey) -> str:
    """The checksummed EVM address of a secp256k1 key: keccak256(x‖y)[12:].

    Raises
    ------
    InvalidKeyError
        For an ed25519 key.
    """
    if public_key.curve is not Curve.SECP256K1:
        raise InvalidKeyError("EVM addresses need a secp256k1 key")
    return to_checksum_address(keccak256(public_key.data)[12:])


def parse_address(text: object, what: str = "address") -> str:
    """Check an address given by a user and return its checksummed form.

    All-lower-case and all-upper-case hex carry no checksum (EIP-55) and are accepted;
    mixed case must be the exact EIP-55 checksum, so a mistyped character is caught.

    Raises
    ------
    InvalidAddressError
        For anything but ``0x`` + 40 hex digits, or a mixed-case address whose checksum is
        wrong.
    """
    if not isinstance(text, str):
        raise InvalidAddressError(f"{what} must be a string like 0x…, not {type(text).__name__}")
    value = text.strip()
    match = _HEX40.fullmatch(value)
    if match is None:
        shown = value if len(value) <= 50 else value[:47] + "…"
        raise InvalidAddressError(f"{what} {shown!r} is not an EVM address (0x followed by 40 hex digits)")
    body = match.group(1)
    checksummed = to_checksum_address(body)
    if body != body.lower() and body != body.upper() and body != checksummed[2:]:
        raise InvalidAddressError(
            f"{what} {value} has a bad EIP-55 checksum: a character is wrong or its case was changed"
        )
    return checksummed
