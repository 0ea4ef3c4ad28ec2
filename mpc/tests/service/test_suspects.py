"""The exclusion record: named peers leave signer sets for a while; ECDSA failures, which
name no one, find the culprit by elimination — never an honest peer, within three attempts."""

from __future__ import annotations

import random
from itertools import combinations

from chainsig_mpc.service.suspects import EXCLUSION_SECONDS, Exclusion, SignerSuspicion
from hypothesis import given, settings
from hypothesis import strategies as st


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_named_peer_is_excluded_for_a_while_then_gets_another_chance() -> None:
    clock, seen = Clock(), []
    suspicion = SignerSuspicion(1, seen.append, clock)
    suspicion.exclude(4, "sign")
    suspicion.exclude(4, "sign")  # renewed, not counted twice
    suspicion.exclude(1, "sign")  # never itself
    assert suspicion.excluded() == {4}
    assert [(e.peer, e.reason) for e in seen] == [(4, "sign")]
    assert suspicion.usable({2, 3, 4, 5}, needed=2) == {2, 3, 5}
    clock.now += EXCLUSION_SECONDS + 1
    assert suspicion.excluded() == set() and suspicion.exclusions() == []


def test_exclusion_never_leaves_too_few_signers() -> None:
    suspicion = SignerSuspicion(0)
    suspicion.exclude(2, "sign")
    assert suspicion.usable({1, 2}, needed=2) == {1, 2}  # signing with a suspect beats not signing
    assert suspicion.usable({1, 2, 3}, needed=2) == {1, 3}


def test_a_peer_cleared_by_earlier_signatures_is_not_suspected() -> None:
    seen: list[Exclusion] = []
    suspicion = SignerSuspicion(0, seen.append)
    suspicion.ecdsa_succeeded((0, 1, 2))
    assert suspicion.ecdsa_failed((0, 3, 4)) in ({3}, {4})  # no history: a guess
    suspicion.ecdsa_succeeded((0, 1, 3))  # 3 is fine, so 4 it is
    assert [e.peer for e in seen] == [4] and suspicion.excluded() == {4}


def _sign_until_done(suspicion: SignerSuspicion, me: int, peers: list[int], culprit: int,
                     rng: random.Random) -> int:
    """One request as the coordinator runs it: pick a set of 3 avoiding the excluded peers and
    the per-attempt guess, retry on failure. Returns the attempts used."""
    avoid: set[int] = set()
    for attempt in range(1, 5):
        usable = sorted(suspicion.usable(peers, 2) - avoid)
        signers = (me, *rng.sample(usable, 2))
        if culprit in signers:
            left_out = suspicion.ecdsa_failed(signers)
            named = left_out & suspicion.excluded()
            avoid = (avoid | named) | (left_out - named)
            continue
        suspicion.ecdsa_succeeded(signers)
        return attempt
    raise AssertionError("request not signed in 4 attempts")


@settings(max_examples=200)
@given(me=st.integers(0, 4), culprit=st.integers(0, 4), seed=st.integers(0, 2**32), warm=st.integers(0, 3))
def test_elimination_names_only_the_culprit(me: int, culprit: int, seed: int, warm: int) -> None:
    """Five nodes, signer sets of three (K = 2), one node corrupting its ECDSA shares."""
    if culprit == me:
        return
    rng = random.Random(seed)
    named: list[int] = []
    suspicion = SignerSuspicion(me, lambda e: named.append(e.peer))
    peers = [p for p in range(5) if p != me]
    for others in list(combinations([p for p in peers if p != culprit], 2))[:warm]:
        suspicion.ecdsa_succeeded((me, *others))  # signatures before the node turned bad
    attempts, named_at = [], None
    for i in range(40):
        attempts.append(_sign_until_done(suspicion, me, peers, culprit, rng))
        if named and named_at is None:
            named_at = i
    assert named == [culprit]  # P(never in a set again after a failure) ≤ 2⁻³⁹
    assert max(attempts) <= 3
    assert all(a == 1 for a in attempts[named_at + 1:])  # once named, it is left out
