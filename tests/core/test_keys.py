from __future__ import annotations

import base58
import pytest
from hypothesis import given, settings, strategies as st

from chainsig_core.errors import InvalidKeyError
from chainsig_core.keys import SECP256K1_N, Curve, PublicKey
from chainsig_core.signers.dev import public_key_of_secret


def test_roundtrip_of_mainnet_root(vectors):
    text = vectors("derivation.json")["root_public_keys"]["mainnet"]["domain_0_secp256k1"]
    key = PublicKey.from_near_string(text)
    assert key.curve is Curve.SECP256K1 and len(key.data) == 64
    assert key.to_near_string() == text
    assert PublicKey.from_bytes(Curve.SECP256K1, key.compressed) == key
    assert PublicKey.from_bytes(Curve.SECP256K1, key.uncompressed) == key


@pytest.mark.parametrize(
    "text, message",
    [
        ("ed25519", "malformed"),
        ("rsa:abc", "unknown key type"),
        ("ed25519:0OIl", "not valid base58"),
        ("ed25519:" + base58.b58encode(b"\x01" * 31).decode(), "must be 32 bytes"),
        ("secp256k1:" + base58.b58encode(b"\x01" * 64).decode(), "not a point"),
        ("ed25519:" + base58.b58encode(b"\xff" * 32).decode(), "not a valid ed25519 point"),
    ],
)
def test_bad_key_strings(text, message):
    with pytest.raises(InvalidKeyError, match=message):
        PublicKey.from_near_string(text)


def test_small_order_ed25519_point_is_refused():
    identity = (1).to_bytes(32, "little")
    with pytest.raises(InvalidKeyError):
        PublicKey.from_bytes(Curve.ED25519, identity)


@settings(max_examples=50, deadline=None)
@given(secret=st.integers(min_value=1, max_value=SECP256K1_N - 1))
def test_codec_roundtrip_secp256k1(secret):
    key = public_key_of_secret(Curve.SECP256K1, secret)
    assert PublicKey.from_near_string(key.to_near_string()) == key
    assert key.compressed[0] in (2, 3) and key.compressed[1:] == key.data[:32]


@settings(max_examples=50, deadline=None)
@given(secret=st.integers(min_value=1, max_value=2**252))
def test_codec_roundtrip_ed25519(secret):
    key = public_key_of_secret(Curve.ED25519, secret)
    assert PublicKey.from_near_string(key.to_near_string()) == key


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_arbitrary_text_never_crashes(text):
    try:
        PublicKey.from_near_string(text)
    except InvalidKeyError:
        pass


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=80), st.integers(min_value=0, max_value=4))
def test_b58encode_matches_the_base58_package(raw, zeros):
    from chainsig_core.keys import b58encode

    data = b"\0" * zeros + raw
    assert b58encode(data) == base58.b58encode(data).decode()


def test_derived_forms_are_computed_once_and_leave_equality_alone():
    import os

    from chainsig_core.keys import Curve, PublicKey

    data = os.urandom(32)
    key, same = PublicKey(Curve.ED25519, data), PublicKey(Curve.ED25519, data)
    text = key.base58
    assert key.base58 is text and key.to_near_string() == f"ed25519:{text}"
    assert key == same and hash(key) == hash(same)  # `same` has no cached forms yet
    assert same.compressed is data and same.base58 == text
    secp = PublicKey(Curve.SECP256K1, bytes(range(64)))
    assert secp.uncompressed is secp.uncompressed and secp.compressed[0] == 2 + (63 & 1)


def test_a_curve_given_by_name_is_stored_as_the_curve() -> None:
    key = PublicKey("ed25519", bytes(32))
    assert key.curve is Curve.ED25519 and key == PublicKey(Curve.ED25519, bytes(32))
    assert key.to_near_string() == PublicKey(Curve.ED25519, bytes(32)).to_near_string()
    with pytest.raises(InvalidKeyError, match="unknown curve 'bls12381'"):
        PublicKey("bls12381", bytes(32))
