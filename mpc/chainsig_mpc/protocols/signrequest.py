"""What a signer looks up in its own view of the chain for a request id."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chainsig_core.errors import InvalidInputError

from .errors import SigningRefusedError


@dataclass(frozen=True)
class SignRequest:
    """A sign request as one node sees it on chain.

    Parameters
    ----------
    request_id:
        The contract's id of the request.
    payload:
        h: 32 bytes for ECDSA; the message bytes for EdDSA.
    tweak:
        ε as bytes, ``chainsig_core.kdf.tweak(predecessor, path)``.
    entropy:
        ρ: the ``random_value`` of the block that included the request (32 bytes; ECDSA only).
    """

    request_id: str
    payload: bytes
    tweak: bytes
    entropy: bytes = bytes(32)

    def __post_init__(self) -> None:
        if not isinstance(self.request_id, str) or not 0 < len(self.request_id) <= 128:
            raise InvalidInputError("request id must be a string of 1–128 characters")
        if len(self.tweak) != 32 or len(self.entropy) != 32:
            raise InvalidInputError("tweak and entropy are 32 bytes each")


RequestLookup = Callable[[str], SignRequest]
"""``request id -> SignRequest`` from the node's own chain view (raise LookupError if unknown)."""


def look_up(lookup: RequestLookup, request_id: str) -> SignRequest:
    """Call ``lookup``; an unknown request becomes a refusal.

    Raises
    ------
    SigningRefusedError
        If this node's chain view does not know the request.
    """
    try:
        request = lookup(request_id)
    except LookupError:
        raise SigningRefusedError("request is unknown in this node's view of the chain") from None
    if request.request_id != request_id:
        raise SigningRefusedError("chain view returned another request")
    return request
