"""Known-answer and property tests of NEAR-exact derivation."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings, strategies as st

from chainsig_core import kdf
from chainsig_core.config import load_config
from chainsig_core.errors import InvalidAccountIdError, InvalidKeyError, TweakOutOfRangeError
from chainsig_core.keys import ED25519_L, SECP256K1_N, Curve, PublicKey
from chainsig_core.signers.dev import public_key_of_secret


def test_tweak_vectors(vectors):
    data = vectors("derivation.json")
    assert len(data["tweaks"]) == 16
    for case in data["tweaks"]:
        assert kdf.tweak(case["predecessor"], case["path"]).hex() == case["tweak_hex"]


def test_derived_key_vectors(vectors):
    config = load_config()
    data = vectors("derivation.json")
    for case in data["derived"]:
        network = config.network(case["network"])
        secp = kdf.derive_public_key(network.root_public_key(0), case["account"], case["path"])
        assert secp.uncompressed.hex() == case["secp256k1_uncompressed"]
        assert secp.compressed.hex() == case["secp256k1_compressed"]
        assert secp.to_near_string() == case["secp256k1_near"]
        ed = kdf.derive_public_key(network.root_public_key(1), case["account"], case["path"])
        assert ed.to_near_string() == case["ed25519_public_key"]


def test_live_testnet_view_matches(vectors):
    """derivation-test.testnet + unit-test, captured from the live contract's view."""
    live = vectors("derivation.json")["sources"]["live_testnet"]
    secp_expected, ed_expected = [part.split(" ")[0] for part in live.split(": ", 1)[1].split(" and ")]
    network = load_config().network("testnet")
    assert kdf.derive_public_key(network.root_public_key(0), "derivation-test.testnet", "unit-test").to_near_string() == secp_expected
    assert kdf.derive_public_key(network.root_public_key(1), "derivation-test.testnet", "unit-test").to_near_string() == ed_expected


def test_builtin_root_keys_match_vectors(vectors):
    roots = vectors("derivation.json")["root_public_keys"]
    config = load_config()
    for name in ("mainnet", "testnet"):
        network = config.network(name)
        assert network.contract_id == roots[name]["contract"]
        assert network.root_public_key(0).to_near_string() == roots[name]["domain_0_secp256k1"]
        assert network.root_public_key(1).to_near_string() == roots[name]["domain_1_ed25519"]


def test_secp256k1_tweak_at_or_above_n_is_rejected():
    with pytest.raises(TweakOutOfRangeError):
        kdf.secp256k1_tweak_scalar(SECP256K1_N.to_bytes(32, "big"))
    with pytest.raises(TweakOutOfRangeError):
        kdf.secp256k1_tweak_scalar(b"\xff" * 32)
    assert kdf.secp256k1_tweak_scalar((SECP256K1_N - 1).to_bytes(32, "big")) == SECP256K1_N - 1
    root = load_config().network("mainnet").root_public_key(0)
    with pytest.raises(TweakOutOfRangeError):
        kdf.derive_public_key_from_tweak(root, b"\xff" * 32)


def test_ed25519_tweak_is_little_endian_and_reduced():
    raw = b"\xff" * 32
    assert kdf.ed25519_tweak_scalar(raw) == int.from_bytes(raw, "little") % ED25519_L


def test_domain_does_not_enter_the_hash():
    assert kdf.tweak("alice.near", "x") == hashlib.sha3_256(
        b"near-mpc-recovery v0.1.0 epsilon derivation:alice.near,x"
    ).digest()


def test_bad_predecessor_is_a_clear_error():
    with pytest.raises(InvalidAccountIdError, match="invalid NEAR account id"):
        kdf.tweak("Alice.near", "x")


def test_invalid_root_is_refused():
    bogus = PublicKey(Curve.ED25519, b"\x01" + b"\x00" * 31)  # small-order / identity-ish
    with pytest.raises(InvalidKeyError):
        kdf.derive_public_key(bogus, "alice.near", "x")


accounts = st.from_regex(r"[a-z0-9]{2,20}(\.[a-z0-9]{1,10}){0,2}", fullmatch=True)
paths = st.text(max_size=64)


@settings(max_examples=60, deadline=None)
@given(
    secret=st.integers(min_value=1, max_value=SECP256K1_N - 1),
    account=accounts,
    path=paths,
)
def test_secp256k1_derivation_matches_secret_arithmetic(secret, account, path):
    root = public_key_of_secret(Curve.SECP256K1, secret)
    child_secret = kdf.derive_secret_key(Curve.SECP256K1, secret, account, path)
    assert kdf.derive_public_key(root, account, path) == public_key_of_secret(Curve.SECP256K1, child_secret)


@settings(max_examples=60, deadline=None)
@given(secret=st.integers(min_value=1, max_value=ED25519_L - 1), account=accounts, path=paths)
def test_ed25519_derivation_matches_secret_arithmetic(secret, account, path):
    root = public_key_of_secret(Curve.ED25519, secret)
    child_secret = kdf.derive_secret_key(Curve.ED25519, secret, account, path)
    assert kdf.derive_public_key(root, account, path) == public_key_of_secret(Curve.ED25519, child_secret)


@settings(max_examples=40, deadline=None)
@given(account=accounts, p1=paths, p2=paths)
def test_different_paths_give_different_keys(account, p1, p2):
    root = load_config().network("mainnet").root_public_key(0)
    same = kdf.derive_public_key(root, account, p1) == kdf.derive_public_key(root, account, p2)
    assert same == (p1 == p2)


def test_path_with_a_lone_surrogate_is_a_clear_error():
    from chainsig_core.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="lone surrogate"):
        kdf.tweak("alice.near", "a\udc80b")


@settings(max_examples=60, deadline=None)
@given(account=accounts, path=paths, domain=st.sampled_from([0, 1]), network=st.sampled_from(["mainnet", "testnet"]))
def test_public_key_deriver_equals_derive_public_key(account, path, domain, network):
    root = load_config().network(network).root_public_key(domain)
    assert kdf.public_key_deriver(root)(account, path) == kdf.derive_public_key(root, account, path)


def test_public_key_deriver_checks_the_root_once_and_inputs_per_call():
    with pytest.raises(InvalidKeyError):
        kdf.public_key_deriver(PublicKey(Curve.ED25519, b"\x01" + b"\x00" * 31))
    with pytest.raises(InvalidKeyError):
        kdf.public_key_deriver(PublicKey(Curve.SECP256K1, b"\x07" * 64))
    derive = kdf.public_key_deriver(load_config().network("mainnet").root_public_key(1))
    with pytest.raises(InvalidAccountIdError):
        derive("Alice.near", "x")
