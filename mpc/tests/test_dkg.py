"""DKG for both curves: correctness, restore, and every adversary named."""

from __future__ import annotations

import dataclasses

import pytest
from chainsig_mpc.protocols.dkg import Dkg, pok_challenge
from chainsig_mpc.protocols.errors import MessageError, ProtocolAbort
from chainsig_mpc.protocols.messages import Message, point_hex, scalar_hex
from chainsig_mpc.protocols.router import InMemoryRouter
from chainsig_mpc.protocols.shamir import interpolate_at_zero

CURVES = ["secp256k1", "ed25519"]
IDS = [0, 1, 2, 3, 4]


def run(parties: dict[int, Dkg], intercept=None) -> InMemoryRouter:
    router = InMemoryRouter(parties, intercept)
    router.run()
    return router


def honest(
    curve: str, cls: dict[int, type[Dkg]] | None = None, ids=IDS, k: int = 3
) -> dict[int, Dkg]:
    cls = cls or {}
    return {i: cls.get(i, Dkg)(curve, 0, 7, ids, k, i) for i in ids}


def assert_all_name(router: InMemoryRouter, culprits: set[int], honest_ids) -> None:
    assert not router.results(), "nothing may be output"
    for i in honest_ids:
        assert set(router.failures[i].culprits) == culprits, router.failures[i]


@pytest.mark.parametrize("curve", CURVES)
def test_dkg_produces_consistent_shares(curve: str) -> None:
    parties = honest(curve)
    results = run(parties).results()
    assert set(results) == set(IDS)
    group = parties[0].group
    assert len({r.commitment for r in results.values()}) == 1
    for subset in ([0, 1, 2], [2, 3, 4], [0, 2, 4]):
        x = interpolate_at_zero({i: results[i].share for i in subset}, group.order)
        assert group.eq(group.base_mul(x), results[0].public_point)
    two = interpolate_at_zero({i: results[i].share for i in [0, 1]}, group.order)
    assert not group.eq(group.base_mul(two), results[0].public_point)
    for i in IDS:
        assert group.eq(results[0].public_share(i), group.base_mul(results[i].share))
    assert "share" not in repr(results[0]).replace("KeyShare", "")


@pytest.mark.parametrize("curve", CURVES)
def test_dkg_state_restores_mid_protocol(curve: str) -> None:
    parties = honest(curve)
    router = InMemoryRouter(parties)
    router.start()
    for _ in range(23):
        router.step()
    for i in (0, 3):
        restored = Dkg.from_state(parties[i].to_state())
        router.parties[i] = restored
    while router.step():
        pass
    results = router.results()
    assert set(results) == set(IDS) and not router.failures
    assert len({r.commitment for r in results.values()}) == 1


class CorruptDealer(Dkg):
    """Sends participant 3 a wrong share and opens the same wrong value."""

    def _share_for(self, receiver: int) -> int:
        return super()._share_for(receiver) + (1 if receiver == 3 else 0)


@pytest.mark.parametrize("curve", CURVES)
def test_corrupted_share_names_dealer(curve: str) -> None:
    router = run(honest(curve, {1: CorruptDealer}))
    assert_all_name(router, {1}, [0, 2, 3, 4])


@pytest.mark.parametrize("curve", CURVES)
def test_share_corrupted_in_transit_is_repaired_by_opening(curve: str) -> None:
    def intercept(message: Message, target: int) -> Message:
        if message.kind == "dkg.share" and message.sender == 2 and target == 4:
            return dataclasses.replace(message, body={"share": scalar_hex(parties[0].group, 5)})
        return message

    parties = honest(curve)
    router = run(parties, intercept)
    results = router.results()
    assert set(results) == set(IDS) and not router.failures
    group = parties[0].group
    assert group.eq(group.base_mul(results[4].share), results[0].public_share(4))


class ForeignSessionProof(Dkg):
    """Proof of knowledge computed for another session id (a replay)."""

    def _commit_extras(self, coeffs, commitment):
        r = 12345
        nonce = self.group.base_mul(r)
        c = pok_challenge(self.group, b"\x00" * 32, self.me, commitment[0], nonce)
        return {
            "pok_r": point_hex(self.group, nonce),
            "pok_z": scalar_hex(self.group, r + c * coeffs[0]),
        }


class ForeignIndexProof(Dkg):
    """Proof of knowledge made for another participant index (copied from a peer)."""

    def _commit_extras(self, coeffs, commitment):
        r = 999
        nonce = self.group.base_mul(r)
        c = pok_challenge(self.group, self._full_sid, self.me + 1, commitment[0], nonce)
        return {
            "pok_r": point_hex(self.group, nonce),
            "pok_z": scalar_hex(self.group, r + c * coeffs[0]),
        }


class NoKnowledgeProof(Dkg):
    """A random, invalid proof."""

    def _commit_extras(self, coeffs, commitment):
        extras = super()._commit_extras(coeffs, commitment)
        extras["pok_z"] = scalar_hex(self.group, 1)
        return extras


class LongCommitment(Dkg):
    """Commits to a polynomial of the wrong degree."""

    def _polynomial(self) -> list[int]:
        return [*super()._polynomial(), 5]


class DifferentCommitment(Dkg):
    """Sends a commitment other than the one whose hash it committed to."""

    def _dealing_outgoing(self, round_):
        out = super()._dealing_outgoing(round_)
        if round_.name == "commit":
            out = dict(out)
            out["commitment"] = list(out["commitment"])
            out["commitment"][1] = point_hex(self.group, self.group.base_mul(77))
        return out


@pytest.mark.parametrize("curve", CURVES)
@pytest.mark.parametrize(
    "cheater",
    [ForeignSessionProof, ForeignIndexProof, NoKnowledgeProof, LongCommitment, DifferentCommitment],
    ids=lambda c: c.__name__,
)
def test_bad_commitment_messages_name_the_dealer(curve: str, cheater: type[Dkg]) -> None:
    router = run(honest(curve, {2: cheater}))
    assert_all_name(router, {2}, [0, 1, 3, 4])


@pytest.mark.parametrize("curve", CURVES)
def test_equivocation_is_detected_by_echo(curve: str) -> None:
    def intercept(message: Message, target: int) -> Message:
        if message.kind == "dkg.contribution" and message.sender == 3 and target in (0, 1):
            return dataclasses.replace(message, body={"contribution": "11" * 32})
        return message

    router = run(honest(curve), intercept)
    assert_all_name(router, {3}, [0, 1, 2, 4])


@pytest.mark.parametrize("curve", CURVES)
def test_conflicting_duplicate_names_sender(curve: str) -> None:
    parties = honest(curve)
    router = InMemoryRouter(parties)
    router.start()
    forged = Message("dkg.contribution", parties[0].sid, 2, None, {"contribution": "22" * 32})
    router.inject(1, forged)  # a second, different contribution from 2 reaches 1
    while router.step():
        pass
    assert router.failures[1].culprits == (2,)


BAD_POINTS = {
    "secp256k1": {
        "off-curve": "02" + "00" * 31 + "05",
        "identity": "00" * 33,
        "uncompressed-prefix": "04" + "11" * 32,
    },
    "ed25519": {
        "small-order": "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "non-canonical": "ed" + "ff" * 30 + "7f",
        "identity": "01" + "00" * 31,
    },
}


@pytest.mark.parametrize("curve,label", [(c, k) for c in BAD_POINTS for k in BAD_POINTS[c]])
def test_malformed_point_names_sender(curve: str, label: str) -> None:
    def intercept(message: Message, target: int) -> Message:
        if message.kind == "dkg.commit" and message.sender == 4:
            body = dict(message.body)
            body["commitment"] = [BAD_POINTS[curve][label], *body["commitment"][1:]]
            return dataclasses.replace(message, body=body)
        return message

    router = run(honest(curve), intercept)
    assert_all_name(router, {4}, [0, 1, 2, 3])


def test_message_from_non_participant_is_refused() -> None:
    parties = honest("secp256k1")
    router = InMemoryRouter(parties)
    router.start()
    router.inject(
        0, Message("dkg.contribution", parties[0].sid, 9, None, {"contribution": "33" * 32})
    )
    router.inject(
        0, Message("dkg.contribution", b"\x01" * 32, 1, None, {"contribution": "33" * 32})
    )
    router.inject(0, Message("dkg.nonsense", parties[0].sid, 1, None, {}))
    while router.step():
        pass
    errors = [str(e) for pid, e in router.rejected if pid == 0]
    assert any("non-participant 9" in e for e in errors)
    assert any("another session" in e for e in errors)
    assert any("unexpected message kind" in e for e in errors)
    assert set(router.results()) == set(IDS)


def test_oversized_or_truncated_wire_bytes_refused() -> None:
    party = Dkg("ed25519", 0, 0, IDS, 3, 0)
    party.start()
    raw = Message("dkg.contribution", party.sid, 1, None, {"contribution": "44" * 32}).encode()
    with pytest.raises(MessageError):
        party.receive(raw[:-3])
    with pytest.raises(MessageError):
        party.receive(raw[:-1] + b',"pad":"' + b"0" * 300_000 + b'"}')
    assert party.receive(raw) == []  # still accepts the genuine message


@pytest.mark.parametrize(
    "ids,k", [([0, 1, 1, 2], 2), ([-1, 0, 1], 2), ([0, 1, 2], 4), ([0, 1, 2], 0)]
)
def test_bad_participant_sets_or_thresholds_refused(ids: list[int], k: int) -> None:
    with pytest.raises(ProtocolAbort):
        Dkg("secp256k1", 0, 0, ids, k, 0)


@pytest.mark.parametrize("curve", CURVES)
@pytest.mark.parametrize("replayer", [2, 3], ids=["same-index-other-session", "other-index"])
def test_recorded_proof_replayed_is_named(curve: str, replayer: int) -> None:
    """Party 2's real commitment and proof from session A, replayed in session B (epoch 8)."""
    recorded: dict[str, object] = {}

    class Recorder(Dkg):
        def _dealing_outgoing(self, round_):
            out = super()._dealing_outgoing(round_)
            if round_.name == "commit":
                recorded.update(body=out, poly=self._poly)
            return out

    run(honest(curve, {2: Recorder}))

    class Replayer(Dkg):
        def _polynomial(self) -> list[int]:
            return list(recorded["poly"])  # type: ignore[call-overload]

        def _commit_extras(self, coeffs, commitment):
            body = recorded["body"]
            return {"pok_r": body["pok_r"], "pok_z": body["pok_z"]}  # type: ignore[index]

    parties = {i: (Replayer if i == replayer else Dkg)(curve, 0, 8, IDS, 3, i) for i in IDS}
    router = run(parties)
    assert_all_name(router, {replayer}, [i for i in IDS if i != replayer])


@pytest.mark.parametrize("curve", CURVES)
def test_cancelling_share_errors_still_give_a_correct_share(curve: str) -> None:
    """The batched Feldman check accepts shares whose errors cancel: the receiver's final
    share is still the right one (only the sum matters), so nothing unsafe is accepted."""

    class Plus(Dkg):
        def _share_for(self, receiver: int) -> int:
            return super()._share_for(receiver) + (receiver == 4)

    class Minus(Dkg):
        def _share_for(self, receiver: int) -> int:
            return super()._share_for(receiver) - (receiver == 4)

    parties = honest(curve, {1: Plus, 2: Minus})
    results = run(parties).results()
    group = parties[0].group
    assert set(results) == set(IDS)
    assert group.eq(group.base_mul(results[4].share), results[0].public_share(4))
