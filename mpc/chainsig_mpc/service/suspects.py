"""Which peers this node leaves out of signer sets, and why.

FROST checks every signature share (RFC 9591 §5.4) and the dealing protocols check every
share against its commitment, so those runs *name* a misbehaving peer: it is excluded at once.

Robust ECDSA as specified (MPC-PROTOCOLS.md §4) cannot check a single share: a bad one only
shows as a combined signature that does not verify, and identifiable abort for ECDSA is a
planned protocol extension. Until then the coordinator finds the culprit by elimination,
assuming one misbehaving signer at a time:

* a failed set makes its other members *suspects*; the culprit is in every failed set that
  is still unexplained;
* a signature that verifies *clears* its signers (they all gave good shares);
* when the unexplained failed sets leave one uncleared peer, it is named and excluded;
* the retry of the failed request leaves out one suspect (the named one when known), so a
  request needs at most three attempts with five nodes.

An exclusion lasts :data:`EXCLUSION_SECONDS`, after which the peer gets another chance (an
operator may have repaired it); a peer is never excluded when that would leave too few
signers — :meth:`SignerSuspicion.usable` then falls back to every online peer.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

EXCLUSION_SECONDS = 600.0
"""How long a named peer stays out of this node's signer sets."""
MAX_UNEXPLAINED = 8
"""Failed ECDSA sets remembered while looking for a culprit (older ones are forgotten)."""


@dataclass(frozen=True)
class Exclusion:
    """A peer left out of signer sets until ``until`` (monotonic seconds)."""

    peer: int
    reason: str
    until: float


class SignerSuspicion:
    """One node's record of misbehaving peers.

    Parameters
    ----------
    me:
        This node's participant id (never a suspect of itself).
    on_exclude:
        Called with each new :class:`Exclusion` (the node counts it in its metrics and logs it).
    clock:
        Monotonic seconds (tests pass a fake clock).
    """

    def __init__(self, me: int, on_exclude: Callable[[Exclusion], None] = lambda _e: None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.me = me
        self._on_exclude = on_exclude
        self._clock = clock
        self._excluded: dict[int, Exclusion] = {}
        self._unexplained: list[frozenset[int]] = []
        self._cleared: set[int] = set()

    # -- exclusions -------------------------------------------------------------------------
    def excluded(self) -> set[int]:
        """Peers currently left out of signer sets."""
        now = self._clock()
        for peer in [p for p, e in self._excluded.items() if e.until <= now]:
            del self._excluded[peer]
        return set(self._excluded)

    def exclusions(self) -> list[Exclusion]:
        """The current exclusions, by peer."""
        self.excluded()
        return [self._excluded[p] for p in sorted(self._excluded)]

    def exclude(self, peer: int, reason: str) -> None:
        """Leave ``peer`` out of signer sets for :data:`EXCLUSION_SECONDS` (a named culprit)."""
        if peer == self.me:
            return
        renewed = peer in self.excluded()
        exclusion = Exclusion(peer, reason, self._clock() + EXCLUSION_SECONDS)
        self._excluded[peer] = exclusion
        if not renewed:
            self._on_exclude(exclusion)

    def usable(self, online: Iterable[int], needed: int) -> set[int]:
        """``online`` without the excluded peers — unless that leaves fewer than ``needed``
        (signing with a suspect beats not signing; the protocols still verify the result)."""
        online = set(online)
        kept = online - self.excluded()
        return kept if len(kept) >= needed else online

    # -- ECDSA elimination ------------------------------------------------------------------
    def ecdsa_failed(self, signers: Iterable[int]) -> set[int]:
        """A combined ECDSA signature of ``signers`` did not verify.

        Returns
        -------
        set[int]
            The peers the retry should leave out: the named culprit when the failures identify
            one, else one of the suspects.
        """
        others = frozenset(signers) - {self.me}
        self._cleared -= others  # a peer cleared earlier may have turned bad since
        self._unexplained = [*self._unexplained, others][-MAX_UNEXPLAINED:]
        candidates = self._candidates()
        if not candidates:  # more than one culprit, or a cleared one turned bad: start over
            self._unexplained = [others]
            candidates = set(others)
        named = self._identify(candidates)
        if named is not None:
            return {named}
        return {random.choice(sorted(candidates))} if candidates else set()

    def ecdsa_succeeded(self, signers: Iterable[int]) -> None:
        """A combined ECDSA signature of ``signers`` verified: they all gave good shares."""
        self._cleared |= set(signers) - {self.me}
        if self._unexplained:
            self._identify(self._candidates())

    def suspects(self) -> set[int]:
        """Peers of unexplained ECDSA failures not cleared since (empty when none)."""
        return self._candidates()

    def _candidates(self) -> set[int]:
        if not self._unexplained:
            return set()
        return set(frozenset.intersection(*self._unexplained)) - self._cleared

    def _identify(self, candidates: set[int]) -> int | None:
        if len(candidates) != 1:
            return None
        (culprit,) = candidates
        self._unexplained = []
        self.exclude(culprit, "ecdsa-share")
        return culprit
