"""Reshare and refresh of a key to a new participant set and threshold (MPC-PROTOCOLS.md §3).

Dealers D ⊆ old set (|D| ≥ K_old) each share λ_i·x_i with a fresh polynomial of degree
K_new − 1; the check C_i[0] = λ_i·X_i^old against the pinned old group commitment names a
cheating old party; each new participant sums its verified shares. The output is *pending*:
:class:`chainsig_mpc.protocols.keystore.KeyStore` keeps the old share until the external
commit signal (the contract moving to Running with the new set). Refresh = same set and K.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chainsig_core.keys import Curve

from .dealing import DealingProtocol
from .errors import MessageError, ProtocolAbort, StateError
from .groups import Point, group_for
from .keyshare import KeyShare, commitment_hash
from .rounds import Body, Round
from .session import session_id
from .shamir import add_commitments, check_participants, eval_commitment, lagrange_at_zero


@dataclass(frozen=True)
class ReshareOutcome:
    """What a reshare run gives one party: the new (pending) share, or None for a leaver."""

    share: KeyShare | None


def check_thresholds(new_participants: Sequence[int], new_threshold: int, ecdsa: bool) -> None:
    """K_n ≤ |N|, and 2·K_n − 1 ≤ |N| for the robust-ECDSA domain.

    Raises
    ------
    ProtocolAbort
    """
    n = len(new_participants)
    if not 1 <= new_threshold <= n:
        raise ProtocolAbort("new threshold must be between 1 and the new participant count")
    if ecdsa and 2 * new_threshold - 1 > n:
        raise ProtocolAbort("robust ECDSA needs 2·K − 1 ≤ the number of participants")


class Reshare(DealingProtocol):
    """One party's reshare run (a dealer, a new participant, or both).

    Parameters
    ----------
    old_commitment:
        The old group commitment (encoded points), checked against ``old_commitment_hash``.
    old_commitment_hash:
        The hash pinned where joiners can check it (e.g. recorded with the key).
    old_participants, old_threshold:
        The old set and K_old.
    dealers:
        Online old participants that deal (|D| ≥ K_old).
    new_participants, new_threshold:
        The new set and K_new.
    me:
        This party.
    old_share:
        This party's old share (required when ``me`` is a dealer).
    domain, epoch:
        Domain and the *new* epoch (bound into the sid).
    ecdsa:
        Whether the domain runs robust ECDSA (enforces 2·K_new − 1 ≤ |N|).

    Raises
    ------
    ProtocolAbort, StateError
    """

    protocol = "reshare"

    def __init__(
        self,
        *,
        old_commitment: Sequence[bytes],
        old_commitment_hash: str,
        old_participants: Sequence[int],
        old_threshold: int,
        dealers: Sequence[int],
        new_participants: Sequence[int],
        new_threshold: int,
        me: int,
        old_share: KeyShare | None,
        domain: int,
        epoch: int,
        ecdsa: bool,
        seed: bytes | None = None,
    ) -> None:
        old_ids = check_participants(old_participants)
        self.dealers = check_participants(dealers)
        self.receivers = check_participants(new_participants)
        if not set(self.dealers) <= set(old_ids) or len(self.dealers) < old_threshold:
            raise ProtocolAbort("dealers must be at least K_old members of the old set")
        check_thresholds(self.receivers, new_threshold, ecdsa)
        self.old_commitment = tuple(bytes(c) for c in old_commitment)
        if commitment_hash(self.old_commitment) != old_commitment_hash:
            raise StateError("old commitment does not match its pinned hash")
        if len(self.old_commitment) != old_threshold:
            raise StateError("old commitment length does not match the old threshold")
        if me in self.dealers and (
            old_share is None or old_share.me != me or old_share.commitment != self.old_commitment
        ):
            raise StateError("a dealer needs its own share of the old key")
        self.old_participants, self.old_threshold = old_ids, old_threshold
        self.new_threshold, self.domain, self.epoch, self.ecdsa = (
            new_threshold,
            domain,
            epoch,
            ecdsa,
        )
        self.old_share = old_share
        self._curve_name = _curve_of(self.old_commitment)
        self.group = group_for(self._curve_name)
        self._old_points: list[Point] = [self.group.decode(c) for c in self.old_commitment]
        sid = session_id(
            "reshare",
            curve=self._curve_name,
            domain=domain,
            epoch=epoch,
            old_commitment=old_commitment_hash,
            old_participants=list(old_ids),
            old_threshold=old_threshold,
            dealers=list(self.dealers),
            new_participants=list(self.receivers),
            new_threshold=new_threshold,
        )
        super().__init__(sid, me, sorted(set(self.dealers) | set(self.receivers)), seed)
        self.degree = new_threshold - 1
        self._init_dealing()

    def _plan(self) -> list[Round]:
        return self._dealing_rounds()

    def _outgoing(self, round_: Round) -> Body | dict[int, Body]:
        return self._dealing_outgoing(round_)

    def _on_round(self, round_: Round, received: dict[int, Body]) -> None:
        self._dealing_on_round(round_, received)

    def _polynomial(self) -> list[int]:
        assert self.old_share is not None
        order = self.group.order
        lam = lagrange_at_zero(self.me, self.dealers, order)
        rest = [self._random_scalar(order) for _ in range(self.degree)]
        return [lam * self.old_share.share % order, *rest]

    def _check_commitment(self, dealer: int, commitment: list[Point], body: Body) -> None:
        lam = lagrange_at_zero(dealer, self.dealers, self.group.order)
        old_public = eval_commitment(self.group, self._old_points, dealer)
        if not self.group.eq(commitment[0], self.group.mul(old_public, lam)):
            raise MessageError("dealer's C[0] is not λ·X_old of its old share")

    def _finish(self) -> ReshareOutcome:
        new_commitment = add_commitments(self.group, [self.commitments[d] for d in self.dealers])
        if not self.group.eq(new_commitment[0], self._old_points[0]):
            raise ProtocolAbort("reshared public key differs from the old one")
        if self.me not in self.receivers:
            return ReshareOutcome(None)
        share = sum(self._shares[d] for d in self.dealers) % self.group.order
        return ReshareOutcome(
            KeyShare(
                Curve(self._curve_name),
                self.domain,
                self.epoch,
                self.receivers,
                self.new_threshold,
                self.me,
                share,
                tuple(self.group.encode(c) for c in new_commitment),
            )
        )

    def _params(self) -> dict[str, Any]:
        return {
            "old_commitment": [c.hex() for c in self.old_commitment],
            "old_commitment_hash": commitment_hash(self.old_commitment),
            "old_participants": list(self.old_participants),
            "old_threshold": self.old_threshold,
            "dealers": list(self.dealers),
            "new_participants": list(self.receivers),
            "new_threshold": self.new_threshold,
            "me": self.me,
            "domain": self.domain,
            "epoch": self.epoch,
            "ecdsa": self.ecdsa,
            "old_share": self.old_share.to_json() if self.old_share else None,
        }

    @classmethod
    def _from_params(cls, params: dict[str, Any], seed: bytes) -> Reshare:
        old = params["old_share"]
        return cls(
            old_commitment=[bytes.fromhex(c) for c in params["old_commitment"]],
            old_commitment_hash=params["old_commitment_hash"],
            old_participants=params["old_participants"],
            old_threshold=params["old_threshold"],
            dealers=params["dealers"],
            new_participants=params["new_participants"],
            new_threshold=params["new_threshold"],
            me=params["me"],
            old_share=KeyShare.from_json(old) if old else None,
            domain=params["domain"],
            epoch=params["epoch"],
            ecdsa=params["ecdsa"],
            seed=seed,
        )


def _curve_of(commitment: Sequence[bytes]) -> str:
    if not commitment:
        raise StateError("old commitment is empty")
    return "secp256k1" if len(commitment[0]) == 33 else "ed25519"
