"""The v1.signer argument formats shared by client, contract and nodes."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from chainsig_core.errors import InvalidInputError
from chainsig_core.sign_args import build_sign_request, parse_signature_request, parse_sign_request


@given(path=st.text(max_size=40), domain_id=st.sampled_from([0, 1]), payload=st.binary(min_size=32, max_size=32))
def test_build_then_parse(path, domain_id, payload):
    kind = "Ecdsa" if domain_id == 0 else "Eddsa"
    assert parse_sign_request(build_sign_request(path, domain_id, payload)) == (path, kind, payload, domain_id)


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
