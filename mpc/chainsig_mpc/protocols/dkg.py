"""Distributed key generation for secp256k1 and ed25519 (MPC-PROTOCOLS.md §2, NEAR's PedPop+).

Rounds: random session contributions (sid = H(all)); hash of (i, C_i, proof, sid); commitments
C_i with a Schnorr proof of knowledge of f_i(0) bound to sid and i; private shares; complaints
(an empty complaint list is the success broadcast); openings when someone complained.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from chainsig_core.keys import Curve

from .dealing import DealingProtocol
from .errors import MessageError, ProtocolAbort
from .groups import Group, Point, group_for
from .keyshare import KeyShare
from .messages import expect_keys, hex_field, parse_point, parse_scalar, point_hex, scalar_hex
from .rounds import Body, Round
from .session import session_id, transcript_hash
from .shamir import add_commitments, check_participants


def pok_challenge(group: Group, sid: bytes, dealer: int, public: Point, nonce: Point) -> int:
    """Schnorr challenge H(sid, i, C_i[0], R) mod order."""
    digest = hashlib.sha512(
        transcript_hash(
            b"dkg-pok",
            group.curve.value.encode(),
            sid,
            dealer.to_bytes(4, "big"),
            group.encode(public),
            group.encode(nonce),
        )
    ).digest()
    return int.from_bytes(digest, "big") % group.order


class Dkg(DealingProtocol):
    """One participant's DKG run.

    Parameters
    ----------
    curve:
        ``Curve.SECP256K1`` or ``Curve.ED25519``.
    domain, epoch:
        Bound into the session id.
    participants:
        All participant ids (each deals and receives).
    threshold:
        K (1 ≤ K ≤ n); polynomials have degree K − 1.
    me:
        This participant.
    seed:
        DRBG seed (fresh from the OS when omitted; set only to restore state).

    Raises
    ------
    ProtocolAbort
        Duplicate or negative participant ids, or a threshold out of range.
    """

    protocol = "dkg"

    def __init__(
        self,
        curve: Curve | str,
        domain: int,
        epoch: int,
        participants: Sequence[int],
        threshold: int,
        me: int,
        seed: bytes | None = None,
    ) -> None:
        ids = check_participants(participants)
        if not 1 <= threshold <= len(ids):
            raise ProtocolAbort("threshold must be between 1 and the number of participants")
        self.curve = Curve(curve)
        self.group = group_for(self.curve)
        self.domain, self.epoch, self.threshold = domain, epoch, threshold
        sid = session_id(
            "dkg",
            curve=self.curve.value,
            domain=domain,
            epoch=epoch,
            participants=list(ids),
            threshold=threshold,
        )
        super().__init__(sid, me, ids, seed)
        self.dealers = self.receivers = ids
        self.degree = threshold - 1
        self._full_sid = b""
        self._init_dealing()

    def _plan(self) -> list[Round]:
        return [
            Round("contribution", True, self.participants, self.participants),
            *self._dealing_rounds(),
        ]

    def _outgoing(self, round_: Round) -> Body | dict[int, Body]:
        if round_.name == "contribution":
            return {"contribution": self._random_bytes().hex()}
        return self._dealing_outgoing(round_)

    def _on_round(self, round_: Round, received: dict[int, Body]) -> None:
        if round_.name == "contribution":
            parts = self._each(
                received,
                lambda _s, b: (
                    expect_keys(b, ["contribution"]),
                    hex_field(b["contribution"], 32, "contribution"),
                )[1],
            )
            self._full_sid = transcript_hash(
                b"dkg-sid", self.sid, *(parts[p] for p in self.participants)
            )
        else:
            self._dealing_on_round(round_, received)

    def _transcript_sid(self) -> bytes:
        return self._full_sid

    def _polynomial(self) -> list[int]:
        return [self._random_scalar(self.group.order) for _ in range(self.degree + 1)]

    def _commit_extras(self, coeffs: list[int], commitment: list[Point]) -> Body:
        r = self._random_scalar(self.group.order)
        nonce = self.group.base_mul(r)
        c = pok_challenge(self.group, self._full_sid, self.me, commitment[0], nonce)
        return {
            "pok_r": point_hex(self.group, nonce),
            "pok_z": scalar_hex(self.group, (r + c * coeffs[0]) % self.group.order),
        }

    def _commit_extras_keys(self) -> tuple[str, ...]:
        return ("pok_r", "pok_z")

    def _check_commitment(self, dealer: int, commitment: list[Point], body: Body) -> None:
        nonce = parse_point(self.group, body["pok_r"], "pok_r")
        z = parse_scalar(self.group, body["pok_z"], "pok_z")
        c = pok_challenge(self.group, self._full_sid, dealer, commitment[0], nonce)
        expected = self.group.add(nonce, self.group.mul(commitment[0], c))
        if not self.group.eq(self.group.base_mul(z), expected):
            raise MessageError("proof of knowledge does not verify")

    def _finish(self) -> KeyShare:
        group_commitment = add_commitments(self.group, [self.commitments[d] for d in self.dealers])
        if self.group.is_identity(group_commitment[0]):
            raise ProtocolAbort("the generated public key is the identity")
        share = sum(self._shares[d] for d in self.dealers) % self.group.order
        return KeyShare(
            self.curve,
            self.domain,
            self.epoch,
            self.participants,
            self.threshold,
            self.me,
            share,
            tuple(self.group.encode(c) for c in group_commitment),
        )

    def _params(self) -> dict[str, Any]:
        return {
            "curve": self.curve.value,
            "domain": self.domain,
            "epoch": self.epoch,
            "participants": list(self.participants),
            "threshold": self.threshold,
            "me": self.me,
        }

    @classmethod
    def _from_params(cls, params: dict[str, Any], seed: bytes) -> Dkg:
        return cls(
            params["curve"],
            params["domain"],
            params["epoch"],
            params["participants"],
            params["threshold"],
            params["me"],
            seed,
        )
