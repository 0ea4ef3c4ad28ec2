"""Frames on a peer connection: ``u32 length ‖ body``, with a hard bound on the length.

Bodies (big-endian integers):

* ``HELLO``  ``0x00 ‖ version (1) ‖ stream id (16)`` — first frame of a sending connection; the
  stream id is random per sender process, so the receiver can drop duplicates after a reconnect
  and start afresh after the sender restarted.
* ``DATA``   ``0x01 ‖ seq (8) ‖ payload`` — one message; ``seq`` counts from 1 per stream.
* ``ACK``    ``0x02 ‖ seq (8)`` — the receiver delivered every message up to ``seq``.

A length above the bound, a body that does not parse, or a stream that ends inside a frame is a
:class:`FrameError`: the connection is closed, the node carries on.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass
from typing import Protocol

from .errors import FrameError

FRAME_VERSION = 1
HELLO, DATA, ACK = 0, 1, 2
STREAM_ID_BYTES = 16
DATA_OVERHEAD = 9
"""Bytes a DATA body adds to its payload (type + seq)."""

_LENGTH = struct.Struct(">I")
_SEQ = struct.Struct(">Q")


@dataclass(frozen=True)
class Frame:
    """A decoded frame: ``kind`` (HELLO/DATA/ACK), ``seq`` (DATA/ACK), ``stream_id`` (HELLO),
    ``payload`` (DATA)."""

    kind: int
    seq: int = 0
    stream_id: bytes = b""
    payload: bytes = b""


class ReadsExactly(Protocol):
    async def read_exactly(self, size: int) -> bytes: ...


def encode_hello(stream_id: bytes) -> bytes:
    """A HELLO frame."""
    if len(stream_id) != STREAM_ID_BYTES:
        raise ValueError("stream id must be 16 bytes")
    return _frame(bytes([HELLO, FRAME_VERSION]) + stream_id)


def encode_data(seq: int, payload: bytes) -> bytes:
    """A DATA frame."""
    return _frame(bytes([DATA]) + _SEQ.pack(seq) + payload)


def encode_ack(seq: int) -> bytes:
    """An ACK frame."""
    return _frame(bytes([ACK]) + _SEQ.pack(seq))


def _frame(body: bytes) -> bytes:
    return _LENGTH.pack(len(body)) + body


def decode_body(body: bytes) -> Frame:
    """Parse one frame body.

    Raises
    ------
    FrameError
        For an empty body, an unknown type, a wrong version or a wrong length.
    """
    if not body:
        raise FrameError("empty frame")
    kind = body[0]
    if kind == HELLO:
        if len(body) != 2 + STREAM_ID_BYTES:
            raise FrameError("malformed HELLO frame")
        if body[1] != FRAME_VERSION:
            raise FrameError(f"peer speaks frame version {body[1]}, this node {FRAME_VERSION}")
        return Frame(HELLO, stream_id=body[2:])
    if kind == DATA:
        if len(body) < DATA_OVERHEAD:
            raise FrameError("truncated DATA frame")
        return Frame(DATA, seq=_SEQ.unpack_from(body, 1)[0], payload=body[DATA_OVERHEAD:])
    if kind == ACK:
        if len(body) != 1 + _SEQ.size:
            raise FrameError("malformed ACK frame")
        return Frame(ACK, seq=_SEQ.unpack_from(body, 1)[0])
    raise FrameError(f"unknown frame type {kind}")


async def read_frame(stream: ReadsExactly, max_body: int) -> Frame | None:
    """Read one frame; ``None`` when the peer closed the connection between frames.

    Raises
    ------
    FrameError
        If the announced length exceeds ``max_body`` (nothing more is read), the stream ends
        inside a frame, or the body is malformed.
    """
    try:
        header = await stream.read_exactly(_LENGTH.size)
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise FrameError("connection closed inside a frame header") from None
    (length,) = _LENGTH.unpack(header)
    if length > max_body:
        raise FrameError(f"frame of {length} bytes exceeds the bound of {max_body}")
    try:
        body = await stream.read_exactly(length)
    except asyncio.IncompleteReadError as exc:
        raise FrameError(f"connection closed after {len(exc.partial)} of {length} frame bytes") from None
    return decode_body(body)
