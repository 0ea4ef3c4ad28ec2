"""Transport-agnostic round-based state machines: messages in → messages out.

A protocol is a fixed plan of rounds. In each round a set of senders either broadcasts one value
(followed by an echo round, §1) or sends one private value to each receiver. The engine checks
the envelope of every incoming message (session id, sender is a participant entitled to speak in
that round, recipient), buffers early messages, detects equivocation, and calls the protocol's
handler once a round is complete. A handler raises :class:`ProtocolAbort` to stop safely.

State is serializable: all secret randomness of a run is drawn from a 32-byte seed (a hash-based
DRBG), so the state is ``(parameters, seed, received messages)`` and restoring replays them.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from .broadcast import echo_body, equivocators, parse_echo, value_digest
from .errors import MessageError, ProtocolAbort, StateError
from .messages import Message, decode

STATE_VERSION = 1


@dataclass(frozen=True)
class Round:
    """One round of a plan.

    Parameters
    ----------
    name:
        Round name; the message kind is ``"<protocol>.<name>"``.
    broadcast:
        True: each sender broadcasts one value (echoed). False: each sender sends a private
        value to each receiver.
    senders / receivers:
        Participant ids that speak / listen in this round (for a broadcast, every participant
        listens and echoes).
    """

    name: str
    broadcast: bool
    senders: tuple[int, ...]
    receivers: tuple[int, ...]


Body = dict[str, Any]


class RoundProtocol(ABC):
    """Base class of DKG, reshare and presign runs."""

    protocol: ClassVar[str]

    def __init__(
        self, sid: bytes, me: int, participants: Sequence[int], seed: bytes | None
    ) -> None:
        if len(sid) != 32:
            raise StateError("session id must be 32 bytes")
        self.sid = sid
        self.me = me
        self.participants = tuple(sorted(participants))
        if me not in self.participants:
            raise StateError("this party is not a participant of the session")
        self._seed = seed if seed is not None else secrets.token_bytes(32)
        self._drbg_counter = 0
        self._rounds: list[Round] = []
        self._index = 0
        self._echoing = False
        self._produced = -1
        self._inbox: dict[str, dict[int, Body]] = {}
        self._log: list[bytes] = []
        self._started = False
        self.result: Any = None
        self.failure: ProtocolAbort | None = None

    # -- subclass interface -------------------------------------------------------------
    @abstractmethod
    def _plan(self) -> list[Round]:
        """The rounds of this run."""

    @abstractmethod
    def _outgoing(self, round_: Round) -> Body | dict[int, Body]:
        """This party's broadcast body, or ``{receiver: body}`` for a private round."""

    @abstractmethod
    def _on_round(self, round_: Round, received: dict[int, Body]) -> None:
        """Process a complete round; set :attr:`result` to finish early."""

    @abstractmethod
    def _params(self) -> dict[str, Any]:
        """JSON parameters that rebuild this party (secret inputs included)."""

    @classmethod
    @abstractmethod
    def _from_params(cls, params: dict[str, Any], seed: bytes) -> RoundProtocol:
        """Inverse of :meth:`_params`."""

    # -- public API ---------------------------------------------------------------------
    @property
    def done(self) -> bool:
        """Whether the run produced its result."""
        return self.result is not None

    def start(self) -> list[Message]:
        """The first messages of this party.

        Raises
        ------
        ProtocolAbort
        """
        if self._started:
            raise StateError("protocol already started")
        self._started = True
        self._rounds = self._plan()
        return self._advance()

    def receive(self, message: Message | bytes) -> list[Message]:
        """Take one incoming message; return the messages to send.

        Raises
        ------
        MessageError
            The message is refused (malformed, other session, non-participant, not expected);
            the state is unchanged.
        ProtocolAbort
            The run stopped; :attr:`failure` holds the same error.
        """
        if isinstance(message, bytes | bytearray):
            message = decode(bytes(message))
        if self.failure is not None:
            raise self.failure
        if not self._started:
            raise StateError("start() the protocol before delivering messages")
        if self.done:
            return []
        self._admit(message)
        return self._advance()

    def to_state(self) -> bytes:
        """Serialize the run (contains secrets: store it like a key share)."""
        state = {
            "v": STATE_VERSION,
            "protocol": self.protocol,
            "params": self._params(),
            "seed": self._seed.hex(),
            "inbox": [m.hex() for m in self._log],
        }
        return json.dumps(state, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_state(cls, data: bytes) -> RoundProtocol:
        """Restore a run from :meth:`to_state` (replays the received messages).

        Raises
        ------
        StateError
        """
        try:
            state = json.loads(data)
            if state["v"] != STATE_VERSION or state["protocol"] != cls.protocol:
                raise StateError("state is of another protocol or version")
            party = cls._from_params(state["params"], bytes.fromhex(state["seed"]))
            party.start()
            for raw in state["inbox"]:
                party.receive(bytes.fromhex(raw))
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, StateError):
                raise
            raise StateError("protocol state is malformed") from None
        return party

    # -- helpers for subclasses ---------------------------------------------------------
    def _random_scalar(self, order: int) -> int:
        """Next non-zero scalar of this run's DRBG (SHA-512 of seed and counter, reduced)."""
        while True:
            self._drbg_counter += 1
            digest = hashlib.sha512(
                b"chainsig-mpc/drbg/v1\x00" + self._seed + self._drbg_counter.to_bytes(8, "big")
            ).digest()
            k = int.from_bytes(digest, "big") % order
            if k:
                return k

    def _random_bytes(self) -> bytes:
        self._drbg_counter += 1
        return hashlib.sha256(
            b"chainsig-mpc/drbg-bytes/v1\x00" + self._seed + self._drbg_counter.to_bytes(8, "big")
        ).digest()

    @staticmethod
    def _each(received: Mapping[int, Body], parse: Callable[[int, Body], Any]) -> dict[int, Any]:
        """Parse every sender's body; a malformed body aborts naming its (authenticated) sender."""
        parsed, culprits = {}, []
        for sender, body in sorted(received.items()):
            try:
                parsed[sender] = parse(sender, body)
            except MessageError:
                culprits.append(sender)
        if culprits:
            raise ProtocolAbort("malformed or invalid protocol message", culprits)
        return parsed

    # -- engine -------------------------------------------------------------------------
    def _kind(self, name: str) -> str:
        return f"{self.protocol}.{name}"

    def _round_for(self, kind: str) -> tuple[Round, bool]:
        for round_ in self._rounds:
            if kind == self._kind(round_.name):
                return round_, False
            if round_.broadcast and kind == self._kind(round_.name) + ".echo":
                return round_, True
        raise MessageError(f"unexpected message kind {kind!r}")

    def _admit(self, message: Message) -> None:
        if message.sid != self.sid:
            raise MessageError("message belongs to another session")
        if message.sender not in self.participants:
            raise MessageError(f"message from non-participant {message.sender}")
        if message.sender == self.me:
            raise MessageError("message claims to come from this party")
        round_, is_echo = self._round_for(message.kind)
        allowed = self.participants if is_echo else round_.senders
        if message.sender not in allowed:
            raise MessageError(f"participant {message.sender} does not speak in {message.kind}")
        if round_.broadcast or is_echo:
            if message.recipient is not None:
                raise MessageError(f"{message.kind} must be a broadcast")
        elif message.recipient != self.me or self.me not in round_.receivers:
            raise MessageError(f"{message.kind} is not addressed to this party")
        box = self._inbox.setdefault(message.kind, {})
        previous = box.get(message.sender)
        if previous is not None:
            if previous == message.body:
                return  # a harmless duplicate
            self.failure = ProtocolAbort(
                f"participant sent two different {message.kind} messages", [message.sender]
            )
            raise self.failure
        box[message.sender] = message.body
        self._log.append(message.encode())

    def _expected(self, round_: Round, is_echo: bool) -> tuple[int, ...]:
        if is_echo:
            return self.participants
        if round_.broadcast or self.me in round_.receivers:
            return round_.senders
        return ()

    def _complete(self, kind: str, expected: tuple[int, ...]) -> bool:
        box = self._inbox.get(kind, {})
        return all(s in box for s in expected)

    def _advance(self) -> list[Message]:
        out: list[Message] = []
        try:
            while not self.done and self._index < len(self._rounds):
                round_ = self._rounds[self._index]
                kind = self._kind(round_.name)
                if self._produced < self._index:
                    self._produced = self._index
                    out.extend(self._emit(round_, kind))
                if not self._echoing:
                    if not self._complete(kind, self._expected(round_, False)):
                        break
                    if round_.broadcast:
                        self._echoing = True
                        body = echo_body(self.sid, kind, self._inbox.get(kind, {}))
                        self._inbox.setdefault(kind + ".echo", {})[self.me] = body
                        out.append(Message(kind + ".echo", self.sid, self.me, None, body))
                        continue
                elif not self._complete(kind + ".echo", self.participants):
                    break
                else:
                    self._check_echoes(round_, kind)
                self._echoing = False
                self._index += 1
                received = dict(self._inbox.get(kind, {}))
                self._on_round(round_, received)
        except ProtocolAbort as exc:
            self.failure = exc
            raise
        return out

    def _emit(self, round_: Round, kind: str) -> list[Message]:
        if self.me not in round_.senders:
            return []
        payload = self._outgoing(round_)
        if round_.broadcast:
            self._inbox.setdefault(kind, {})[self.me] = payload
            return [Message(kind, self.sid, self.me, None, payload)]
        out = []
        for receiver in round_.receivers:
            if receiver == self.me:
                self._inbox.setdefault(kind, {})[self.me] = payload[receiver]
            else:
                out.append(Message(kind, self.sid, self.me, receiver, payload[receiver]))
        return out

    def _check_echoes(self, round_: Round, kind: str) -> None:
        echoes = self._each(
            self._inbox[kind + ".echo"], lambda _s, body: parse_echo(body, round_.senders)
        )
        local = {s: value_digest(self.sid, kind, s, b) for s, b in self._inbox[kind].items()}
        culprits = equivocators(local, echoes)
        if culprits:
            raise ProtocolAbort(f"equivocation in broadcast {kind}", culprits)
