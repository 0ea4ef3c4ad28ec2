"""Node-to-node envelopes over the TLS transport, and running a round protocol over them.

Every transport message is one canonical JSON envelope ``{"c": channel, "t": tag, "b": body}``.
Channels:

* ``round`` — a :class:`~chainsig_mpc.protocols.rounds.RoundProtocol` message (DKG, presign)
  for the session named by the tag (``dkg/<epoch>/<domain>/<attempt>``, ``presign/<label>``);
  messages for a session this node has not opened yet are buffered (bounded, expiring).
* ``reply`` — a signer's answer to a coordinator (tag = the signing session id);
* anything else — a request handled by the node (presign invitation, FROST pre-commitment
  request, ECDSA signing request, FROST signing package).

The transport authenticates the peer id; a protocol message whose ``from`` differs from the
peer it arrived from is dropped, so no node can speak for another.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypedDict

from chainsig_core.errors import ChainsigError

from ..node.errors import TransportError
from ..protocols.errors import MessageError, ProtocolTimeout
from ..protocols.messages import Message, decode
from ..protocols.rounds import RoundProtocol
from .faults import Faults

log = logging.getLogger(__name__)

MAX_TAG = 160
EARLY_LIMIT = 20_000
"""Buffered messages for sessions not opened yet (older ones are dropped first)."""
EARLY_TTL = 120.0


class Envelope(TypedDict):
    """The wire form of a node-to-node message."""

    c: str
    t: str
    b: dict[str, Any]


class EnvelopeError(ChainsigError, ValueError):
    """A peer sent an envelope that is not valid (dropped, the peer stays connected)."""


def encode_envelope(channel: str, tag: str, body: dict[str, Any]) -> bytes:
    """Canonical envelope bytes."""
    env: Envelope = {"c": channel, "t": tag, "b": body}
    return json.dumps(env, sort_keys=True, separators=(",", ":")).encode()


def decode_envelope(data: bytes) -> Envelope:
    """Parse an envelope.

    Raises
    ------
    EnvelopeError
    """
    try:
        raw = json.loads(data)
    except (ValueError, RecursionError):
        raise EnvelopeError("envelope is not valid JSON") from None
    if not isinstance(raw, dict) or set(raw) != {"c", "t", "b"}:
        raise EnvelopeError("envelope must have exactly c, t, b")
    if not isinstance(raw["c"], str) or not isinstance(raw["t"], str) or len(raw["t"]) > MAX_TAG:
        raise EnvelopeError("envelope channel and tag must be short strings")
    if not isinstance(raw["b"], dict):
        raise EnvelopeError("envelope body must be an object")
    return raw  # type: ignore[return-value]


def message_of(peer: int, body: dict[str, Any]) -> Message:
    """The protocol message in ``body["m"]``, checked to come from ``peer``.

    Raises
    ------
    MessageError
    """
    text = body.get("m")
    if not isinstance(text, str):
        raise MessageError("envelope carries no protocol message")
    message = decode(text.encode("ascii", "replace"))
    if message.sender != peer:
        raise MessageError(f"peer {peer} sent a message claiming to come from {message.sender}")
    return message


Handler = Callable[[int, str, dict[str, Any]], Awaitable[None]]


class NodeNetwork:
    """Dispatches envelopes from the transport; sends envelopes and protocol messages.

    Parameters
    ----------
    transport:
        A started :class:`~chainsig_mpc.node.transport.PeerTransport` (or anything with
        ``send(peer, bytes)`` and ``recv()``).
    me:
        This node's participant id.
    faults:
        Test-only misbehaviour applied to the protocols this node runs (none by default).
    """

    def __init__(self, transport: Any, me: int, faults: Faults = Faults()) -> None:
        self.transport = transport
        self.me = me
        self.faults = faults
        self.handlers: dict[str, Handler] = {}
        self._sessions: dict[str, asyncio.Queue[tuple[int, Message]]] = {}
        self._early: dict[str, list[tuple[float, int, Message]]] = {}
        self._early_count = 0
        self._replies: dict[str, asyncio.Queue[tuple[int, dict[str, Any]]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.dropped = 0

    # -- sending ----------------------------------------------------------------------------
    def send(self, peer: int, channel: str, tag: str, body: dict[str, Any]) -> None:
        """Queue an envelope for ``peer`` (errors are logged: a down peer is normal)."""
        try:
            self.transport.send(peer, encode_envelope(channel, tag, body))
        except (TransportError, ChainsigError) as exc:
            log.info("cannot send %s to peer %s: %s", channel, peer, exc)

    def send_message(self, channel: str, tag: str, message: Message, participants: tuple[int, ...]) -> None:
        """Send a protocol message to its recipient, or to every other participant."""
        body = {"m": message.encode().decode("ascii")}
        targets = [message.recipient] if message.recipient is not None else [
            p for p in participants if p != self.me]
        for peer in targets:
            if peer is not None and peer != self.me:
                self.send(peer, channel, tag, body)

    # -- receiving --------------------------------------------------------------------------
    async def run(self) -> None:
        """Receive and dispatch until cancelled."""
        while True:
            peer, data = await self.transport.recv()
            try:
                env = decode_envelope(data)
                await self._dispatch(peer, env)
            except (EnvelopeError, MessageError) as exc:
                self.dropped += 1
                log.info("dropped a message from peer %s: %s", peer, exc)

    async def _dispatch(self, peer: int, env: Envelope) -> None:
        channel, tag, body = env["c"], env["t"], env["b"]
        if channel == "round":
            message = message_of(peer, body)
            queue = self._sessions.get(tag)
            if queue is not None:
                queue.put_nowait((peer, message))
            else:
                self._buffer(tag, peer, message)
        elif channel == "reply":
            waiting = self._replies.get(tag)
            if waiting is not None:
                waiting.put_nowait((peer, body))
        elif channel in self.handlers:
            task = asyncio.get_running_loop().create_task(self._handle(channel, peer, tag, body))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            raise EnvelopeError(f"unknown channel {channel[:32]!r}")

    async def _handle(self, channel: str, peer: int, tag: str, body: dict[str, Any]) -> None:
        try:
            await self.handlers[channel](peer, tag, body)
        except ChainsigError as exc:
            log.info("%s from peer %s refused: %s", channel, peer, exc)
        except Exception:  # a handler bug must not stop the node; no secrets in this log
            log.exception("handler %s failed for a message from peer %s", channel, peer)

    def _buffer(self, tag: str, peer: int, message: Message) -> None:
        now = time.monotonic()
        if self._early_count >= EARLY_LIMIT:
            self._expire(now, force=True)
        self._early.setdefault(tag, []).append((now, peer, message))
        self._early_count += 1

    def _expire(self, now: float, force: bool = False) -> None:
        for tag in list(self._early):
            kept = [e for e in self._early[tag] if now - e[0] < EARLY_TTL]
            if force and kept:
                kept = kept[len(kept) // 2:]
            self._early_count -= len(self._early[tag]) - len(kept)
            if kept:
                self._early[tag] = kept
            else:
                del self._early[tag]

    # -- sessions -----------------------------------------------------------------------------
    def expect_replies(self, tag: str) -> asyncio.Queue[tuple[int, dict[str, Any]]]:
        """A queue receiving the ``reply`` envelopes of ``tag`` (close with :meth:`forget`)."""
        queue: asyncio.Queue[tuple[int, dict[str, Any]]] = asyncio.Queue()
        self._replies[tag] = queue
        return queue

    def forget(self, tag: str) -> None:
        """Stop routing replies of ``tag``."""
        self._replies.pop(tag, None)

    async def run_protocol(self, tag: str, protocol: RoundProtocol, timeout: float) -> Any:
        """Run ``protocol`` with its participants under session ``tag``.

        Returns
        -------
        The protocol's result.

        Raises
        ------
        ProtocolAbort
            The run aborted (culprits named by a check).
        ProtocolTimeout
            It did not finish within ``timeout`` (the silent participants are named).
        """
        queue: asyncio.Queue[tuple[int, Message]] = asyncio.Queue()
        self._sessions[tag] = queue
        self._expire(time.monotonic())
        for _, peer, message in self._early.pop(tag, []):
            self._early_count -= 1
            queue.put_nowait((peer, message))
        heard: set[int] = set()
        deadline = time.monotonic() + timeout
        self.faults.tamper_protocol(protocol)
        try:
            for message in protocol.start():
                self.send_message("round", tag, message, protocol.participants)
            while not protocol.done:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    silent = sorted(set(protocol.participants) - heard - {self.me})
                    raise ProtocolTimeout(f"session {tag} timed out", silent)
                try:
                    peer, message = await asyncio.wait_for(queue.get(), remaining)
                except TimeoutError:
                    continue
                heard.add(peer)
                try:
                    out = protocol.receive(message)
                except MessageError as exc:
                    log.info("session %s: refused a message from %s: %s", tag, peer, exc)
                    continue
                for reply in out:
                    self.send_message("round", tag, reply, protocol.participants)
            return protocol.result
        finally:
            del self._sessions[tag]
