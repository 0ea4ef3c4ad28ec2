"""FROST nonce material: a signer's secret nonce pair and the owner's pooled commitments.

Both are pool items keyed by (domain, epoch, owner, signer set) (MPC-PROTOCOLS.md §6) and
serialize to JSON; a nonce is single use (its consumption is recorded in the
:class:`~chainsig_mpc.protocols.storage.ConsumptionLog` before z_i leaves).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

from . import frost
from .errors import StateError
from .groups import ED25519
from .messages import parse_scalar, scalar_hex
from .pools import PoolKey
from .shamir import eval_point


class FrostNonceJSON(TypedDict):
    """Serialized :class:`FrostNonce` (secret)."""

    id: str
    domain: int
    epoch: int
    owner: int
    signers: list[int]
    me: int
    hiding: str
    binding: str


@dataclass(frozen=True)
class FrostNonce:
    """A signer's single-use nonce pair, bound to one owner and signer set."""

    nonce_id: str
    domain: int
    epoch: int
    owner: int
    signers: tuple[int, ...]
    me: int
    hiding: int
    binding: int

    def __repr__(self) -> str:
        return f"FrostNonce(id={self.nonce_id[:16]}…, owner={self.owner}, signers={self.signers})"

    @property
    def item_id(self) -> str:
        """Pool id."""
        return self.nonce_id

    @property
    def pool_key(self) -> PoolKey:
        """(domain, epoch, owner, signer set)."""
        return PoolKey(self.domain, self.epoch, self.owner, self.signers)

    @property
    def commitment(self) -> frost.Commitment:
        """The public commitment (D, E)."""
        return frost.Commitment(
            eval_point(self.me), ED25519.base_mul(self.hiding), ED25519.base_mul(self.binding)
        )

    def to_json(self) -> FrostNonceJSON:  # type: ignore[override]
        """Serializable form (secret)."""
        return {
            "id": self.nonce_id,
            "domain": self.domain,
            "epoch": self.epoch,
            "owner": self.owner,
            "signers": list(self.signers),
            "me": self.me,
            "hiding": scalar_hex(ED25519, self.hiding),
            "binding": scalar_hex(ED25519, self.binding),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FrostNonce:
        """Inverse of :meth:`to_json`.

        Raises
        ------
        StateError
        """
        try:
            return cls(
                str(data["id"]),
                int(data["domain"]),
                int(data["epoch"]),
                int(data["owner"]),
                tuple(int(s) for s in data["signers"]),
                int(data["me"]),
                parse_scalar(ED25519, data["hiding"], "hiding"),
                parse_scalar(ED25519, data["binding"], "binding"),
            )
        except (KeyError, TypeError, ValueError):
            raise StateError("FROST nonce JSON is malformed") from None


@dataclass(frozen=True)
class PeerCommitment:
    """A commitment the owner received from a signer (public; pooled by the owner)."""

    nonce_id: str
    domain: int
    epoch: int
    owner: int
    signers: tuple[int, ...]
    signer: int
    hiding: bytes
    binding: bytes

    @property
    def item_id(self) -> str:
        """Pool id."""
        return f"{self.signer}:{self.nonce_id}"

    @property
    def pool_key(self) -> PoolKey:
        """Per signer: (domain, epoch, owner, signer set) with the owner's view."""
        return PoolKey(self.domain, self.epoch, self.owner, self.signers)

    def to_json(self) -> dict[str, Any]:
        """Serializable form."""
        return {
            "id": self.nonce_id,
            "domain": self.domain,
            "epoch": self.epoch,
            "owner": self.owner,
            "signers": list(self.signers),
            "signer": self.signer,
            "hiding": self.hiding.hex(),
            "binding": self.binding.hex(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PeerCommitment:
        """Inverse of :meth:`to_json`."""
        try:
            return cls(
                str(data["id"]),
                int(data["domain"]),
                int(data["epoch"]),
                int(data["owner"]),
                tuple(int(s) for s in data["signers"]),
                int(data["signer"]),
                bytes.fromhex(data["hiding"]),
                bytes.fromhex(data["binding"]),
            )
        except (KeyError, TypeError, ValueError):
            raise StateError("FROST commitment JSON is malformed") from None
