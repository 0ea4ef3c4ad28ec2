"""Response parsing vectors, the dev signer, and verification (including tampering)."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from chainsig_core import kdf
from chainsig_core.errors import (
    InvalidInputError,
    SignatureResponseError,
    SignatureVerificationError,
)
from chainsig_core.keys import SECP256K1_N, Curve
from chainsig_core.signatures import (
    EcdsaSignature,
    Ed25519Signature,
    parse_signature_response,
    signature_from_json,
    verify_signature,
)
from chainsig_core.signers import SignFailure, SignRequest
from chainsig_core.signers.dev import dev_root_public_key


def test_response_vectors(vectors):
    for case in vectors("signature-responses.json")["ecdsa"]:
        for variant in (case["response"], json.loads(json.dumps(case["response"]).lower().replace("big_r", "big_r"))):
            sig = parse_signature_response(variant)
            assert isinstance(sig, EcdsaSignature)
            assert f"{sig.r:064x}" == case["r"]
            assert f"{sig.s:064x}" == case["s"]
            assert sig.y_parity == case["y_parity"]
            assert 27 + sig.y_parity == case["v_legacy"]


def test_parse_with_scheme_and_text():
    sig = EcdsaSignature(bytes([3]) + b"\x11" * 32, 5, 1)
    text = json.dumps(sig.to_response())
    assert parse_signature_response(text) == sig
    ed = Ed25519Signature(bytes(range(64)))
    assert parse_signature_response(ed.to_response()) == ed
    assert signature_from_json(ed.to_json()) == ed
    assert signature_from_json(sig.to_json()).rs_bytes() == sig.rs_bytes()


@pytest.mark.parametrize(
    "response",
    [
        {}, [], "not json", {"scheme": "Rsa"}, {"big_r": {"affine_point": "zz"}, "s": {"scalar": "00"}, "recovery_id": 0},
        {"big_r": {"affine_point": "02" + "11" * 32}, "s": {"scalar": "11" * 32}, "recovery_id": 4},
        {"big_r": {"affine_point": "04" + "11" * 32}, "s": {"scalar": "11" * 32}, "recovery_id": 0},
        {"big_r": {"affine_point": "02" + "11" * 32}, "s": {"scalar": "00" * 32}, "recovery_id": 0},
        {"scheme": "Ed25519", "signature": [0] * 63}, {"scheme": "Ed25519", "signature": [256] * 64},
        {"scheme": "Ed25519", "signature": [True] * 64},
    ],
)
def test_malformed_responses(response):
    with pytest.raises(SignatureResponseError):
        parse_signature_response(response)


@pytest.mark.parametrize("domain_id", [0, 1])
def test_dev_signer_signs_and_verifies(chainsig_dev_signer, domain_id):
    payload = hashlib.sha256(b"hello").digest()
    result = chainsig_dev_signer.sign(SignRequest("alice.near", "ethereum-1", domain_id, payload))
    expected = kdf.derive_public_key(dev_root_public_key(Curve.for_domain(domain_id)), "alice.near", "ethereum-1")
    assert result.public_key == expected
    verify_signature(expected, payload, result.signature)
    out = result.to_json("dev")
    assert set(out) == {"network", "account", "path", "domain_id", "payload", "response", "signature"}
    assert parse_signature_response(out["response"]) == result.signature


def test_dev_signer_ecdsa_is_low_s(chainsig_dev_signer):
    for i in range(32):
        payload = hashlib.sha256(bytes([i])).digest()
        sig = chainsig_dev_signer.sign(SignRequest("alice.near", "p", 0, payload)).signature
        assert sig.s <= SECP256K1_N // 2


def test_tampered_and_wrong_key_signatures_are_refused(chainsig_dev_signer):
    payload = hashlib.sha256(b"x").digest()
    result = chainsig_dev_signer.sign(SignRequest("alice.near", "p", 0, payload))
    sig = result.signature
    with pytest.raises(SignatureVerificationError):
        verify_signature(result.public_key, hashlib.sha256(b"y").digest(), sig)
    with pytest.raises(SignatureVerificationError):
        verify_signature(result.public_key, payload, EcdsaSignature(sig.big_r, sig.s, sig.recovery_id ^ 1))
    with pytest.raises(SignatureVerificationError, match="low-s"):
        verify_signature(result.public_key, payload, EcdsaSignature(sig.big_r, SECP256K1_N - sig.s, sig.recovery_id))
    other = chainsig_dev_signer.derived_public_key("bob.near", "p", 0)
    with pytest.raises(SignatureVerificationError):
        verify_signature(other, payload, sig)
    ed = chainsig_dev_signer.sign(SignRequest("alice.near", "p", 1, b"msg"))
    flipped = bytearray(ed.signature.signature)
    flipped[5] ^= 1
    with pytest.raises(SignatureVerificationError):
        verify_signature(ed.public_key, b"msg", Ed25519Signature(bytes(flipped)))
    with pytest.raises(SignatureVerificationError):
        verify_signature(result.public_key, b"msg", ed.signature)


def test_signer_refuses_a_bad_response(chainsig_dev_signer):
    """A signer whose backend answers with someone else's signature never returns it."""
    from chainsig_core.signers.dev import DevSigner

    class Liar(DevSigner):
        async def _request_signature(self, request):
            forged = SignRequest("mallory.near", request.path, request.domain_id, request.payload)
            return await super()._request_signature(forged)

    liar = Liar(chainsig_dev_signer.network)
    with pytest.raises(SignatureVerificationError):
        liar.sign(SignRequest("alice.near", "p", 0, b"\x01" * 32))
    (failure,) = liar.sign_many([SignRequest("alice.near", "p", 1, b"m")])
    assert isinstance(failure, SignFailure) and isinstance(failure.error, SignatureVerificationError)


@pytest.mark.parametrize(
    "domain_id, payload, message",
    [(0, b"\x00" * 32, "zero"), (0, b"\x01" * 31, "exactly 32"), (0, SECP256K1_N.to_bytes(32, "big"), "smaller"),
     (1, b"\x00" * 1233, "at most 1232"), (2, b"\x00" * 1233, "at most 1232"), (2, "00" * 32, "must be bytes"),
     (-1, b"\x01" * 32, "domain must be"), (2**64, b"\x01" * 32, "domain must be"),
     (True, b"\x01" * 32, "domain must be"), (1.0, b"m", "domain must be"), ("2", b"m", "domain must be")],
)
def test_bad_sign_requests(domain_id, payload, message):
    with pytest.raises(InvalidInputError, match=message):
        SignRequest("alice.near", "p", domain_id, payload)


def test_domains_zero_and_one_keep_their_curve_and_messages():
    assert SignRequest("alice.near", "p", 0, b"\x01" * 32).curve is Curve.SECP256K1
    assert SignRequest("alice.near", "p", 1, b"m").curve is Curve.ED25519
    with pytest.raises(InvalidInputError, match=r"^an ECDSA payload is exactly 32 bytes \(a hash\), got 5$"):
        SignRequest("alice.near", "p", 0, b"short")
    with pytest.raises(InvalidInputError, match=r"^an EdDSA payload is at most 1232 bytes, got 1233$"):
        SignRequest("alice.near", "p", 1, bytes(1233))


@pytest.mark.parametrize("domain_id", [2, 3, 7, 2**64 - 1])
def test_added_domains_are_accepted_and_checked_once_the_curve_is_known(domain_id):
    """An added domain's curve is its root key's: until the signer knows it only the
    curve-independent rules apply, then the rules of that curve."""
    hash32 = hashlib.sha256(b"tx").digest()
    for payload in (hash32, b"", b"a message", bytes(1232), bytes(32)):
        assert SignRequest("alice.near", "p", domain_id, payload).curve is None
    ecdsa = SignRequest("alice.near", "p", domain_id, hash32).for_curve(Curve.SECP256K1, "net")
    assert ecdsa.curve is Curve.SECP256K1 and ecdsa.payload == hash32
    assert ecdsa == SignRequest("alice.near", "p", domain_id, hash32)  # the curve is not identity
    eddsa = SignRequest("alice.near", "p", domain_id, bytes(1232)).for_curve(Curve.ED25519, "net")
    assert eddsa.curve is Curve.ED25519
    for payload, message in ((b"a message", "exactly 32"), (bytes(32), "must not be zero"),
                             (SECP256K1_N.to_bytes(32, "big"), "smaller")):
        with pytest.raises(InvalidInputError, match=message):
            SignRequest("alice.near", "p", domain_id, payload).for_curve(Curve.SECP256K1, "net")
        with pytest.raises(InvalidInputError, match=message):  # a caller that knows the curve
            SignRequest("alice.near", "p", domain_id, payload, Curve.SECP256K1)
    assert SignRequest("alice.near", "p", domain_id, b"m", "ed25519").curve is Curve.ED25519


def test_a_request_naming_another_curve_than_the_root_key_is_refused():
    with pytest.raises(InvalidInputError, match="the root key of domain 2 on network 'net' is secp256k1, but the request is for ed25519"):
        SignRequest("alice.near", "p", 2, b"m", Curve.ED25519).for_curve(Curve.SECP256K1, "net")
    with pytest.raises(InvalidInputError, match="the root key of domain 0 on network 'net' is ed25519"):
        SignRequest("alice.near", "p", 0, b"\x01" * 32).for_curve(Curve.ED25519, "net")
    with pytest.raises(InvalidInputError, match="curve must be secp256k1 or ed25519"):
        SignRequest("alice.near", "p", 2, b"m", "bls12381")


def test_the_dev_network_has_domains_zero_and_one_only(chainsig_dev_signer):
    from chainsig_core.errors import UnknownNameError

    with pytest.raises(UnknownNameError, match="network 'dev' has no domain 2: it has domains 0"):
        chainsig_dev_signer.sign(SignRequest("alice.near", "p", 2, b"\x01" * 32))
    (failure,) = chainsig_dev_signer.sign_many([SignRequest("alice.near", "p", 3, b"m")])
    assert isinstance(failure, SignFailure) and isinstance(failure.error, UnknownNameError)
    with pytest.raises(UnknownNameError, match="no domain 2"):
        chainsig_dev_signer.network.root_public_key(2)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.binary(min_size=32, max_size=32).filter(lambda b: 0 < int.from_bytes(b, "big") < SECP256K1_N), path=st.text(max_size=20))
def test_dev_ecdsa_property(chainsig_dev_signer, payload, path):
    result = chainsig_dev_signer.sign(SignRequest("carol.testnet", path, 0, payload))
    verify_signature(result.public_key, payload, result.signature)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(message=st.binary(max_size=1232))
def test_dev_ed25519_property(chainsig_dev_signer, message):
    result = chainsig_dev_signer.sign(SignRequest("carol.testnet", "sol", 1, message))
    from nacl.signing import VerifyKey

    VerifyKey(result.public_key.data).verify(message, result.signature.signature)
