"""A participant's long-term key share and its public group commitment."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypedDict

from chainsig_core.keys import Curve, PublicKey

from .errors import StateError
from .groups import Group, Point, group_for
from .shamir import eval_commitment


class KeyShareJSON(TypedDict):
    """Serialized :class:`KeyShare` (contains the secret share)."""

    curve: str
    domain: int
    epoch: int
    participants: list[int]
    threshold: int
    me: int
    share: str
    commitment: list[str]


@dataclass(frozen=True)
class KeyShare:
    """Output of DKG or reshare for one participant.

    Parameters
    ----------
    curve, domain, epoch:
        What the key is for and which participant-set generation produced it.
    participants:
        The sorted participant ids holding shares.
    threshold:
        K: shares needed to reconstruct (polynomial degree K − 1).
    me:
        This participant's id.
    share:
        x_me, the secret share (never logged; ``repr`` hides it).
    commitment:
        The group's Feldman commitment C (K encoded points); C[0] is the public key X.
    """

    curve: Curve
    domain: int
    epoch: int
    participants: tuple[int, ...]
    threshold: int
    me: int
    share: int
    commitment: tuple[bytes, ...]

    def __repr__(self) -> str:
        return (
            f"KeyShare(curve={self.curve.value}, domain={self.domain}, epoch={self.epoch}, "
            f"me={self.me}, participants={self.participants}, threshold={self.threshold})"
        )

    @property
    def group(self) -> Group:
        """The group of the key."""
        return group_for(self.curve)

    @cached_property
    def commitment_points(self) -> tuple[Point, ...]:
        """Decoded commitment."""
        return tuple(self.group.decode(c) for c in self.commitment)

    @property
    def public_point(self) -> Point:
        """X = C[0]."""
        return self.commitment_points[0]

    @property
    def public_key(self) -> PublicKey:
        """X in chainsig_core's form (the root key of the domain)."""
        return to_public_key(self.group, self.public_point)

    @cached_property
    def public_shares(self) -> dict[int, Point]:
        """X_j = x_j·G of every participant (computed once per key share)."""
        return {
            j: eval_commitment(self.group, self.commitment_points, j) for j in self.participants
        }

    def public_share(self, participant: int) -> Point:
        """X_j = x_j·G, computed from the commitment."""
        cached = self.public_shares.get(participant)
        if cached is not None:
            return cached
        return eval_commitment(self.group, self.commitment_points, participant)

    @property
    def commitment_hash(self) -> str:
        """Hex hash of the commitment, pinned where new participants can check it."""
        return commitment_hash(self.commitment)

    def to_json(self) -> KeyShareJSON:
        """Serializable form (secret!)."""
        return {
            "curve": self.curve.value,
            "domain": self.domain,
            "epoch": self.epoch,
            "participants": list(self.participants),
            "threshold": self.threshold,
            "me": self.me,
            "share": self.group.scalar_bytes(self.share).hex(),
            "commitment": [c.hex() for c in self.commitment],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KeyShare:
        """Inverse of :meth:`to_json`.

        Raises
        ------
        StateError
        """
        try:
            curve = Curve(data["curve"])
            group = group_for(curve)
            commitment = tuple(bytes.fromhex(c) for c in data["commitment"])
            for c in commitment:
                group.decode(c)
            return cls(
                curve,
                int(data["domain"]),
                int(data["epoch"]),
                tuple(int(p) for p in data["participants"]),
                int(data["threshold"]),
                int(data["me"]),
                group.scalar_from_bytes(bytes.fromhex(data["share"])),
                commitment,
            )
        except (KeyError, TypeError, ValueError):
            raise StateError("key share JSON is malformed") from None


def commitment_hash(commitment: Sequence[bytes]) -> str:
    """SHA-256 over the encoded commitment points."""
    h = hashlib.sha256(b"chainsig-mpc/commitment/v1\x00")
    for c in commitment:
        h.update(c)
    return h.hexdigest()


def to_public_key(group: Group, point: Point) -> PublicKey:
    """A group point as :class:`chainsig_core.keys.PublicKey` (64-byte x‖y / 32 bytes)."""
    if group.curve is Curve.SECP256K1:
        return PublicKey(Curve.SECP256K1, point.format(compressed=False)[1:])
    return PublicKey(Curve.ED25519, bytes(point))


def from_public_key(key: PublicKey) -> Point:
    """The group point of a :class:`PublicKey` (validated)."""
    group = group_for(key.curve)
    return group.decode(key.compressed)
