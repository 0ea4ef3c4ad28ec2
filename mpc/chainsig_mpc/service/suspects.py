"""Which peers this node leaves out of signer sets, and why.

FROST checks every signature share (RFC 9591 §5.4) and the dealing protocols check every
share against its commitment, so those runs *name* a misbehaving peer: it is excluded at once.

Robust ECDSA as specified (MPC-PROTOCOLS.md §4) cannot check a single share: a bad one only
shows as a combined signature that does not verify, and identifiable abort for ECDSA is a
planned protocol extension. Until then the coordinator finds the culprit by elimination:

* a failed set makes its other members *suspects*; a misbehaving signer is in every failed
  set, so the culprit is in the intersection of the failed sets not yet explained;
* a peer is named (and excluded) only when that intersection is a single peer **and** this
  node has produced a verified ECDSA signature since the oldest of those failures — so a fault
  on the coordinator's own side (a stale share, a wrong view of the request) names no one;
* signatures that verify never *clear* a suspect (a culprit may corrupt only sometimes); they
  only guide the retry, which leaves out one suspect, preferring peers not seen in a verified
  signature.

With one misbehaving signer, however intermittent, only it can be named. With several, the
intersection may come down to an honest peer, who is then excluded for a while — a cost in
liveness only, since every signature is still verified.

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
    rng:
        Chooses among equally likely suspects (tests pass a seeded one).
    """

    def __init__(self, me: int, on_exclude: Callable[[Exclusion], None] = lambda _e: None,
                 clock: Callable[[], float] = time.monotonic, rng: random.Random | None = None) -> None:
        self.me = me
        self._on_exclude = on_exclude
        self._clock = clock
        self._rng = rng or random.Random()
        self._excluded: dict[int, Exclusion] = {}
        self._unexplained: list[frozenset[int]] = []
        self._verified_since_failure = False
        self._seen_good: set[int] = set()

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
            The peer the retry should leave out: the named culprit when the failures identify
            one, else one suspect (preferably one not seen in a verified signature).
        """
        others = frozenset(signers) - {self.me}
        if not self._unexplained:
            self._verified_since_failure = False
        self._unexplained = [*self._unexplained, others][-MAX_UNEXPLAINED:]
        candidates = self._candidates()
        if not candidates:  # several culprits, or a fault on this side: start over
            self._unexplained, self._verified_since_failure = [others], False
            candidates = set(others)
        named = self._identify()
        if named is not None:
            return {named}
        unseen = candidates - self._seen_good
        return {self._rng.choice(sorted(unseen or candidates))} if candidates else set()

    def ecdsa_succeeded(self, signers: Iterable[int]) -> None:
        """A combined ECDSA signature of ``signers`` verified."""
        self._seen_good |= set(signers) - {self.me}
        if self._unexplained:
            self._verified_since_failure = True
            self._identify()

    def _candidates(self) -> set[int]:
        if not self._unexplained:
            return set()
        return set(frozenset.intersection(*self._unexplained))

    def _identify(self) -> int | None:
        candidates = self._candidates()
        if len(candidates) != 1 or not self._verified_since_failure:
            return None
        (culprit,) = candidates
        self._unexplained, self._seen_good = [], set()
        self.exclude(culprit, "ecdsa-share")
        return culprit
