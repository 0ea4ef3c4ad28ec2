"""The node's book of sign requests seen on chain (its own view: what signers look up)."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Sequence

from ..protocols.signrequest import SignRequest
from ..node.indexer import SignRequestEvent

MAX_REMEMBERED = 50_000


class RequestBook:
    """Request id → :class:`SignRequestEvent`, with waiting for requests not indexed yet."""

    def __init__(self) -> None:
        self._events: OrderedDict[str, SignRequestEvent] = OrderedDict()
        self._seen_at: dict[str, float] = {}
        self._waiters: dict[str, asyncio.Event] = {}

    def add(self, event: SignRequestEvent) -> bool:
        """Remember an event; False if it was known already."""
        if event.request_id in self._events:
            return False
        self._events[event.request_id] = event
        self._seen_at[event.request_id] = time.monotonic()
        while len(self._events) > MAX_REMEMBERED:
            old, _ = self._events.popitem(last=False)
            self._seen_at.pop(old, None)
        waiter = self._waiters.pop(event.request_id, None)
        if waiter is not None:
            waiter.set()
        return True

    def get(self, request_id: str) -> SignRequestEvent | None:
        """The event, if indexed."""
        return self._events.get(request_id)

    def seen_at(self, request_id: str) -> float:
        """``time.monotonic()`` when the request was indexed."""
        return self._seen_at.get(request_id, time.monotonic())

    def lookup(self, request_id: str) -> SignRequest:
        """The protocols' ``RequestLookup`` (raises LookupError for an unknown request)."""
        event = self._events.get(request_id)
        if event is None:
            raise LookupError(request_id)
        return SignRequest(request_id, event.payload, event.tweak, event.random_value)

    async def wait(self, request_id: str, timeout: float) -> SignRequestEvent | None:
        """The event, waiting up to ``timeout`` s for the indexer to reach it."""
        if not isinstance(request_id, str) or not 0 < len(request_id) <= 128:
            return None
        if request_id in self._events:
            return self._events[request_id]
        waiter = self._waiters.setdefault(request_id, asyncio.Event())
        try:
            await asyncio.wait_for(waiter.wait(), timeout)
        except TimeoutError:
            self._waiters.pop(request_id, None)
            return None
        return self._events.get(request_id)


def coordinator_order(request_id: str, participants: Sequence[int]) -> list[int]:
    """Every node's agreed order of coordinators for a request: participants sorted by
    SHA-256(request id ‖ participant id). The first is tried first; the next take over after
    a delay if the request is still pending (its coordinator is down or has no material)."""
    def rank(pid: int) -> bytes:
        return hashlib.sha256(f"{request_id}\x00{pid}".encode()).digest()

    return sorted(participants, key=rank)
