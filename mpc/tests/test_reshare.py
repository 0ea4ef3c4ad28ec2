"""Reshare / refresh: same public key, derived addresses unchanged, cheaters named, commit point."""

from __future__ import annotations

import pytest
from chainsig_mpc.protocols.errors import ProtocolAbort, StateError
from chainsig_mpc.protocols.keystore import KeyStore
from chainsig_mpc.protocols.reshare import Reshare
from chainsig_mpc.protocols.router import InMemoryRouter
from chainsig_mpc.protocols.shamir import interpolate_at_zero

from chainsig_core import kdf
from chainsig_core.signatures import verify_signature


def _parties(cluster, domain, dealers, new, k_new, ecdsa, cls=None):
    old = cluster.key(dealers[0], domain)
    cls = cls or {}
    return {
        i: cls.get(i, Reshare)(
            old_commitment=old.commitment,
            old_commitment_hash=old.commitment_hash,
            old_participants=old.participants,
            old_threshold=old.threshold,
            dealers=dealers,
            new_participants=new,
            new_threshold=k_new,
            me=i,
            old_share=cluster.key(i, domain) if i in dealers else None,
            domain=domain,
            epoch=old.epoch + 1,
            ecdsa=ecdsa,
        )
        for i in sorted(set(dealers) | set(new))
    }


@pytest.mark.parametrize(
    "new,k_new",
    [([0, 1, 2, 3, 4, 5, 6], 4), ([1, 2, 4], 2)],
    ids=["grow-to-7-of-K4", "shrink-to-3-of-K2"],
)
def test_reshare_then_sign_both_curves(make_cluster, request_for, new, k_new) -> None:
    cluster = make_cluster(5, 3)
    root_ecdsa, root_ed = cluster.key(0, 0).public_key, cluster.key(0, 1).public_key
    address_key = kdf.derive_public_key(root_ecdsa, "alice.near", "ethereum-1")
    cluster.reshare(0, [0, 2, 3], new, k_new, ecdsa=True)
    cluster.reshare(1, [1, 2, 4], new, k_new, ecdsa=False)
    for j in new:
        assert cluster.key(j, 0).public_key == root_ecdsa
        assert cluster.key(j, 1).public_key == root_ed
        assert cluster.key(j, 0).epoch == 1
    left = set(range(5)) - set(new)
    for j in left:
        assert cluster.nodes[j].keys.active(0) is None
    signers = new[: 2 * k_new - 1]
    presignature = cluster.presign(0, signers, signers[-1], "after-reshare")
    request = request_for("r-ecdsa")
    signature = cluster.ecdsa_sign(0, request, presignature)
    verify_signature(address_key, request.payload, signature)
    frost_set = new[-k_new:]
    cluster.frost_precommit(1, frost_set[0], frost_set)
    request = request_for("r-ed", payload=b"transfer 1 SOL")
    signature = cluster.frost_sign(1, request, frost_set[0], frost_set)
    verify_signature(
        kdf.derive_public_key(root_ed, "alice.near", "ethereum-1"), request.payload, signature
    )


def test_refresh_changes_shares_not_key(make_cluster) -> None:
    cluster = make_cluster(4, 2, curves=("ed25519",))
    before = {i: cluster.key(i, 1).share for i in range(4)}
    cluster.reshare(1, [0, 1, 2, 3], [0, 1, 2, 3], 2, ecdsa=False)
    after = {i: cluster.key(i, 1) for i in range(4)}
    assert all(before[i] != after[i].share for i in range(4))
    group = after[0].group
    x = interpolate_at_zero({0: after[0].share, 3: after[3].share}, group.order)
    assert group.eq(group.base_mul(x), after[0].public_point)
    # old and new shares do not mix
    mixed = interpolate_at_zero({0: before[0], 3: after[3].share}, group.order)
    assert not group.eq(group.base_mul(mixed), after[0].public_point)


class WrongConstant(Reshare):
    """An old party dealing something other than λ_i·x_i."""

    def _polynomial(self) -> list[int]:
        poly = super()._polynomial()
        return [poly[0] + 1, *poly[1:]]


class CorruptShare(Reshare):
    """An old party sending new participant 5 a wrong share (and opening it)."""

    def _share_for(self, receiver: int) -> int:
        return super()._share_for(receiver) + (receiver == 5)


@pytest.mark.parametrize("curve,domain", [("secp256k1", 0), ("ed25519", 1)])
@pytest.mark.parametrize("cheater", [WrongConstant, CorruptShare], ids=lambda c: c.__name__)
def test_cheating_old_party_named(make_cluster, curve, domain, cheater) -> None:
    cluster = make_cluster(5, 3, curves=(curve,))
    parties = _parties(
        cluster, domain, [0, 1, 3], [1, 2, 3, 4, 5], 3, curve == "secp256k1", {3: cheater}
    )
    router = InMemoryRouter(parties)
    router.run()
    assert not router.results()
    for i, failure in router.failures.items():
        assert failure.culprits == (3,), (i, failure)
    assert set(parties) - {3} <= set(router.failures)


def test_thresholds_checked(make_cluster) -> None:
    cluster = make_cluster(5, 3, curves=("secp256k1",))
    with pytest.raises(ProtocolAbort, match="2·K − 1"):
        _parties(cluster, 0, [0, 1, 2], [0, 1, 2, 3], 3, True)
    with pytest.raises(ProtocolAbort, match="at least K_old"):
        _parties(cluster, 0, [0, 1], [0, 1, 2, 3, 4], 2, True)
    old = cluster.key(0, 0)
    with pytest.raises(StateError, match="pinned hash"):
        Reshare(
            old_commitment=old.commitment,
            old_commitment_hash="00" * 32,
            old_participants=old.participants,
            old_threshold=3,
            dealers=[0, 1, 2],
            new_participants=[0, 1, 2, 5, 6],
            new_threshold=3,
            me=5,
            old_share=None,
            domain=0,
            epoch=1,
            ecdsa=True,
        )


def test_new_shares_wait_for_the_external_commit(make_cluster) -> None:
    cluster = make_cluster(3, 2, curves=("ed25519",))
    parties = _parties(cluster, 1, [0, 1], [0, 1, 2], 2, False)
    outcomes = InMemoryRouter(parties).run()
    store = cluster.nodes[0].keys
    old = store.active(1)
    store.stage(outcomes[0].share)
    assert store.active(1) is old  # peers' success alone does not switch keys
    store.discard(1, 1)  # the contract did not move on: discard, keep the old share
    assert store.active(1) is old and store.staged(1, 1) is None
    store.stage(outcomes[0].share)
    restored = KeyStore()
    restored.load_json(store.to_json())
    assert restored.commit(1, 1) == outcomes[0].share
    assert restored.active(1) == outcomes[0].share


def test_reshare_state_restores(make_cluster) -> None:
    cluster = make_cluster(3, 2, curves=("secp256k1",))
    parties = _parties(cluster, 0, [0, 1, 2], [0, 1, 2, 3, 4], 2, True)
    router = InMemoryRouter(parties)
    router.start()
    for _ in range(15):
        router.step()
    router.parties[4] = Reshare.from_state(parties[4].to_state())
    while router.step():
        pass
    results = router.results()
    assert results[4].share.public_key == cluster.key(0, 0).public_key
