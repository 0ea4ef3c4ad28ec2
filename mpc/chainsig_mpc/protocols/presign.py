"""Robust ECDSA presigning (MPC-PROTOCOLS.md §4, after eprint 2020/501 and NEAR's robust_ecdsa).

Exactly |P| = 2t + 1 signers (t = K − 1). Round 1: every signer deals to every signer shares of
random degree-t polynomials f_k, f_a and degree-2t polynomials f_b, f_d, f_e with constant term 0.
Round 2: each signer broadcasts R_j = k_j·G (echoed); the R_j must lie on one degree-t
polynomial in the exponent — up to ⌊t/2⌋ inconsistent openers are located and named — and
R = F(0) ≠ identity. The stored presignature holds (R, a_j, w_j = a_j·k_j + b_j,
u_j = a_j·x_j + d_j, e_j); w = a·k and u = a·x are never reconstructed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations, islice
from typing import Any, TypedDict

from chainsig_core.keys import Curve

from .errors import ProtocolAbort, StateError
from .groups import SECP256K1, Group, Point
from .keyshare import KeyShare
from .messages import expect_keys, parse_point, parse_scalar, point_hex, scalar_hex
from .pools import PoolKey
from .rounds import Body, Round, RoundProtocol
from .session import session_id
from .shamir import check_participants, eval_point, evaluate, interpolate_points_at

SUBSET_BUDGET = 2000
"""Most candidate subsets tried when locating inconsistent R_j openings."""


class PresignatureJSON(TypedDict):
    """Serialized :class:`Presignature` (secret)."""

    id: str
    domain: int
    epoch: int
    owner: int
    signers: list[int]
    me: int
    big_r: str
    a: str
    w: str
    u: str
    e: str
    key: str


@dataclass(frozen=True)
class Presignature:
    """One signer's share of a presignature (single use, same signer set at signing)."""

    presignature_id: str
    domain: int
    epoch: int
    owner: int
    signers: tuple[int, ...]
    me: int
    big_r: bytes
    a: int
    w: int
    u: int
    e: int
    key_commitment_hash: str

    def __repr__(self) -> str:
        return (
            f"Presignature(id={self.presignature_id[:16]}…, owner={self.owner}, "
            f"signers={self.signers}, me={self.me})"
        )

    @property
    def item_id(self) -> str:
        """Pool id."""
        return self.presignature_id

    @property
    def pool_key(self) -> PoolKey:
        """(domain, epoch, owner, signer set)."""
        return PoolKey(self.domain, self.epoch, self.owner, self.signers)

    def to_json(self) -> PresignatureJSON:  # type: ignore[override]
        """Serializable form (secret)."""
        g = SECP256K1
        return {
            "id": self.presignature_id,
            "domain": self.domain,
            "epoch": self.epoch,
            "owner": self.owner,
            "signers": list(self.signers),
            "me": self.me,
            "big_r": self.big_r.hex(),
            "a": scalar_hex(g, self.a),
            "w": scalar_hex(g, self.w),
            "u": scalar_hex(g, self.u),
            "e": scalar_hex(g, self.e),
            "key": self.key_commitment_hash,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Presignature:
        """Inverse of :meth:`to_json`.

        Raises
        ------
        StateError
        """
        try:
            g = SECP256K1
            big_r = bytes.fromhex(data["big_r"])
            g.decode(big_r)
            return cls(
                str(data["id"]),
                int(data["domain"]),
                int(data["epoch"]),
                int(data["owner"]),
                tuple(int(s) for s in data["signers"]),
                int(data["me"]),
                big_r,
                *(parse_scalar(g, data[k], k) for k in ("a", "w", "u", "e")),
                str(data["key"]),
            )
        except (KeyError, TypeError, ValueError):
            raise StateError("presignature JSON is malformed") from None


def locate_inconsistent(group: Group, points: dict[int, Point], degree: int) -> set[int] | None:
    """Openers whose point is off the degree-``degree`` polynomial through the others.

    Returns the empty set when all points agree, the located culprits when at most
    ⌊(n − degree − 1)/2⌋ disagree, or None when the fault cannot be located.
    """
    ids = sorted(points)
    max_bad = (len(ids) - degree - 1) // 2
    for subset in islice(combinations(ids, degree + 1), SUBSET_BUDGET):
        base = {i: points[i] for i in subset}
        bad = {
            j
            for j in ids
            if j not in base and not group.eq(interpolate_points_at(group, base, j), points[j])
        }
        if len(bad) <= max_bad:
            return bad
    return None


class EcdsaPresign(RoundProtocol):
    """One signer's presign run.

    Parameters
    ----------
    key:
        This signer's secp256k1 key share.
    signers:
        P, exactly 2·K − 1 members of the key's participants.
    owner:
        The signer that will coordinate the signature with this presignature.
    label:
        A unique label of this presignature (e.g. owner-chosen counter); bound into the sid.
    seed:
        DRBG seed (only to restore state).

    Raises
    ------
    ProtocolAbort
        Wrong signer-set size, unknown signers or owner.
    """

    protocol = "ecdsa-presign"

    def __init__(
        self,
        key: KeyShare,
        signers: Sequence[int],
        owner: int,
        label: str,
        seed: bytes | None = None,
    ) -> None:
        if key.curve is not Curve.SECP256K1:
            raise ProtocolAbort("robust ECDSA needs a secp256k1 key")
        ids = check_participants(signers)
        self.t = key.threshold - 1
        if len(ids) != 2 * self.t + 1:
            raise ProtocolAbort(f"robust ECDSA needs exactly 2·K − 1 = {2 * self.t + 1} signers")
        if not set(ids) <= set(key.participants) or owner not in ids:
            raise ProtocolAbort("signers and owner must be participants of the key")
        self.key, self.owner, self.label = key, owner, label
        self.group = SECP256K1
        sid = session_id(
            "ecdsa-presign",
            domain=key.domain,
            epoch=key.epoch,
            key=key.commitment_hash,
            signers=list(ids),
            threshold=key.threshold,
            owner=owner,
            label=label,
        )
        super().__init__(sid, key.me, ids, seed)
        self._sums: dict[str, int] = {}

    def _plan(self) -> list[Round]:
        return [
            Round("deal", False, self.participants, self.participants),
            Round("open", True, self.participants, self.participants),
        ]

    def _outgoing(self, round_: Round) -> Body | dict[int, Body]:
        n = self.group.order
        if round_.name == "deal":
            polys = {
                "k": self._poly(self.t, None),
                "a": self._poly(self.t, None),
                "b": self._poly(2 * self.t, 0),
                "d": self._poly(2 * self.t, 0),
                "e": self._poly(2 * self.t, 0),
            }
            return {
                j: {
                    name: scalar_hex(self.group, evaluate(p, eval_point(j), n))
                    for name, p in polys.items()
                }
                for j in self.participants
            }
        return {"big_r": point_hex(self.group, self.group.base_mul(self._sums["k"]))}

    def _poly(self, degree: int, constant: int | None) -> list[int]:
        coeffs = [self._random_scalar(self.group.order) for _ in range(degree + 1)]
        if constant is not None:
            coeffs[0] = constant
        return coeffs

    def _on_round(self, round_: Round, received: dict[int, Body]) -> None:
        n = self.group.order
        if round_.name == "deal":
            names = ("k", "a", "b", "d", "e")
            dealt = self._each(
                received,
                lambda _s, b: (
                    expect_keys(b, names),
                    {k: parse_scalar(self.group, b[k], k) for k in names},
                )[1],
            )
            self._sums = {k: sum(d[k] for d in dealt.values()) % n for k in names}
            return
        opened = self._each(
            received,
            lambda _s, b: (expect_keys(b, ["big_r"]), parse_point(self.group, b["big_r"], "big_r"))[
                1
            ],
        )
        bad = locate_inconsistent(self.group, opened, self.t)
        if bad is None:
            raise ProtocolAbort("R_j openings are inconsistent and cannot be located")
        if bad:
            raise ProtocolAbort("R_j openings off the degree-t polynomial", bad)
        base = {i: opened[i] for i in self.participants[: self.t + 1]}
        big_r = interpolate_points_at(self.group, base, -1)
        if self.group.is_identity(big_r):
            raise ProtocolAbort("presignature nonce R is the identity")
        s = self._sums
        self.result = Presignature(
            self.sid.hex(),
            self.key.domain,
            self.key.epoch,
            self.owner,
            self.participants,
            self.me,
            self.group.encode(big_r),
            s["a"],
            (s["a"] * s["k"] + s["b"]) % n,
            (s["a"] * self.key.share + s["d"]) % n,
            s["e"],
            self.key.commitment_hash,
        )

    def _params(self) -> dict[str, Any]:
        return {
            "key": self.key.to_json(),
            "signers": list(self.participants),
            "owner": self.owner,
            "label": self.label,
        }

    @classmethod
    def _from_params(cls, params: dict[str, Any], seed: bytes) -> EcdsaPresign:
        return cls(
            KeyShare.from_json(params["key"]),
            params["signers"],
            params["owner"],
            params["label"],
            seed,
        )
