"""Deterministic ids of the devnet: receipt ids, chunk hashes, roots (base58 CryptoHashes)."""

from __future__ import annotations

import hashlib

import base58


def derive_id(*parts: str | bytes) -> str:
    """A base58 CryptoHash derived from ``parts``."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\x00")
    return base58.b58encode(digest.digest()).decode()
