"""Verifiable dealing shared by DKG and reshare: hash-commit, commit, private shares,
public complaints and openings (MPC-PROTOCOLS.md §2 steps 2–5, §3).

Every dealer first broadcasts only a hash of its commitment message (a rushing dealer cannot
choose its polynomial after seeing others'), then the commitment itself. Receivers check their
private share against the commitment (Feldman); a failure becomes a public complaint naming the
dealer, who must then open that share publicly: a missing or still-invalid opening names the
dealer, a valid one is adopted by the complainer.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from typing import Any

from .errors import MessageError, ProtocolAbort
from .groups import Group, Point
from .messages import (
    expect_keys,
    get,
    hex_field,
    parse_int,
    parse_points,
    parse_scalar,
    point_hex,
    scalar_hex,
)
from .rounds import Body, Round, RoundProtocol
from .session import transcript_hash
from .shamir import add_commitments, commit, feldman_check, share_for


class DealingProtocol(RoundProtocol):
    """Base class: subclasses set the group, dealers, receivers and degree."""

    group: Group
    dealers: tuple[int, ...]
    receivers: tuple[int, ...]
    degree: int

    def _init_dealing(self) -> None:
        self._poly: list[int] | None = None
        self._commit_body: Body | None = None
        self._hashes: dict[int, bytes] = {}
        self.commitments: dict[int, list[Point]] = {}
        self._shares: dict[int, int] = {}
        self._accused: list[int] = []
        self._complaints: dict[int, list[int]] = {}

    # -- subclass hooks -------------------------------------------------------------------
    @abstractmethod
    def _polynomial(self) -> list[int]:
        """This dealer's polynomial (degree :attr:`degree`)."""

    def _commit_extras(self, coeffs: list[int], commitment: list[Point]) -> Body:
        """Extra fields of the commitment message (e.g. a proof of knowledge)."""
        return {}

    def _check_commitment(self, dealer: int, commitment: list[Point], body: Body) -> None:
        """Raise :class:`MessageError` if a dealer's commitment message is invalid."""

    @abstractmethod
    def _finish(self) -> Any:
        """Build the result from :attr:`commitments` and the verified shares."""

    def _transcript_sid(self) -> bytes:
        return self.sid

    def _share_for(self, receiver: int) -> int:
        """The share this dealer gives ``receiver`` (tests override it to cheat)."""
        assert self._poly is not None
        return share_for(self._poly, receiver, self.group.order)

    # -- rounds ---------------------------------------------------------------------------
    def _dealing_rounds(self) -> list[Round]:
        return [
            Round("commit_hash", True, self.dealers, self.participants),
            Round("commit", True, self.dealers, self.participants),
            Round("share", False, self.dealers, self.receivers),
            Round("complaints", True, self.receivers, self.participants),
            Round("open", True, self.dealers, self.participants),
        ]

    def _commit_digest(self, dealer: int, body: Body) -> bytes:
        encoded = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        return transcript_hash(
            b"dealing-commit", self._transcript_sid(), dealer.to_bytes(4, "big"), encoded
        )

    def _dealing_outgoing(self, round_: Round) -> Body | dict[int, Body]:
        if round_.name == "commit_hash":
            self._poly = self._polynomial()
            commitment = commit(self.group, self._poly)
            self._commit_body = {
                "commitment": [point_hex(self.group, c) for c in commitment],
                **self._commit_extras(self._poly, commitment),
            }
            return {"hash": self._commit_digest(self.me, self._commit_body).hex()}
        if round_.name == "commit":
            assert self._commit_body is not None
            return self._commit_body
        if round_.name == "share":
            return {
                j: {"share": scalar_hex(self.group, self._share_for(j))} for j in self.receivers
            }
        if round_.name == "complaints":
            return {"accused": sorted(self._accused)}
        if round_.name == "open":
            mine = sorted(j for j, accused in self._complaints.items() if self.me in accused)
            return {"openings": {str(j): scalar_hex(self.group, self._share_for(j)) for j in mine}}
        raise AssertionError(round_.name)

    def _dealing_on_round(self, round_: Round, received: dict[int, Body]) -> None:
        name = round_.name
        if name == "commit_hash":
            self._hashes = self._each(
                received,
                lambda _s, b: (expect_keys(b, ["hash"]), hex_field(b["hash"], 32, "hash"))[1],
            )
        elif name == "commit":
            self.commitments = self._each(received, self._parse_commitment)
        elif name == "share":
            shares = self._each(
                received,
                lambda _s, b: (
                    expect_keys(b, ["share"]),
                    parse_scalar(self.group, b["share"], "share"),
                )[1],
            )
            if not shares:
                return
            # One batched Feldman check (Σ_i f_i(j)·G against Σ_i C_i) costs K multiplications
            # instead of n·K; only when it fails is each dealer checked, to name the culprits.
            combined = add_commitments(self.group, [self.commitments[d] for d in shares])
            total = sum(shares.values()) % self.group.order
            if feldman_check(self.group, combined, self.me, total):
                self._shares.update(shares)
                return
            for dealer, value in shares.items():
                if feldman_check(self.group, self.commitments[dealer], self.me, value):
                    self._shares[dealer] = value
                else:
                    self._accused.append(dealer)
        elif name == "complaints":
            self._complaints = self._each(received, self._parse_complaint)
            if not any(self._complaints.values()):
                self.result = self._finish()
        elif name == "open":
            self._resolve_openings(received)
            self.result = self._finish()

    def _parse_commitment(self, dealer: int, body: Body) -> list[Point]:
        if set(body) != {"commitment", *self._commit_extras_keys()}:
            raise MessageError("commitment message has unexpected fields")
        commitment = parse_points(
            self.group, get(body, "commitment"), self.degree + 1, "commitment"
        )
        if self._commit_digest(dealer, body) != self._hashes[dealer]:
            raise MessageError("commitment does not match the committed hash")
        self._check_commitment(dealer, commitment, body)
        return commitment

    def _commit_extras_keys(self) -> tuple[str, ...]:
        return ()

    def _parse_complaint(self, complainer: int, body: Body) -> list[int]:
        expect_keys(body, ["accused"])
        accused = get(body, "accused")
        if not isinstance(accused, list):
            raise MessageError("accused must be a list")
        ids = [parse_int(a, "accused") for a in accused]
        if ids != sorted(set(ids)) or any(i not in self.dealers or i == complainer for i in ids):
            raise MessageError("accused must list distinct other dealers, sorted")
        return ids

    def _resolve_openings(self, received: dict[int, Body]) -> None:
        culprits = set()
        for dealer in self.dealers:
            body = received[dealer]
            expected = sorted(j for j, acc in self._complaints.items() if dealer in acc)
            openings = body.get("openings") if set(body) == {"openings"} else None
            if not isinstance(openings, dict) or sorted(openings) != sorted(map(str, expected)):
                culprits.add(dealer)
                continue
            for complainer in expected:
                try:
                    value = parse_scalar(self.group, openings[str(complainer)], "opening")
                except MessageError:
                    culprits.add(dealer)
                    continue
                if not feldman_check(self.group, self.commitments[dealer], complainer, value):
                    culprits.add(dealer)
                elif complainer == self.me:
                    self._shares[dealer] = value
        if culprits:
            raise ProtocolAbort("dealer's share failed the Feldman check and its opening", culprits)
