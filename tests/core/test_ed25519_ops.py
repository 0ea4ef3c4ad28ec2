"""libsodium's point functions called directly (chainsig_core.ed25519_ops) against PyNaCl's
public wrappers, and ed25519 derivation against the plain PyNaCl computation."""

from __future__ import annotations

import builtins

import pytest
from hypothesis import given, settings, strategies as st
from nacl.bindings import (
    crypto_core_ed25519_add,
    crypto_core_ed25519_is_valid_point,
    crypto_scalarmult_ed25519_base_noclamp,
)

from chainsig_core import ed25519_ops, kdf
from chainsig_core.config import load_config
from chainsig_core.errors import InvalidKeyError
from chainsig_core.keys import ED25519_L, Curve, PublicKey

DIRECT = ed25519_ops.ops()
WRAPPERS = ed25519_ops.ops(direct=False)
scalars = st.integers(min_value=1, max_value=ED25519_L - 1)


def _le(value: int) -> bytes:
    return value.to_bytes(32, "little")


def test_direct_path_is_in_use():
    assert DIRECT.direct and not WRAPPERS.direct


def test_missing_cffi_module_falls_back_to_the_wrappers(monkeypatch):
    real_import = builtins.__import__

    def no_sodium(name, *args, **kwargs):
        if name == "nacl._sodium":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sodium)
    ed25519_ops.ops.cache_clear()
    try:
        fallback = ed25519_ops.ops()
        assert not fallback.direct
        assert fallback.base_noclamp(_le(7)) == crypto_scalarmult_ed25519_base_noclamp(_le(7))
    finally:
        monkeypatch.undo()
        ed25519_ops.ops.cache_clear()
    assert ed25519_ops.ops().direct


@settings(max_examples=150, deadline=None)
@given(a=scalars, b=scalars)
def test_direct_and_wrapper_ops_agree(a, b):
    p = crypto_scalarmult_ed25519_base_noclamp(_le(a))
    q = crypto_scalarmult_ed25519_base_noclamp(_le(b))
    for point_ops in (DIRECT, WRAPPERS):
        assert point_ops.base_noclamp(_le(a)) == p
        assert point_ops.add(p, q) == crypto_core_ed25519_add(p, q)
        assert point_ops.add_base_noclamp(p, _le(b)) == crypto_core_ed25519_add(p, q)
        assert point_ops.is_valid_point(p) is True


@settings(max_examples=150, deadline=None)
@given(data=st.binary(min_size=32, max_size=32))
def test_validity_check_agrees_on_arbitrary_bytes(data):
    expected = bool(crypto_core_ed25519_is_valid_point(data))
    assert DIRECT.is_valid_point(data) is expected
    assert WRAPPERS.is_valid_point(data) is expected


@pytest.mark.parametrize("point_ops", [DIRECT, WRAPPERS], ids=["direct", "wrappers"])
def test_refusals_are_none_and_bad_lengths_are_errors(point_ops):
    assert point_ops.base_noclamp(bytes(32)) is None  # 0·B is the identity: libsodium refuses
    assert point_ops.base_noclamp(_le(ED25519_L)) is None  # ℓ·B too
    good = point_ops.base_noclamp(_le(5))
    not_on_curve = b"\x02" + bytes(31)
    assert point_ops.add(good, not_on_curve) is None
    assert point_ops.add_base_noclamp(not_on_curve, _le(5)) is None
    assert point_ops.add_base_noclamp(good, bytes(32)) is None
    assert point_ops.is_valid_point(not_on_curve) is False
    for call in (
        lambda: point_ops.base_noclamp(b"\x01" * 31),
        lambda: point_ops.add(good, good[:31]),
        lambda: point_ops.add(bytearray(good), good),
        lambda: point_ops.is_valid_point(good + b"\x00"),
        lambda: point_ops.add_base_noclamp(good, _le(5)[:31]),
        lambda: point_ops.add_base_noclamp(good[:31], _le(5)),
    ):
        with pytest.raises(ValueError):
            call()


def _pynacl_child(root: bytes, tweak: bytes) -> bytes:
    """The derivation as it was before chainsig_core.ed25519_ops: PyNaCl's public API only."""
    scalar = int.from_bytes(tweak, "little") % ED25519_L
    if scalar == 0:
        return root
    return crypto_core_ed25519_add(root, crypto_scalarmult_ed25519_base_noclamp(_le(scalar)))


@settings(max_examples=200, deadline=None)
@given(secret=scalars, tweak=st.binary(min_size=32, max_size=32))
def test_derivation_equals_the_pynacl_computation(secret, tweak):
    root = crypto_scalarmult_ed25519_base_noclamp(_le(secret))
    child = kdf.derive_public_key_from_tweak(PublicKey(Curve.ED25519, root), tweak)
    assert child.data == _pynacl_child(root, tweak)


@settings(max_examples=100, deadline=None)
@given(tweak=st.binary(min_size=32, max_size=32))
def test_derivation_under_real_roots_equals_the_pynacl_computation(tweak):
    config = load_config()
    for network in ("mainnet", "testnet"):
        root = config.network(network).root_public_key(1)
        assert kdf.derive_public_key_from_tweak(root, tweak).data == _pynacl_child(root.data, tweak)


def test_tweak_that_is_a_multiple_of_l_gives_the_root():
    root = load_config().network("mainnet").root_public_key(1)
    assert kdf.derive_public_key_from_tweak(root, _le(ED25519_L)) == root


def test_sum_at_the_identity_is_refused():
    t = 123456789
    root = PublicKey(Curve.ED25519, crypto_scalarmult_ed25519_base_noclamp(_le(ED25519_L - t)))
    with pytest.raises(InvalidKeyError, match="identity"):
        kdf.derive_public_key_from_tweak(root, _le(t))


def test_invalid_root_is_refused_every_time():
    small_order = PublicKey(Curve.ED25519, b"\x01" + bytes(31))
    for _ in range(2):
        with pytest.raises(InvalidKeyError, match="root key is not a valid ed25519 point"):
            kdf.derive_public_key_from_tweak(small_order, _le(5))
