"""The v1.signer argument formats shared by client, contract and nodes."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from chainsig_core.errors import InvalidInputError
from chainsig_core.keys import Curve
from chainsig_core.sign_args import (
    build_sign_request,
    curve_of_kind,
    parse_signature_request,
    parse_sign_request,
    payload_kind,
)


@given(path=st.text(max_size=40), domain_id=st.sampled_from([0, 1]), payload=st.binary(min_size=32, max_size=32))
def test_build_then_parse(path, domain_id, payload):
    kind = "Ecdsa" if domain_id == 0 else "Eddsa"
    assert parse_sign_request(build_sign_request(path, domain_id, payload)) == (path, kind, payload, domain_id)


@given(path=st.text(max_size=40), domain_id=st.integers(0, 2**64 - 1),
       curve=st.sampled_from(list(Curve)), payload=st.binary(min_size=32, max_size=32))
def test_the_payload_kind_follows_the_curve_in_any_domain(path, domain_id, curve, payload):
    kind = "Ecdsa" if curve is Curve.SECP256K1 else "Eddsa"
    request = build_sign_request(path, domain_id, payload, curve)
    assert request == {"path": path, "payload_v2": {kind: payload.hex()}, "domain_id": domain_id}
    assert parse_sign_request(request) == (path, kind, payload, domain_id)
    assert curve_of_kind(payload_kind(curve)) is curve


def test_domain_two_ed25519_and_domain_three_secp256k1():
    """Nothing ties an id to a curve beyond 0 and 1: the curve given decides."""
    assert build_sign_request("p", 2, b"m", Curve.ED25519)["payload_v2"] == {"Eddsa": "6d"}
    assert build_sign_request("p", 3, bytes(32), Curve.SECP256K1)["payload_v2"] == {"Ecdsa": "00" * 32}
    assert build_sign_request("p", 0, b"m", Curve.ED25519)["payload_v2"] == {"Eddsa": "6d"}  # the curve wins
    with pytest.raises(InvalidInputError, match="payload kind of domain 2 follows the curve of its root key"):
        build_sign_request("p", 2, b"m")
    with pytest.raises(InvalidInputError, match="Ecdsa"):
        curve_of_kind("Bls")


def test_legacy_and_case_insensitive_hex():
    assert parse_sign_request({"path": "p", "payload": [7] * 32, "key_version": 0}) == ("p", "Ecdsa", b"\x07" * 32, 0)
    assert parse_sign_request({"path": "p", "payload_v2": {"Ecdsa": "AB" * 32}})[2] == b"\xab" * 32
    assert parse_signature_request({"domain_id": 1, "payload": {"Eddsa": "cafe"}, "tweak": "00" * 32})[3] == bytes(32)


@pytest.mark.parametrize(
    "request_value, message",
    [
        ([], "must be an object"),
        ({"path": "p", "payload_v2": {"Ecdsa": "00" * 32}, "extra": 1}, "unknown field 'extra'"),
        ({"path": 1, "payload_v2": {"Ecdsa": "00" * 32}}, "path must be a string"),
        ({"path": "p"}, "exactly one of payload_v2 and payload"),
        ({"path": "p", "payload": [0] * 32, "payload_v2": {"Ecdsa": "00" * 32}}, "exactly one"),
        ({"path": "p", "payload_v2": {"Ecdsa": "00" * 32}, "domain_id": 0, "key_version": 0}, "mutually exclusive"),
        ({"path": "p", "payload_v2": {"Ecdsa": "00" * 31}}, "exactly 32 bytes"),
        ({"path": "p", "payload_v2": {"Eddsa": "00" * 1233}}, "at most 1232"),
        ({"path": "p", "payload_v2": {"Ecdsa": "zz" * 32}}, "not valid hex"),
        ({"path": "p", "payload_v2": {"Rsa": "00"}}, "Ecdsa"),
        ({"path": "p", "payload": [256] * 32}, "32 integers"),
        ({"path": "p", "payload_v2": {"Ecdsa": "00" * 32}, "domain_id": -1}, "unsigned"),
    ],
)
def test_bad_sign_requests(request_value, message):
    with pytest.raises(InvalidInputError, match=message):
        parse_sign_request(request_value)
