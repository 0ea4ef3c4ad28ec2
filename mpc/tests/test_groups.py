"""Group abstraction: arithmetic agrees with the libraries; received points are validated."""

from __future__ import annotations

import hashlib

import pytest
from chainsig_mpc.protocols.errors import InvalidPointError
from chainsig_mpc.protocols.groups import ED25519, SECP256K1, group_for
from hypothesis import given, settings
from hypothesis import strategies as st

GROUPS = [SECP256K1, ED25519]

# An ed25519 point of order 8 (from libsodium's blocklist) and a non-canonical encoding
# (y = p, i.e. y ≡ 0 written unreduced).
ED_SMALL_ORDER = bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")
ED_NON_CANONICAL = bytes.fromhex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")
ED_IDENTITY = bytes([1]) + bytes(31)


@pytest.mark.parametrize("group", GROUPS, ids=lambda g: g.curve.value)
@settings(max_examples=25, deadline=None)
@given(a=st.integers(min_value=0, max_value=2**256), b=st.integers(min_value=0, max_value=2**256))
def test_scalar_mul_is_homomorphic(group, a: int, b: int) -> None:
    left = group.base_mul(a + b)
    right = group.add(group.base_mul(a), group.base_mul(b))
    assert group.eq(left, right)
    assert group.eq(group.mul(group.base_mul(a), b), group.base_mul(a * b))


@pytest.mark.parametrize("group", GROUPS, ids=lambda g: g.curve.value)
def test_identity_arithmetic(group) -> None:
    p = group.base_mul(7)
    zero = group.sub(p, p)
    assert group.is_identity(zero)
    assert group.eq(group.add(zero, p), p)
    assert group.is_identity(group.base_mul(group.order))
    assert group.is_identity(group.mul(p, 0))
    with pytest.raises(InvalidPointError):
        group.encode(zero)


@pytest.mark.parametrize("group", GROUPS, ids=lambda g: g.curve.value)
def test_encode_decode_roundtrip(group) -> None:
    p = group.base_mul(123456789)
    assert group.eq(group.decode(group.encode(p)), p)
    assert group.scalar_from_bytes(group.scalar_bytes(42)) == 42


def test_secp256k1_rejects_bad_points() -> None:
    g = SECP256K1
    good = g.encode(g.base_mul(5))
    x_not_on_curve = next(
        bytes([2]) + hashlib.sha256(bytes([i])).digest()
        for i in range(256)
        if not _on_secp(hashlib.sha256(bytes([i])).digest())
    )
    for bad in (
        good[:-1],
        good + b"\x00",
        bytes([4]) + good[1:],
        bytes(33),
        x_not_on_curve,
        b"\x04" + bytes(64),
    ):
        with pytest.raises(InvalidPointError):
            g.decode(bad)


def _on_secp(x_bytes: bytes) -> bool:
    p = 2**256 - 2**32 - 977
    x = int.from_bytes(x_bytes, "big")
    if x >= p:
        return False
    rhs = (x**3 + 7) % p
    return pow(rhs, (p - 1) // 2, p) == 1


@pytest.mark.parametrize(
    "bad",
    [ED_SMALL_ORDER, ED_NON_CANONICAL, ED_IDENTITY, bytes(31), bytes(33)],
    ids=["small-order", "non-canonical", "identity", "short", "long"],
)
def test_ed25519_rejects_bad_points(bad: bytes) -> None:
    with pytest.raises(InvalidPointError):
        ED25519.decode(bad)


def test_ed25519_rejects_point_outside_prime_subgroup() -> None:
    from nacl.bindings import crypto_core_ed25519_add

    # P + T with T of order 8: on the curve, canonical, but not in the prime-order subgroup.
    mixed = crypto_core_ed25519_add(ED25519.base_mul(9), ED_SMALL_ORDER)
    with pytest.raises(InvalidPointError):
        ED25519.decode(mixed)


@pytest.mark.parametrize("group", GROUPS, ids=lambda g: g.curve.value)
def test_unreduced_scalar_rejected(group) -> None:
    with pytest.raises(InvalidPointError):
        group.scalar_from_bytes(group.order.to_bytes(32, group.scalar_byteorder))
    with pytest.raises(InvalidPointError):
        group.scalar_from_bytes(bytes(31))


def test_group_for() -> None:
    assert group_for("secp256k1") is SECP256K1
    assert group_for("ed25519") is ED25519
