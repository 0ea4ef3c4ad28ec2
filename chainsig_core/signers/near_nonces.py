"""Process-wide nonce and block-hash state of the NEAR contract signer.

A ``sign`` transaction needs a nonce above its access key's nonce on chain and the hash of a
recent block. near-kit fetches both per request (``view_access_key`` and ``block``), so a burst
of N requests — a Bitcoin spend signs one payload per input — began with N fetches of each, and
the requests then raced each other for the same nonces. This module keeps that state once per
process instead:

* **One in-flight fetch per key.** :class:`SharedFetch` runs at most one fetch at a time; every
  caller that arrives while it runs gets that fetch's result (or its error) instead of starting
  another. A burst of 16 fresh requests makes one ``view_access_key`` and one ``block`` call.
* **Local nonce allocation.** NEAR accepts any nonce above the key's on-chain nonce, so one
  fetched value is enough: :class:`KeyNonces` then hands out nonces locally, each exactly once,
  in increasing order. The counter only grows — a value fetched again or reported by the node in
  an ``InvalidNonce`` refusal is merged with ``max``, because nonces already handed out may still
  be on their way to the node.
* **Process-wide sharing across loops and threads.** The state lives in module-level registries
  keyed by RPC endpoint (and account and public key), guarded by :mod:`threading` locks, not by
  asyncio ones: the signer is used from several ``asyncio.run`` calls, from threads, and by
  several signer instances of one key. The fetch itself runs in the event loop of the caller
  that started it and is published through a :class:`concurrent.futures.Future`, which any
  other loop can await; if that caller is cancelled, a waiter takes over and fetches itself.

The signer decides *when* to resynchronise (``observed``/``invalidate``/``reset``,
``RecentBlock.expire``); see :mod:`chainsig_core.signers.near`. Nothing here talks to the
network: every fetch is a coroutine function the caller passes in.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from ..credentials import AccessKey

BLOCK_HASH_MAX_AGE = 30.0
"""Seconds a fetched ``final`` block hash is reused for new transactions (NEAR accepts one for
``transaction_validity_period`` blocks, a day on mainnet; an ``Expired`` answer refetches it)."""

T = TypeVar("T")


class FetchAbandoned(Exception):
    """The caller running a shared fetch was cancelled (or its event loop stopped) first."""


class SharedFetch(Generic[T]):
    """At most one fetch in flight; every concurrent caller gets its result (or its error).

    Callers may live in different threads and event loops (the signer is used from several
    ``asyncio.run`` calls, and from threads): the first caller runs ``fetch`` in its own loop
    and publishes the outcome through a ``concurrent.futures.Future``, which any loop can await.
    If that caller is cancelled, the others start over and one of them fetches.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inflight: concurrent.futures.Future[T] | None = None

    async def __call__(self, fetch: Callable[[], Awaitable[T]]) -> T:
        """Run ``fetch``, or join the one already in flight.

        Parameters
        ----------
        fetch:
            Makes the fetch; called only by the caller that leads (at most one at a time).

        Returns
        -------
        T
            The leader's result.

        Raises
        ------
        Exception
            Whatever the leader's ``fetch`` raised (a cancelled leader hands over instead).
        """
        while True:
            with self._lock:
                future = self._inflight
                leader = future is None
                if future is None:
                    future = self._inflight = concurrent.futures.Future()
            if not leader:
                try:
                    # shield: a waiter's own cancellation must not cancel the shared future
                    return await asyncio.shield(asyncio.wrap_future(future))
                except FetchAbandoned:
                    continue
            try:
                value = await fetch()
            except BaseException as exc:
                with self._lock:
                    self._inflight = None
                future.set_exception(exc if isinstance(exc, Exception) else FetchAbandoned())
                raise
            with self._lock:
                self._inflight = None
            future.set_result(value)
            return value


class KeyNonces:
    """The nonce of one access key at one RPC endpoint, shared by every signer of the process.

    NEAR accepts a transaction whose nonce is above the key's nonce on chain, so one fetch is
    enough for any number of transactions: nonces are then handed out locally, each once, in
    increasing order. The counter only ever grows — a value fetched or reported by the node is
    merged with ``max``, since nonces already handed out may still be on their way.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: int | None = None
        self._trusted = False
        self._fetch: SharedFetch[Any] = SharedFetch()
        self.fetches = 0
        """``view_access_key`` calls made for this key (metrics, tests)."""

    async def refresh(self, fetch: Callable[[], Awaitable[Any]]) -> Any:
        """Fetch the access key (joining a fetch already in flight) and merge its nonce.

        ``fetch`` returns near-kit's ``AccessKeyView`` (anything with a ``nonce``); so does this.
        """

        async def fetch_and_merge() -> Any:
            with self._lock:
                self.fetches += 1
            view = await fetch()
            with self._lock:
                self._last = view.nonce if self._last is None else max(self._last, view.nonce)
                self._trusted = True
            return view

        return await self._fetch(fetch_and_merge)

    async def reserve(self, fetch: Callable[[], Awaitable[Any]]) -> int:
        """A nonce nobody else in this process has been given (fetching first when the counter
        is not trusted: never fetched, or invalidated)."""
        while True:
            with self._lock:
                if self._trusted and self._last is not None:
                    self._last += 1
                    return self._last
            await self.refresh(fetch)

    def observed(self, ak_nonce: int) -> None:
        """The node refused a nonce and reported the key's current one."""
        with self._lock:
            self._last = ak_nonce if self._last is None else max(self._last, ak_nonce)

    def invalidate(self) -> None:
        """The node refused a nonce without saying why: the next reservation fetches again."""
        with self._lock:
            self._trusted = False

    def reset(self) -> None:
        """Forget the counter (``NonceTooLarge``: the chain behind the endpoint was replaced)."""
        with self._lock:
            self._last = None
            self._trusted = False


class RecentBlock:
    """The ``final`` block hash new transactions of one RPC endpoint reference, fetched once
    for a burst and reused for :data:`BLOCK_HASH_MAX_AGE` seconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hash: str | None = None
        self._at = 0.0
        self._fetch: SharedFetch[str] = SharedFetch()

    async def get(self, fetch: Callable[[], Awaitable[str]]) -> str:
        """The cached hash while it is young enough, else ``fetch``'s (one shared fetch)."""
        with self._lock:
            if self._hash is not None and time.monotonic() - self._at < BLOCK_HASH_MAX_AGE:
                return self._hash

        async def fetch_and_keep() -> str:
            block_hash = await fetch()
            with self._lock:
                self._hash, self._at = block_hash, time.monotonic()
            return block_hash

        return await self._fetch(fetch_and_keep)

    def expire(self) -> None:
        """The node refused the hash (``Expired``, ``InvalidChain``): the next ``get`` fetches."""
        with self._lock:
            self._hash = None


_shared_lock = threading.Lock()
_key_nonces: dict[tuple[str, str, str], KeyNonces] = {}
_recent_blocks: dict[str, RecentBlock] = {}


def nonces_of(rpc_url: str, key: AccessKey) -> KeyNonces:
    """The process-wide nonce state of ``key`` at ``rpc_url`` (made on first use).

    Parameters
    ----------
    rpc_url:
        The endpoint: another endpoint may serve another chain, with other nonces.
    key:
        The access key; its account and public key name the state.

    Returns
    -------
    KeyNonces
        The same object for every caller of the process.
    """
    name = (rpc_url, key.account_id, key.public_key.to_near_string())
    with _shared_lock:
        if name not in _key_nonces:
            _key_nonces[name] = KeyNonces()
        return _key_nonces[name]


def recent_block_of(rpc_url: str) -> RecentBlock:
    """The process-wide recent block hash of ``rpc_url`` (made on first use)."""
    with _shared_lock:
        if rpc_url not in _recent_blocks:
            _recent_blocks[rpc_url] = RecentBlock()
        return _recent_blocks[rpc_url]
