"""Wire messages: canonical, versioned, bounded, strictly decoded."""

from __future__ import annotations

import pytest
from chainsig_mpc.protocols.errors import InvalidPointError, MessageError
from chainsig_mpc.protocols.groups import SECP256K1
from chainsig_mpc.protocols.messages import (
    MAX_MESSAGE_BYTES,
    Message,
    decode,
    parse_point,
    parse_points,
)
from chainsig_mpc.protocols.session import session_id
from hypothesis import given, settings
from hypothesis import strategies as st

SID = session_id("test", n=1)


def _message() -> Message:
    return Message("dkg.commit", SID, 3, None, {"hash": "ab" * 32, "list": [1, 2]})


def test_roundtrip_is_canonical() -> None:
    raw = _message().encode()
    assert decode(raw) == _message()
    assert raw.startswith(b'{"body":')
    assert b" " not in raw


@pytest.mark.parametrize(
    "mutate",
    [
        lambda r: r[:-1],  # truncated
        lambda r: r[: len(r) // 2],  # truncated more
        lambda r: r + b" ",  # trailing whitespace (non-canonical)
        lambda r: r.replace(b'"v":1', b'"v":2'),  # unknown version
        lambda r: r.replace(b'"v":1', b'"v":1.0'),  # float
        lambda r: r.replace(b'"from":3', b'"from":-3'),  # bad sender
        lambda r: r.replace(b'"from":3', b'"from":true'),  # bool sender
        lambda r: r.replace(b'{"body":', b'{"extra":1,"body":'),  # extra field
        lambda r: r.replace(b'"to":null', b'"to":null,"to":null'),  # duplicate key
        lambda r: r.replace(SID.hex().encode(), SID.hex().upper().encode()),  # uppercase hex
        lambda r: r.replace(SID.hex().encode(), SID.hex()[:-2].encode()),  # short sid
        lambda r: b"[]",
        lambda r: b"\xff\xfe",
    ],
    ids=[
        "truncated",
        "half",
        "whitespace",
        "version",
        "float",
        "negative-sender",
        "bool-sender",
        "extra-field",
        "duplicate-key",
        "uppercase-sid",
        "short-sid",
        "not-object",
        "not-utf8",
    ],
)
def test_malformed_messages_refused(mutate) -> None:
    with pytest.raises(MessageError):
        decode(mutate(_message().encode()))


def test_oversized_message_refused() -> None:
    big = Message("dkg.commit", SID, 1, None, {"blob": "00" * MAX_MESSAGE_BYTES})
    with pytest.raises(MessageError, match="larger than"):
        decode(big.encode())


def test_point_field_validation() -> None:
    good = SECP256K1.encode(SECP256K1.base_mul(3)).hex()
    assert SECP256K1.eq(parse_point(SECP256K1, good, "p"), SECP256K1.base_mul(3))
    with pytest.raises(InvalidPointError):
        parse_point(SECP256K1, "02" + "00" * 32, "p")
    with pytest.raises(MessageError):
        parse_point(SECP256K1, good.upper(), "p")
    with pytest.raises(MessageError, match="list of 2"):
        parse_points(SECP256K1, [good], 2, "c")


def test_session_ids_bind_parameters() -> None:
    assert session_id("dkg", epoch=1) != session_id("dkg", epoch=2)
    assert session_id("dkg", epoch=1) != session_id("reshare", epoch=1)
    assert len(session_id("dkg")) == 32




@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_decoding_arbitrary_bytes_fails_only_with_message_error(data: bytes) -> None:
    try:
        message = decode(data)
    except MessageError:
        return
    assert message.encode() == data


@settings(max_examples=100, deadline=None)
@given(cut=st.integers(min_value=0, max_value=200), flip=st.integers(min_value=0, max_value=255))
def test_any_truncation_or_byte_flip_is_refused_or_canonical(cut: int, flip: int) -> None:
    raw = _message().encode()
    for candidate in (
        raw[: cut % len(raw)],
        raw[: cut % len(raw)] + bytes([flip]) + raw[cut % len(raw) + 1 :],
    ):
        try:
            decoded = decode(candidate)
        except MessageError:
            continue
        assert decoded.encode() == candidate
