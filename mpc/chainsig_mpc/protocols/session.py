"""Session ids: everything a protocol run depends on, hashed into 32 bytes."""

from __future__ import annotations

import hashlib
import json
from typing import Any

SID_DOMAIN = b"chainsig-mpc/session/v1\x00"


def session_id(protocol: str, **bound: Any) -> bytes:
    """SHA-256 over the protocol name and the canonical JSON of the bound parameters.

    Parameters
    ----------
    protocol:
        e.g. ``"dkg"``, ``"reshare"``, ``"ecdsa-presign"``, ``"frost-sign"``.
    bound:
        JSON-compatible values (domain, epoch, participants, thresholds, request ids, hashes
        as hex …). Every field a message depends on belongs here.

    Returns
    -------
    bytes
        32 bytes.
    """
    payload = json.dumps({"protocol": protocol, **bound}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(SID_DOMAIN + payload.encode()).digest()


def transcript_hash(*parts: bytes) -> bytes:
    """SHA-256 over length-prefixed parts (unambiguous concatenation)."""
    h = hashlib.sha256(b"chainsig-mpc/transcript/v1\x00")
    for part in parts:
        h.update(len(part).to_bytes(4, "big"))
        h.update(part)
    return h.digest()
