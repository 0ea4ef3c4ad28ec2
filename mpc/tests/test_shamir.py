"""Shamir sharing at id + 1, Lagrange at 0, Feldman checks."""

from __future__ import annotations

import itertools

import pytest
from chainsig_mpc.protocols import shamir
from chainsig_mpc.protocols.errors import ProtocolAbort
from chainsig_mpc.protocols.groups import ED25519, SECP256K1
from hypothesis import given, settings
from hypothesis import strategies as st


@settings(max_examples=30, deadline=None)
@given(
    secret=st.integers(min_value=0, max_value=SECP256K1.order - 1),
    n=st.integers(min_value=1, max_value=8),
    data=st.data(),
)
def test_any_k_shares_reconstruct(secret: int, n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(min_value=1, max_value=n))
    order = SECP256K1.order
    poly = shamir.random_polynomial(order, k - 1, secret)
    ids = data.draw(st.lists(st.integers(0, 50), min_size=n, max_size=n, unique=True))
    shares = {i: shamir.share_for(poly, i, order) for i in ids}
    subset = data.draw(st.lists(st.sampled_from(ids), min_size=k, max_size=k, unique=True))
    assert shamir.interpolate_at_zero({i: shares[i] for i in subset}, order) == secret


def test_evaluation_point_is_id_plus_one() -> None:
    assert shamir.eval_point(0) == 1
    poly = [5, 7]
    assert shamir.share_for(poly, 0, 101) == 12
    with pytest.raises(ValueError):
        shamir.eval_point(-1)


@pytest.mark.parametrize("ids", [[0, 1, 1], [-1, 0, 2], [0, True]])
def test_duplicate_or_zero_evaluation_points_refused(ids: list[int]) -> None:
    with pytest.raises(ProtocolAbort):
        shamir.check_participants(ids)
    if len(set(ids)) != len(ids):
        with pytest.raises(ProtocolAbort):
            shamir.lagrange_at_zero(ids[0], ids, SECP256K1.order)


@pytest.mark.parametrize("group", [SECP256K1, ED25519], ids=lambda g: g.curve.value)
def test_feldman_and_interpolation_in_exponent(group) -> None:
    poly = shamir.random_polynomial(group.order, 2)
    commitment = shamir.commit(group, poly)
    for i in range(5):
        share = shamir.share_for(poly, i, group.order)
        assert shamir.feldman_check(group, commitment, i, share)
        assert not shamir.feldman_check(group, commitment, i, share + 1)
    points = {i: group.base_mul(shamir.share_for(poly, i, group.order)) for i in (1, 3, 4)}
    assert group.eq(shamir.interpolate_points_at(group, points, -1), commitment[0])
    assert group.eq(
        shamir.interpolate_points_at(group, points, 0),
        group.base_mul(shamir.share_for(poly, 0, group.order)),
    )


def test_lagrange_coefficients_sum_to_one() -> None:
    order = ED25519.order
    for signers in itertools.combinations(range(6), 3):
        assert sum(shamir.lagrange_at_zero(i, signers, order) for i in signers) % order == 1
