"""Protocol messages: typed, versioned, size-bounded, bound to a session id, strictly decoded.

Wire form: canonical JSON (sorted keys, no spaces, ASCII), byte strings as lowercase hex::

    {"body":{…},"from":3,"kind":"dkg.commit","sid":"<64 hex>","to":null,"v":1}

Decoding is strict: the bytes must be at most :data:`MAX_MESSAGE_BYTES`, parse as JSON without
duplicate keys or floats, carry exactly these fields, and re-encode to the *same* bytes
(so every message has exactly one encoding and a truncated or padded one is refused).
JSON is used because the node service speaks it already and it is easy to audit; the
canonical re-encoding check gives the determinism a binary TLV would.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

from .errors import InvalidPointError, MessageError
from .groups import Group, Point

VERSION = 1
"""Wire version of every message."""

MAX_MESSAGE_BYTES = 256 * 1024
"""Upper bound of one encoded message (a 64-party echo or commitment is far below it)."""

MAX_PARTICIPANT_ID = 2**16
"""Largest participant id accepted on the wire."""


class MessageJSON(TypedDict):
    """The wire envelope."""

    v: int
    kind: str
    sid: str
    to: int | None
    body: dict[str, Any]


@dataclass(frozen=True)
class Message:
    """One protocol message.

    Parameters
    ----------
    kind:
        ``"<protocol>.<round>"``, e.g. ``"dkg.commit"``; ``"….echo"`` for echo messages.
    sid:
        32-byte session id the message belongs to.
    sender:
        Participant id of the author (the transport authenticates it).
    recipient:
        Participant id for a private message, ``None`` for a broadcast.
    body:
        JSON-compatible values (str, int, lists, str-keyed dicts, None).
    """

    kind: str
    sid: bytes
    sender: int
    recipient: int | None
    body: dict[str, Any] = field(default_factory=dict)

    def encode(self) -> bytes:
        """Canonical wire bytes."""
        return _canonical(
            {
                "v": VERSION,
                "kind": self.kind,
                "sid": self.sid.hex(),
                "from": self.sender,
                "to": self.recipient,
                "body": self.body,
            }
        )

    @property
    def is_broadcast(self) -> bool:
        """Whether the message goes to every participant."""
        return self.recipient is None


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise MessageError("message has a duplicate JSON key")
    return dict(pairs)


def _no_floats(_: str) -> Any:
    raise MessageError("message contains a non-integer number")


def decode(data: bytes, max_bytes: int = MAX_MESSAGE_BYTES) -> Message:
    """Parse wire bytes into a :class:`Message`.

    Raises
    ------
    MessageError
        Oversized, truncated, not canonical, unknown version or malformed envelope.
    """
    if not isinstance(data, bytes | bytearray):
        raise MessageError("a message must be bytes")
    if len(data) > max_bytes:
        raise MessageError(f"message is larger than {max_bytes} bytes")
    try:
        raw = json.loads(
            bytes(data),
            object_pairs_hook=_no_duplicates,
            parse_float=_no_floats,
            parse_constant=_no_floats,
        )
    except MessageError:
        raise
    except (ValueError, RecursionError):
        raise MessageError("message is not complete, valid JSON (truncated?)") from None
    if not isinstance(raw, dict) or set(raw) != {"v", "kind", "sid", "from", "to", "body"}:
        raise MessageError("message envelope must have exactly v, kind, sid, from, to, body")
    if raw["v"] != VERSION or isinstance(raw["v"], bool):
        raise MessageError(f"unsupported message version {raw['v']!r}")
    kind, sid, sender, recipient, body = (
        raw["kind"],
        raw["sid"],
        raw["from"],
        raw["to"],
        raw["body"],
    )
    if not isinstance(kind, str) or not 0 < len(kind) <= 64:
        raise MessageError("message kind must be a short string")
    sid_bytes = hex_field(sid, 32, "sid")
    for name, pid in (("from", sender), ("to", recipient)):
        if pid is None and name == "to":
            continue
        if isinstance(pid, bool) or not isinstance(pid, int) or not 0 <= pid <= MAX_PARTICIPANT_ID:
            raise MessageError(f"message field {name!r} must be a participant id")
    if not isinstance(body, dict):
        raise MessageError("message body must be an object")
    message = Message(kind, sid_bytes, sender, recipient, body)
    if message.encode() != bytes(data):
        raise MessageError("message is not in canonical encoding")
    return message


# -- body field helpers (every failure is a MessageError naming the field, never a value) ----


def hex_field(value: Any, length: int, name: str) -> bytes:
    """Lowercase hex of exactly ``length`` bytes."""
    if not isinstance(value, str) or len(value) != 2 * length:
        raise MessageError(f"field {name!r} must be {length} bytes of hex")
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise MessageError(f"field {name!r} is not hex") from None
    if raw.hex() != value:
        raise MessageError(f"field {name!r} must be lowercase hex")
    return raw


def get(body: dict[str, Any], name: str) -> Any:
    """A required body field."""
    if name not in body:
        raise MessageError(f"message body lacks field {name!r}")
    return body[name]


def expect_keys(body: dict[str, Any], names: Sequence[str]) -> None:
    """Require the body to have exactly these fields."""
    if set(body) != set(names):
        raise MessageError(f"message body must have exactly the fields {sorted(names)}")


def point_hex(group: Group, point: Point) -> str:
    """Wire form of a point."""
    return group.encode(point).hex()


def scalar_hex(group: Group, k: int) -> str:
    """Wire form of a scalar."""
    return group.scalar_bytes(k).hex()


def parse_point(group: Group, value: Any, name: str) -> Point:
    """Decode and validate a point field.

    Raises
    ------
    InvalidPointError
    """
    raw = hex_field(value, group.point_size, name)
    try:
        return group.decode(raw)
    except InvalidPointError as exc:
        raise InvalidPointError(f"field {name!r}: {exc}") from None


def parse_scalar(group: Group, value: Any, name: str) -> int:
    """Decode a canonical scalar field."""
    raw = hex_field(value, 32, name)
    try:
        return group.scalar_from_bytes(raw)
    except InvalidPointError as exc:
        raise InvalidPointError(f"field {name!r}: {exc}") from None


def parse_points(group: Group, value: Any, length: int, name: str) -> list[Point]:
    """A list of exactly ``length`` valid points."""
    if not isinstance(value, list) or len(value) != length:
        raise MessageError(f"field {name!r} must be a list of {length} points")
    return [parse_point(group, v, f"{name}[{i}]") for i, v in enumerate(value)]


def parse_int(value: Any, name: str, low: int = 0, high: int = MAX_PARTICIPANT_ID) -> int:
    """A bounded integer field."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise MessageError(f"field {name!r} must be an integer in [{low}, {high}]")
    return value
