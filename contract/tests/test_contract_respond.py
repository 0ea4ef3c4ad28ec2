"""respond: participants only, verification against the derived key, fan-out resolution."""

from __future__ import annotations

import json

import pytest

from chainsig_core import kdf
from chainsig_core.keys import SECP256K1_N, Curve
from chainsig_core.signatures import EcdsaSignature
from chainsig_core.signers.dev import (
    dev_root_secret,
    ecdsa_sign_with_scalar,
    ed25519_sign_with_scalar,
)

PAYLOAD = bytes(range(1, 33))


def dev_sign(curve, account, path, payload):
    secret = kdf.derive_secret_key(curve, dev_root_secret(curve), account, path)
    if curve is Curve.SECP256K1:
        return ecdsa_sign_with_scalar(secret, payload)
    return ed25519_sign_with_scalar(secret, payload)


def request_of(account, path, payload=PAYLOAD, domain_id=0):
    kind = "Ecdsa" if domain_id == 0 else "Eddsa"
    return {"domain_id": domain_id, "payload": {kind: payload.hex()}, "tweak": list(kdf.tweak(account, path))}


def sign(h, account="alice.test", path="p", payload=PAYLOAD, domain_id=0):
    kind = "Ecdsa" if domain_id == 0 else "Eddsa"
    return h.call("sign", {"request": {"path": path, "payload_v2": {kind: payload.hex()}, "domain_id": domain_id}},
                  account, deposit=1).yields[0]


def test_valid_ecdsa_response_resumes_the_yield(running):
    data_id = sign(running)
    sig = dev_sign(Curve.SECP256K1, "alice.test", "p", PAYLOAD)
    running.call("respond", {"request": request_of("alice.test", "p"), "response": sig.to_response()}, "node1.test")
    assert json.loads(running.resumed[data_id.hex()]) == sig.to_response()
    assert running.view("get_pending_request", {"request": request_of("alice.test", "p")}) is None


def test_valid_ed25519_response(running):
    data_id = sign(running, payload=b"solana tx", domain_id=1)
    sig = dev_sign(Curve.ED25519, "alice.test", "p", b"solana tx")
    running.call("respond", {"request": request_of("alice.test", "p", b"solana tx", 1),
                             "response": sig.to_response()}, "node0.test")
    assert json.loads(running.resumed[data_id.hex()])["signature"] == list(sig.signature)


def test_lowercase_hex_response_is_accepted(running):
    sign(running)
    response = dev_sign(Curve.SECP256K1, "alice.test", "p", PAYLOAD).to_response()
    response["big_r"]["affine_point"] = response["big_r"]["affine_point"].lower()
    response["s"]["scalar"] = response["s"]["scalar"].lower()
    running.call("respond", {"request": request_of("alice.test", "p"), "response": response}, "node0.test")


def test_fan_out_resolves_every_waiting_yield(running):
    ids = {sign(running).hex() for _ in range(5)}
    sig = dev_sign(Curve.SECP256K1, "alice.test", "p", PAYLOAD)
    running.call("respond", {"request": request_of("alice.test", "p"), "response": sig.to_response()}, "node2.test")
    assert set(running.resumed) == ids


def test_only_participants_may_respond(running, panics):
    sign(running)
    sig = dev_sign(Curve.SECP256K1, "alice.test", "p", PAYLOAD)
    assert panics(running.call, "respond", {"request": request_of("alice.test", "p"),
                                            "response": sig.to_response()}, "mallory.test") == (
        "Not a participant: mallory.test")


def test_respond_must_come_from_the_signer(running, panics):
    sig = dev_sign(Curve.SECP256K1, "alice.test", "p", PAYLOAD)
    assert panics(running.call, "respond", {"request": request_of("alice.test", "p"), "response": sig.to_response()},
                  "node0.test", signer="alice.test") == "Caller is not the signer account."


@pytest.mark.parametrize("tamper", ["other_key", "high_s", "wrong_recovery", "other_payload"])
def test_invalid_ecdsa_signatures_are_refused(running, panics, tamper):
    sign(running)
    sig = dev_sign(Curve.SECP256K1, "alice.test", "p", PAYLOAD)
    if tamper == "other_key":
        sig = dev_sign(Curve.SECP256K1, "bob.test", "p", PAYLOAD)
    elif tamper == "high_s":
        sig = EcdsaSignature(sig.big_r, SECP256K1_N - sig.s, sig.recovery_id ^ 1)
    elif tamper == "wrong_recovery":
        sig = EcdsaSignature(sig.big_r, sig.s, sig.recovery_id ^ 1)
    else:
        sig = dev_sign(Curve.SECP256K1, "alice.test", "p", bytes(32 * [7]))
    assert panics(running.call, "respond", {"request": request_of("alice.test", "p"),
                                            "response": sig.to_response()}, "node0.test") == (
        "The provided signature is invalid.")
    assert running.view("get_pending_request", {"request": request_of("alice.test", "p")}) is not None


def test_invalid_ed25519_signature_is_refused(running, panics):
    sign(running, payload=b"m", domain_id=1)
    sig = dev_sign(Curve.ED25519, "alice.test", "p", b"other")
    assert panics(running.call, "respond", {"request": request_of("alice.test", "p", b"m", 1),
                                            "response": sig.to_response()}, "node0.test") == (
        "The provided signature is invalid.")


def test_scheme_mismatch(running, panics):
    sig = dev_sign(Curve.ED25519, "alice.test", "p", PAYLOAD)
    message = panics(running.call, "respond", {"request": request_of("alice.test", "p"),
                                               "response": sig.to_response()}, "node0.test")
    assert message.startswith("The provided signature scheme does not match.")


def test_unknown_request(running, panics):
    sig = dev_sign(Curve.SECP256K1, "alice.test", "never", PAYLOAD)
    assert panics(running.call, "respond", {"request": request_of("alice.test", "never"),
                                            "response": sig.to_response()}, "node0.test") == (
        "This sign request has timed out, was completed, or never existed.")


def test_unknown_domain_in_respond(running, panics):
    sig = dev_sign(Curve.SECP256K1, "alice.test", "p", PAYLOAD)
    request = dict(request_of("alice.test", "p"), domain_id=9)
    assert panics(running.call, "respond", {"request": request, "response": sig.to_response()},
                  "node0.test") == "The provided domain was not found."


def test_malformed_response(running, panics):
    assert panics(running.call, "respond", {"request": request_of("alice.test", "p"),
                                            "response": {"scheme": "Secp256k1", "big_r": "zz"}},
                  "node0.test").startswith("Failed to deserialize input from JSON.")
