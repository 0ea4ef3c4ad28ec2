"""Peer-to-peer messages between MPC nodes over mutually authenticated TLS (asyncio).

Each node listens for its peers and dials every other participant. A connection carries one
direction of traffic: the dialling node *sends* on it, the accepting node *receives* and
acknowledges. So each ordered pair of nodes has one TLS connection, ordering per peer is the
connection's order, and the side that has something to say owns the reconnect.

Delivery: each sender process numbers its messages per peer (1, 2, …) under a random stream id.
Messages stay queued until the receiver acknowledges them, and are sent again after a reconnect;
the receiver drops the duplicates. While both processes live, every message arrives exactly
once and in order. A process restart loses what was only in its memory — the protocols handle
that with session timeouts and retries.

Identity: a peer is accepted only if its certificate's key is one of the participants'
``tls_public_key`` (read from the given callable at each handshake, so it follows the contract);
a dialled peer must present exactly the key listed for it. What a peer claims is never used.

Example::

    transport = PeerTransport(identity, my_id, participants, "127.0.0.1", 0)
    await transport.start()
    transport.send(2, b"round-1 message")
    peer_id, data = await transport.recv()
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from chainsig_core.errors import InvalidInputError, InvalidKeyError
from chainsig_core.keys import Curve, PublicKey

from . import framing
from .errors import (
    FrameError,
    PeerRefusedError,
    QueueFullError,
    TransportError,
    UnknownPeerError,
)
from .identity import NodeIdentity
from .tls import TlsStream, client_connection, make_context, server_connection

log = logging.getLogger(__name__)

_WRITE_BATCH_BYTES = 256 * 1024

DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024
"""Largest message a peer may send (a frame announcing more closes the connection)."""


@dataclass(frozen=True)
class Peer:
    """A participant as the contract lists it.

    Parameters
    ----------
    peer_id:
        The participant id.
    host, port:
        Where it listens for peers.
    tls_public_key:
        Its ``tls_public_key`` (ed25519).
    """

    peer_id: int
    host: str
    port: int
    tls_public_key: PublicKey

    def __post_init__(self) -> None:
        if self.tls_public_key.curve is not Curve.ED25519:
            raise InvalidKeyError("a participant's tls_public_key must be an ed25519 key")
        if not 0 < self.port < 65536:
            raise InvalidInputError(f"participant {self.peer_id}: port {self.port} is out of range")

    @classmethod
    def from_participant(cls, peer_id: int, url: str, tls_public_key: str) -> Peer:
        """Build a peer from the contract's participant fields (``url`` like
        ``https://node1.example:3000``; the scheme is ignored, the port is required).

        Raises
        ------
        InvalidInputError, InvalidKeyError
        """
        parts = urlsplit(url if "://" in url else f"tls://{url}")
        try:
            port = parts.port
        except ValueError:
            port = None
        if not parts.hostname or port is None:
            raise InvalidInputError(f"participant {peer_id}: url {url!r} needs a host and a port")
        return cls(peer_id, parts.hostname, port, PublicKey.from_near_string(tls_public_key))


Participants = Callable[[], Mapping[int, Peer]]
"""Returns the current participants by id (this node included)."""


@dataclass
class _Outbound:
    """Messages to one peer: waiting to be written, and written but not yet acknowledged."""

    pending: deque[tuple[int, bytes]] = field(default_factory=deque)
    unacked: deque[tuple[int, bytes]] = field(default_factory=deque)
    next_seq: int = 1
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)

    def __len__(self) -> int:
        return len(self.pending) + len(self.unacked)

    def rewind(self) -> None:
        """After a reconnect: send everything unacknowledged again, in order."""
        self.pending.extendleft(reversed(self.unacked))
        self.unacked.clear()

    def acknowledge(self, seq: int) -> None:
        while self.unacked and self.unacked[0][0] <= seq:
            self.unacked.popleft()


class PeerTransport:
    """Messages to and from the other participants.

    Parameters
    ----------
    identity:
        This node's TLS identity; its key must be this node's ``tls_public_key``.
    node_id:
        This node's participant id.
    participants:
        The current participants (see :data:`Participants`); consulted at every handshake and
        by :meth:`refresh`.
    listen_host, listen_port:
        Where to accept peers (port 0: any free port, see :attr:`listen_port`).
    max_message_bytes:
        The hard bound on one message, both directions.
    max_queued:
        Messages that may wait for one peer before :meth:`send` refuses more.
    inbox_size:
        Received messages buffered before readers stop reading their sockets (back-pressure).
    backoff_initial, backoff_max:
        Reconnect delay: doubles from the first to the second (seconds), with jitter.
    handshake_timeout:
        Seconds a peer has to complete TLS and its HELLO.
    """

    def __init__(
        self,
        identity: NodeIdentity,
        node_id: int,
        participants: Participants,
        listen_host: str = "127.0.0.1",
        listen_port: int = 0,
        *,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        max_queued: int = 10_000,
        inbox_size: int = 10_000,
        backoff_initial: float = 0.05,
        backoff_max: float = 5.0,
        handshake_timeout: float = 10.0,
    ) -> None:
        self.identity = identity
        self.node_id = node_id
        self._participants = participants
        self._listen = (listen_host, listen_port)
        self.max_message_bytes = max_message_bytes
        self._max_body = max_message_bytes + framing.DATA_OVERHEAD
        self._max_queued = max_queued
        self._backoff = (backoff_initial, backoff_max)
        self._handshake_timeout = handshake_timeout
        self._inbox: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue(inbox_size)
        self._stream_id = os.urandom(framing.STREAM_ID_BYTES)
        self._outbound: dict[int, _Outbound] = {}
        self._dialers: dict[int, asyncio.Task[None]] = {}
        self._incoming: dict[int, TlsStream] = {}
        self._streams: set[TlsStream] = set()
        self._current: set[int] = set()
        self._received: dict[int, tuple[bytes, int | None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.base_events.Server | None = None
        self._closed = False
        self.connected: set[int] = set()
        """Peers with an established outgoing connection."""
        self.refused = 0
        """Connections refused (unknown key, failed TLS, bad frames) since start."""
        allowed = lambda: [p.tls_public_key for p in self._peers().values()]  # noqa: E731
        self._server_context = make_context(identity, allowed, server=True)
        self._client_context = make_context(identity, allowed, server=False)

    # -- public API ---------------------------------------------------------------------------

    @property
    def listen_port(self) -> int:
        """The port actually bound (after :meth:`start`)."""
        if self._server is None or not self._server.sockets:
            raise TransportError("the transport is not listening")
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        """Listen for peers and start dialling every other participant.

        Raises
        ------
        TransportError
            If the listen address cannot be bound.
        """
        try:
            self._server = await asyncio.start_server(self._accept, *self._listen)
        except OSError as exc:
            raise TransportError(f"cannot listen on {self._listen[0]}:{self._listen[1]}: {exc.strerror}") from None
        self.refresh()

    def refresh(self) -> None:
        """Follow a change of participants: dial new ones, drop the ones that left."""
        if self._closed:
            return
        peers = self._peers()
        self._current = set(peers)
        for peer_id in peers:
            if peer_id not in self._dialers or self._dialers[peer_id].done():
                self._outbound.setdefault(peer_id, _Outbound())
                self._dialers[peer_id] = self._spawn(self._dial_loop(peer_id))
        for peer_id in list(self._dialers):
            if peer_id not in peers:
                self._dialers.pop(peer_id).cancel()
                self._outbound.pop(peer_id, None)
                self.connected.discard(peer_id)
        for peer_id in list(self._incoming):
            if peer_id not in peers:
                self._spawn(self._incoming.pop(peer_id).close())

    def send(self, peer_id: int, data: bytes) -> None:
        """Queue ``data`` for ``peer_id`` (delivered in order; this node's own id loops back).

        Raises
        ------
        UnknownPeerError
            If ``peer_id`` is not a current participant.
        InvalidInputError
            If ``data`` is not bytes or exceeds :attr:`max_message_bytes`.
        QueueFullError
            If too many messages to that peer are still waiting.
        """
        if not isinstance(data, bytes | bytearray):
            raise InvalidInputError("a peer message must be bytes")
        if len(data) > self.max_message_bytes:
            raise InvalidInputError(f"message of {len(data)} bytes exceeds the bound of {self.max_message_bytes}")
        if self._closed:
            raise TransportError("the transport is closed")
        if peer_id == self.node_id:
            try:
                self._inbox.put_nowait((peer_id, bytes(data)))
            except asyncio.QueueFull:
                raise QueueFullError("this node's inbox is full") from None
            return
        outbound = self._outbound.get(peer_id)
        if outbound is None or peer_id not in self._peers():
            raise UnknownPeerError(f"peer {peer_id} is not a current participant")
        if len(outbound) >= self._max_queued:
            raise QueueFullError(f"{len(outbound)} messages to peer {peer_id} are waiting; refusing more")
        outbound.pending.append((outbound.next_seq, bytes(data)))
        outbound.next_seq += 1
        outbound.wakeup.set()

    async def recv(self) -> tuple[int, bytes]:
        """The next message from any peer: ``(peer_id, data)``."""
        return await self._inbox.get()

    def __aiter__(self) -> PeerTransport:
        return self

    async def __anext__(self) -> tuple[int, bytes]:
        return await self.recv()

    def queued(self, peer_id: int) -> int:
        """Messages to ``peer_id`` not yet acknowledged."""
        outbound = self._outbound.get(peer_id)
        return len(outbound) if outbound else 0

    async def close(self) -> None:
        """Stop listening, close every connection and stop every task."""
        self._closed = True
        if self._server is not None:
            self._server.close()
        for stream in list(self._streams):
            await stream.close()
        while self._tasks:
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            _done, stuck = await asyncio.wait(tasks, timeout=2.0)
            for stream in list(self._streams):
                stream.abort()
            if stuck:
                await asyncio.wait(stuck, timeout=2.0)
                self._tasks.difference_update(stuck)
        self.connected.clear()

    async def __aenter__(self) -> PeerTransport:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- sending ------------------------------------------------------------------------------

    def _peers(self) -> dict[int, Peer]:
        return {pid: p for pid, p in self._participants().items() if pid != self.node_id}

    def _spawn(self, coroutine: object) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coroutine)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _dial_loop(self, peer_id: int) -> None:
        delay = self._backoff[0]
        while not self._closed:
            peer = self._peers().get(peer_id)
            if peer is None:
                return
            stream: TlsStream | None = None
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(peer.host, peer.port), self._handshake_timeout
                )
                stream = TlsStream(client_connection(self._client_context, peer.tls_public_key), reader, writer)
                self._streams.add(stream)
                await asyncio.wait_for(stream.handshake(), self._handshake_timeout)
                await stream.write(framing.encode_hello(self._stream_id))
                self.connected.add(peer_id)
                log.info("connected to peer %s at %s:%s", peer_id, peer.host, peer.port)
                delay = self._backoff[0]
                await self._send_loop(peer_id, stream)
            except PeerRefusedError as exc:
                self.refused += 1
                log.warning("peer %s at %s:%s refused: %s", peer_id, peer.host, peer.port, exc)
            except (OSError, TransportError, asyncio.TimeoutError) as exc:
                log.info("connection to peer %s lost: %s", peer_id, exc or type(exc).__name__)
            finally:
                self.connected.discard(peer_id)
                if stream is not None:
                    self._streams.discard(stream)
                    await stream.close()
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))  # jitter: not a CSPRNG need
            delay = min(delay * 2, self._backoff[1])

    async def _send_loop(self, peer_id: int, stream: TlsStream) -> None:
        outbound = self._outbound[peer_id]
        outbound.rewind()
        acks = asyncio.ensure_future(self._read_acks(outbound, stream))
        waiter: asyncio.Future[bool] | None = None
        try:
            while True:
                while outbound.pending and not acks.done():
                    # Coalesce what is waiting into one TLS write (one record, one syscall).
                    batch, size = [], 0
                    while outbound.pending and size < _WRITE_BATCH_BYTES:
                        seq, payload = outbound.pending.popleft()
                        outbound.unacked.append((seq, payload))
                        batch.append(framing.encode_data(seq, payload))
                        size += len(payload)
                    await stream.write(b"".join(batch))
                outbound.wakeup.clear()
                if acks.done():
                    acks.result()  # raise what ended the connection
                    raise TransportError("peer closed the connection")
                waiter = asyncio.ensure_future(outbound.wakeup.wait())
                await asyncio.wait({acks, waiter}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
        finally:
            if waiter is not None:
                waiter.cancel()
            acks.cancel()
            await asyncio.wait([acks])  # let it finish without re-raising its outcome here
            if not acks.cancelled():
                acks.exception()  # retrieved: no "exception never retrieved" warning

    async def _read_acks(self, outbound: _Outbound, stream: TlsStream) -> None:
        while True:
            frame = await framing.read_frame(stream, framing.DATA_OVERHEAD)
            if frame is None:
                return
            if frame.kind != framing.ACK:
                raise FrameError("peer sent a non-ACK frame on a sending connection")
            outbound.acknowledge(frame.seq)

    # -- receiving ----------------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        stream = TlsStream(server_connection(self._server_context), reader, writer)
        self._streams.add(stream)
        peer_id: int | None = None
        task = asyncio.current_task()
        if task is not None:  # so close() stops connection handlers too
            self._tasks.add(task)  # type: ignore[arg-type]
            task.add_done_callback(self._tasks.discard)
        try:
            if self._closed:
                return
            key = await asyncio.wait_for(stream.handshake(), self._handshake_timeout)
            peer_id = next((pid for pid, p in self._peers().items() if p.tls_public_key == key), None)
            if peer_id is None:
                raise PeerRefusedError(f"key {key} is not a participant's")
            if peer_id not in self._current:
                self.refresh()  # the participant set grew since the last refresh: dial back too
            hello = await asyncio.wait_for(framing.read_frame(stream, self._max_body), self._handshake_timeout)
            if hello is None or hello.kind != framing.HELLO:
                raise FrameError("the first frame must be HELLO")
            previous = self._incoming.pop(peer_id, None)
            if previous is not None:
                await previous.close()
            self._incoming[peer_id] = stream
            await self._receive_loop(peer_id, hello.stream_id, stream)
        except PeerRefusedError as exc:
            self.refused += 1
            log.warning("refused peer connection from %s: %s", stream.peer_address, exc)
        except FrameError as exc:
            self.refused += 1
            log.warning("closed connection from peer %s: %s", peer_id, exc)
        except (OSError, TransportError, asyncio.TimeoutError) as exc:
            log.info("connection from peer %s ended: %s", peer_id, exc or type(exc).__name__)
        except asyncio.CancelledError:
            # close() stops handlers; end quietly (asyncio's server callback would otherwise
            # report a cancelled handler as an error on Python 3.11)
            pass
        finally:
            if peer_id is not None and self._incoming.get(peer_id) is stream:
                del self._incoming[peer_id]
            self._streams.discard(stream)
            await stream.close()

    async def _receive_loop(self, peer_id: int, stream_id: bytes, stream: TlsStream) -> None:
        known_stream, last = self._received.get(peer_id, (b"", None))
        if known_stream != stream_id:
            last = None  # the sender restarted (or we did): its numbering starts afresh
        while True:
            frame = await framing.read_frame(stream, self._max_body)
            if frame is None:
                return
            if frame.kind != framing.DATA:
                raise FrameError("peer sent a non-DATA frame on a receiving connection")
            if peer_id not in self._current:  # left the participant set since it connected
                raise PeerRefusedError(f"peer {peer_id} is no longer a participant")
            if last is not None and frame.seq <= last:
                await stream.write(framing.encode_ack(frame.seq))  # a resend we already have
                continue
            if last is not None and frame.seq != last + 1:
                raise FrameError(f"message {frame.seq} from peer {peer_id} skips {last + 1}")
            await self._inbox.put((peer_id, frame.payload))
            last = frame.seq
            self._received[peer_id] = (stream_id, last)
            if not stream.buffered:  # acknowledge cumulatively once the burst is read
                await stream.write(framing.encode_ack(last))
