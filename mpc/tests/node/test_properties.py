"""Property tests: frame decoding and the store's sealing never misbehave on any input."""

from __future__ import annotations

import asyncio
import os

from hypothesis import given, settings
from hypothesis import strategies as st

from chainsig_mpc.node import framing
from chainsig_mpc.node.errors import FrameError
from chainsig_mpc.node.store import NodeStore


class _Bytes:
    def __init__(self, data: bytes) -> None:
        self.data = data

    async def read_exactly(self, size: int) -> bytes:
        if len(self.data) < size:
            partial, self.data = self.data, b""
            raise asyncio.IncompleteReadError(partial, size)
        out, self.data = self.data[:size], self.data[size:]
        return out


@given(st.binary(max_size=64))
def test_any_body_decodes_or_is_a_frame_error(body):
    try:
        frame = framing.decode_body(body)
    except FrameError:
        return
    assert frame.kind in (framing.HELLO, framing.DATA, framing.ACK)


@given(st.binary(max_size=80), st.integers(min_value=0, max_value=64))
def test_any_stream_reads_as_frame_none_or_frame_error(data, bound):
    async def read():
        return await framing.read_frame(_Bytes(data), bound)

    try:
        frame = asyncio.run(read())
    except FrameError:
        return
    assert frame is None or len(data) >= 4


@given(st.integers(min_value=0, max_value=2**64 - 1), st.binary(max_size=300))
def test_data_frames_round_trip(seq, payload):
    encoded = framing.encode_data(seq, payload)
    assert framing.decode_body(encoded[4:]) == framing.Frame(framing.DATA, seq=seq, payload=payload)


@settings(max_examples=40, deadline=None)
@given(st.text(min_size=1, max_size=40).filter(lambda s: "\x00" not in s), st.binary(max_size=2000))
def test_store_round_trips_any_id_and_value(tmp_path_factory, record_id, value):
    path = tmp_path_factory.mktemp("store") / "s.sqlite"
    key = os.urandom(32)
    with NodeStore(path, key) as store:
        store.put("kind", record_id, value)
    with NodeStore(path, key) as store:
        assert store.get("kind", record_id) == value
