"""Dealer choice for reshare attempts: agreed by everyone, every old node in attempt 0, then one
left out per attempt (so a dead leaver stops blocking) — and such a reshare keeps the key."""

from __future__ import annotations

import hashlib

from chainsig_core.kdf import tweak
from chainsig_mpc.protocols.signrequest import SignRequest
from chainsig_mpc.protocols.simulate import LocalCluster
from chainsig_mpc.service.resharing import dealers_for_attempt


def test_attempt_zero_uses_everyone_then_one_is_left_out_in_turn() -> None:
    old = [0, 1, 2, 3, 4]
    assert dealers_for_attempt(old, 2, 0) == old
    left_out = [sorted(set(old) - set(dealers_for_attempt(old, 2, a))) for a in range(1, 6)]
    assert left_out == [[0], [1], [2], [3], [4]]
    assert dealers_for_attempt(old, 2, 7) == dealers_for_attempt(old, 2, 2)
    assert dealers_for_attempt([0, 1], 2, 3) == [0, 1]  # K_old dealers are needed: nobody left out


def test_reshare_without_the_left_out_dealer_keeps_the_key_and_signs() -> None:
    cluster = LocalCluster([0, 1, 2, 3, 4])
    shares = cluster.dkg("secp256k1", 0, 2)
    root = shares[0].public_key
    dealers = dealers_for_attempt([0, 1, 2, 3, 4], 2, 5)  # node 4, say dead, deals no share
    assert 4 not in dealers
    new = cluster.reshare(0, dealers, [0, 1, 2, 3, 5], 2, ecdsa=True)
    assert {s.public_key for s in new.values()} == {root}
    presignature = cluster.presign(0, [0, 1, 5], 5, "after")
    h = hashlib.sha256(b"after reshare").digest()
    signature = cluster.ecdsa_sign(0, SignRequest("r1", h, tweak("alice.devnet", "p"), bytes(32)), presignature)
    assert signature is not None


class _Chain:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.fail = fail

    async def call(self, method: str, args: dict) -> None:
        self.calls.append((method, args))
        if self.fail:
            raise ConnectionError("RPC down")


def _resharing(chain: _Chain):  # type: ignore[no-untyped-def]
    from types import SimpleNamespace

    from chainsig_mpc.service.resharing import Resharing

    return Resharing(SimpleNamespace(chain=chain, network=SimpleNamespace(handlers={}), me=2))


def test_a_shareless_dealer_aborts_at_once_while_a_later_attempt_can_leave_it_out() -> None:
    import asyncio

    chain = _Chain()
    resharing = _resharing(chain)
    asyncio.run(resharing._abort_as_shareless_dealer((1, 0, 2), [0, 1, 2, 3, 4], 2))
    assert chain.calls == [("vote_abort_key_event_instance",
                            {"key_event_id": {"epoch_id": 1, "domain_id": 0, "attempt_id": 2}})]
    assert (1, 0, 2) in resharing._done


def test_a_shareless_dealer_stays_silent_when_no_attempt_can_leave_it_out() -> None:
    import asyncio

    for old_ids, threshold, attempt in (([0, 1], 2, 0), ([0, 1, 2, 3, 4], 2, 6)):
        chain = _Chain()
        resharing = _resharing(chain)
        asyncio.run(resharing._abort_as_shareless_dealer((1, 0, attempt), old_ids, threshold))
        assert chain.calls == []  # no start/abort spin: the others' timeout paces the attempts
        assert (1, 0, attempt) in resharing._done


def test_a_failed_abort_vote_is_tried_again_at_the_next_poll() -> None:
    import asyncio

    resharing = _resharing(_Chain(fail=True))
    asyncio.run(resharing._abort_as_shareless_dealer((1, 0, 0), [0, 1, 2, 3, 4], 2))
    assert (1, 0, 0) not in resharing._done
