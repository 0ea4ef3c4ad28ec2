"""In-memory message router for tests and benchmarks.

Every message travels as its wire bytes (encode → decode), so the same strict decoding runs as
over the network. An optional ``intercept`` hook lets adversarial tests drop, alter or
equivocate a message per recipient.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from typing import Any

from .errors import MessageError, ProtocolAbort
from .messages import Message
from .rounds import RoundProtocol

Intercept = Callable[[Message, int], Message | None]
"""``(message, recipient) -> message to deliver`` (or None to drop)."""


class InMemoryRouter:
    """Deliver messages between in-process parties until nothing is left to deliver.

    Parameters
    ----------
    parties:
        ``{participant id: protocol party}``.
    intercept:
        Optional per-delivery hook (see :data:`Intercept`).
    """

    def __init__(
        self, parties: Mapping[int, RoundProtocol], intercept: Intercept | None = None
    ) -> None:
        self.parties = dict(parties)
        self.intercept = intercept
        self.rejected: list[tuple[int, MessageError]] = []
        self.failures: dict[int, ProtocolAbort] = {}
        self.cpu_seconds: dict[int, float] = defaultdict(float)
        """CPU time each party spent in ``start``/``receive`` (for benchmarks)."""
        self._queue: deque[tuple[int, bytes]] = deque()

    def run(self) -> dict[int, Any]:
        """Start every party and deliver until quiet.

        Returns
        -------
        dict[int, Any]
            ``{id: result}`` of the parties that finished; aborted parties are in
            :attr:`failures`, refused messages in :attr:`rejected`.
        """
        self.start()
        while self.step():
            pass
        return self.results()

    def start(self) -> None:
        """Start every party (queue their first messages)."""
        for pid, party in self.parties.items():
            self._dispatch(pid, lambda p=party: p.start())

    def step(self) -> bool:
        """Deliver one queued message; False when the queue is empty."""
        if not self._queue:
            return False
        recipient, raw = self._queue.popleft()
        if recipient not in self.failures:
            party = self.parties[recipient]
            self._dispatch(recipient, lambda p=party, r=raw: p.receive(r))
        return True

    def results(self) -> dict[int, Any]:
        """``{id: result}`` of the parties that finished."""
        return {pid: p.result for pid, p in self.parties.items() if p.done}

    def inject(self, recipient: int, message: Message) -> None:
        """Queue a message (e.g. from an outsider) for one party."""
        self._queue.append((recipient, message.encode()))

    def _dispatch(self, pid: int, action: Callable[[], list[Message]]) -> None:
        begin = time.process_time()
        try:
            out = action()
        except ProtocolAbort as exc:
            self.failures[pid] = exc
            return
        except MessageError as exc:
            self.rejected.append((pid, exc))
            return
        finally:
            self.cpu_seconds[pid] += time.process_time() - begin
        for message in out:
            targets = (
                [message.recipient]
                if message.recipient is not None
                else [p for p in self.parties if p != message.sender]
            )
            for target in targets:
                if target not in self.parties:
                    continue
                delivered = self.intercept(message, target) if self.intercept else message
                if delivered is not None:
                    self._queue.append((target, delivered.encode()))
