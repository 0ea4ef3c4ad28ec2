"""Follow the signer contract through standard NEAR JSON-RPC (``block``, then ``chunk``).

For every final block after the last one processed: fetch ``block`` by height (a height with no
block — NEAR skips some — answers ``UNKNOWN_BLOCK`` and is passed over), then ``chunk`` for each
chunk *included in that block* (a shard whose chunk is missing repeats an older chunk header,
``height_included`` < the block's height, which is not fetched twice). In each chunk's
``receipts``, an ``Action`` receipt to the contract with a ``FunctionCall`` ``sign`` is a
:class:`SignRequestEvent` — the tweak from the receipt's ``predecessor_id`` and the ``path``
argument, the entropy from the block header's ``random_value`` — and a ``respond`` is a
:class:`RespondEvent`. A :class:`BlockEvent` follows each processed block so a
:class:`RequestTracker` can expire requests after the contract's 200-block timeout.

RPC errors never skip a block: the same height is retried with exponential back-off. Works the
same against real NEAR and the devnet host (which serves the same shapes).

A ``sign`` receipt seen is not proof that the contract accepted it (the call can still panic);
:meth:`ContractIndexer.is_pending` asks the contract's ``get_pending_request`` view. A caller
waits on that answer, so a failing view is retried only briefly (:data:`VIEW_ATTEMPTS` tries,
back-off from :data:`VIEW_RETRY_DELAY`) before its :class:`IndexerError` reaches the caller.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import base58

from chainsig_core import kdf
from chainsig_core.errors import ChainsigError

from .errors import IndexerError

log = logging.getLogger(__name__)

YIELD_TIMEOUT_BLOCKS = 200
"""Blocks after which the contract answers a pending request "Request has timed out."."""

VIEW_ATTEMPTS = 3
"""Tries of a view call (:meth:`ContractIndexer.is_pending`) before its error is raised."""
VIEW_RETRY_DELAY = 0.1
"""Seconds before the second try of a view, doubled before each further one (0.1 + 0.2 s of
back-off in all with 3 tries)."""

_SEEN_RECEIPTS = 100_000


@dataclass(frozen=True)
class SignRequestEvent:
    """A ``sign`` call to the contract as the indexer found it.

    ``request_id`` is the receipt id of the call. ``tweak`` is
    ``chainsig_core.kdf.tweak(predecessor, path)``; ``random_value`` is the 32 bytes of the
    including block's header ``random_value``.
    """

    request_id: str
    predecessor: str
    path: str
    payload_kind: str
    payload: bytes
    domain_id: int
    block_height: int
    block_hash: str
    random_value: bytes
    tweak: bytes
    args: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def request_key(self) -> tuple[int, str, str, str]:
        """What identifies the request in the contract (identical requests share it)."""
        return (self.domain_id, self.payload_kind, self.payload.hex(), self.tweak.hex())

    @property
    def timeout_height(self) -> int:
        """The first height at which the contract has timed the request out."""
        return self.block_height + YIELD_TIMEOUT_BLOCKS

    def signature_request(self) -> dict[str, Any]:
        """The ``SignatureRequest`` JSON that ``respond`` and ``get_pending_request`` take."""
        return {
            "domain_id": self.domain_id,
            "payload": {self.payload_kind: self.payload.hex()},
            "tweak": self.tweak.hex(),
        }


@dataclass(frozen=True)
class RespondEvent:
    """A ``respond`` call to the contract (a node answered a request)."""

    receipt_id: str
    responder: str
    request_key: tuple[int, str, str, str]
    response: Mapping[str, Any] = field(repr=False, compare=False)
    block_height: int = 0
    block_hash: str = ""


@dataclass(frozen=True)
class BlockEvent:
    """A final block was processed (emitted after its sign/respond events)."""

    height: int
    hash: str
    random_value: bytes


IndexerEvent = SignRequestEvent | RespondEvent | BlockEvent


class ContractIndexer:
    """Follows one contract on one NEAR RPC endpoint.

    Parameters
    ----------
    rpc_url:
        NEAR JSON-RPC endpoint.
    contract_id:
        The signer contract.
    start_height:
        Process blocks after this height; ``None``: start ``lookback`` blocks before the
        current final block.
    lookback:
        With ``start_height=None``, how many final blocks before the current one to process
        too (0: only new requests). A node that (re)starts uses the contract's
        :data:`YIELD_TIMEOUT_BLOCKS` so it sees every request that may still be pending.
    poll_interval:
        Seconds between polls once caught up.
    max_backoff:
        Longest wait between retries of a failing RPC call (seconds).
    rpc_timeout:
        Seconds for one RPC call.
    """

    def __init__(
        self,
        rpc_url: str,
        contract_id: str,
        *,
        start_height: int | None = None,
        lookback: int = 0,
        poll_interval: float = 0.5,
        max_backoff: float = 10.0,
        rpc_timeout: float = 10.0,
    ) -> None:
        from near.rpc import AsyncRpcTransport

        self.rpc_url = rpc_url
        self.endpoint = endpoint_of(rpc_url)
        """The endpoint as logs and messages show it (the URL may carry an API key)."""
        self.contract_id = contract_id
        if lookback < 0:
            raise ValueError("lookback must be >= 0")
        self.last_height = start_height
        self.lookback = lookback
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff
        self.rpc_errors = 0
        """RPC calls that failed (including view tries whose error reached the caller)."""
        self._rpc = AsyncRpcTransport(rpc_url, timeout=rpc_timeout, retries=0)
        self._seen: OrderedDict[str, None] = OrderedDict()

    async def events(self) -> AsyncIterator[IndexerEvent]:
        """Every event from the start height on, forever (RPC errors are retried)."""
        while True:
            produced = False
            async for event in self.catch_up():
                produced = True
                yield event
            if not produced:
                await asyncio.sleep(self.poll_interval)

    async def catch_up(self) -> AsyncIterator[IndexerEvent]:
        """The events of every final block after :attr:`last_height` up to the current final
        block (retrying failed calls), then stop."""
        final = await self._retrying(self._final_height)
        if self.last_height is None:
            self.last_height = max(final - self.lookback, 0)  # heights before genesis are skipped
        while self.last_height < final:
            height = self.last_height + 1
            block = await self._retrying(lambda h=height: self._block_at(h))
            if block is not None:
                for event in await self._retrying(lambda b=block: self._block_events(b)):
                    yield event
            self.last_height = height

    async def is_pending(self, event: SignRequestEvent) -> bool:
        """Whether the contract still waits for an answer to ``event`` (``get_pending_request``).

        A failed RPC call is tried again, :data:`VIEW_ATTEMPTS` times in all with a short
        back-off (each try is bounded by ``rpc_timeout``).

        Raises
        ------
        IndexerError
            If the last try fails too (unreachable, timed out, any JSON-RPC error — the
            contract's refusal of the view included), or the answer carries a view error or
            has an unexpected shape (not retried: the same question gets the same answer).
        """
        args = json.dumps({"request": event.signature_request()}).encode()
        result = await self._call_view({
            "request_type": "call_function", "finality": "final", "account_id": self.contract_id,
            "method_name": "get_pending_request", "args_base64": base64.b64encode(args).decode(),
        })
        if isinstance(result, Mapping) and result.get("error"):
            raise IndexerError(f"get_pending_request failed: {_one_line(result['error'])}")
        try:
            value = json.loads(bytes(result["result"]))
        except (KeyError, TypeError, ValueError):
            raise IndexerError("get_pending_request returned an unexpected shape") from None
        return value is not None

    async def _call_view(self, params: dict[str, Any]) -> Any:
        delay = VIEW_RETRY_DELAY
        attempt = 1
        while True:
            try:
                return await self._call("query", params)
            except _Unknown:
                error = IndexerError("the RPC node does not know the final block")
            except IndexerError as exc:
                error = exc
            self.rpc_errors += 1
            if attempt >= VIEW_ATTEMPTS:
                raise error
            log.warning("NEAR RPC %s: %s; view retry %d of %d in %.1f s",
                        self.endpoint, error, attempt, VIEW_ATTEMPTS - 1, delay)
            await asyncio.sleep(delay)
            delay *= 2
            attempt += 1

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._rpc.aclose()

    # -- RPC ------------------------------------------------------------------------------

    async def _retrying(self, call: Any) -> Any:
        delay = min(0.1, self.max_backoff)
        while True:
            try:
                return await call()
            except IndexerError as exc:
                self.rpc_errors += 1
                log.warning("NEAR RPC %s: %s; retrying in %.1f s", self.endpoint, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff)

    async def _call(self, method: str, params: Any) -> Any:
        import near

        try:
            return await self._rpc.call(method, params)
        except near.RpcError as exc:
            code = getattr(exc, "code", None)
            if code in ("UNKNOWN_BLOCK", "UNKNOWN_CHUNK"):
                raise _Unknown(code) from None
            raise IndexerError(f"{method} failed: {self._scrub(exc)}") from None
        except near.NearError as exc:
            raise IndexerError(f"{method} failed: {self._scrub(exc)}") from None
        except Exception as exc:  # httpx, malformed JSON: the endpoint is unusable right now
            raise IndexerError(f"{method} failed: {type(exc).__name__}: {self._scrub(exc)}") from None

    def _scrub(self, exc: BaseException) -> str:
        # near-kit names the full URL in some messages ("Non-JSON response from <url>").
        return _one_line(str(exc).replace(self.rpc_url, self.endpoint))

    async def _final_height(self) -> int:
        try:
            block = await self._call("block", {"finality": "final"})
        except _Unknown:  # a node still syncing has no final block yet
            raise IndexerError("the RPC node has no final block yet") from None
        return _header(block)[0]

    async def _block_at(self, height: int) -> Mapping[str, Any] | None:
        try:
            block = await self._call("block", {"block_id": height})
        except _Unknown:
            return None  # NEAR produced no block at this height
        if _header(block)[0] != height:
            raise IndexerError(f"asked for block {height}, got block {_header(block)[0]}")
        return block

    async def _block_events(self, block: Mapping[str, Any]) -> list[IndexerEvent]:
        height, block_hash, random_value = _header(block)
        receipts: list[Any] = []
        for chunk_header in block.get("chunks") or []:
            if not isinstance(chunk_header, Mapping) or chunk_header.get("height_included") != height:
                continue  # no new chunk for this shard in this block
            try:
                chunk = await self._call("chunk", {"chunk_id": chunk_header.get("chunk_hash")})
            except _Unknown:
                raise IndexerError(f"chunk {chunk_header.get('chunk_hash')} of block {height} is unknown") from None
            if not isinstance(chunk, Mapping) or not isinstance(chunk.get("receipts", []), list):
                raise IndexerError(f"chunk {chunk_header.get('chunk_hash')} has an unexpected shape")
            receipts.extend(chunk.get("receipts", []))
        # Every chunk fetched: only now turn receipts into events (a failed fetch retries the
        # whole block without having marked any receipt as seen).
        events: list[IndexerEvent] = []
        for receipt in receipts:
            events.extend(self._receipt_events(receipt, height, block_hash, random_value))
        events.append(BlockEvent(height, block_hash, random_value))
        return events

    # -- receipts -----------------------------------------------------------------------------

    def _receipt_events(self, receipt: Any, height: int, block_hash: str, random_value: bytes) -> list[IndexerEvent]:
        if not isinstance(receipt, Mapping) or receipt.get("receiver_id") != self.contract_id:
            return []
        action = (receipt.get("receipt") or {}).get("Action") if isinstance(receipt.get("receipt"), Mapping) else None
        receipt_id = receipt.get("receipt_id")
        if not isinstance(action, Mapping) or not isinstance(receipt_id, str) or receipt_id in self._seen:
            return []
        self._remember(receipt_id)
        predecessor = receipt.get("predecessor_id")
        events: list[IndexerEvent] = []
        for item in action.get("actions") or []:
            call = item.get("FunctionCall") if isinstance(item, Mapping) else None  # "CreateAccount" is a bare string
            if not isinstance(call, Mapping) or call.get("method_name") not in ("sign", "respond"):
                continue
            try:
                args = json.loads(base64.b64decode(call.get("args", ""), validate=True))
                if call["method_name"] == "sign":
                    events.append(_sign_event(receipt_id, predecessor, args, height, block_hash, random_value))
                else:
                    events.append(_respond_event(receipt_id, predecessor, args, height, block_hash))
            except (ValueError, TypeError, KeyError, AttributeError, ChainsigError) as exc:
                # The contract refuses such a call itself; a node only notes it.
                log.info("ignoring malformed %s call in receipt %s at height %d: %s",
                         call.get("method_name"), receipt_id, height, _one_line(exc))
        return events

    def _remember(self, receipt_id: str) -> None:
        self._seen[receipt_id] = None
        if len(self._seen) > _SEEN_RECEIPTS:
            self._seen.popitem(last=False)


class _Unknown(Exception):
    """The RPC does not know the block or chunk asked for."""


def _header(block: Any) -> tuple[int, str, bytes]:
    try:
        header = block["header"]
        height, block_hash = int(header["height"]), str(header["hash"])
        random_value = base58.b58decode(header["random_value"])
    except (KeyError, TypeError, ValueError):
        raise IndexerError("block has no header with height, hash and random_value") from None
    if len(random_value) != 32:
        raise IndexerError(f"block {height} has a random_value of {len(random_value)} bytes, not 32")
    return height, block_hash, random_value


def _sign_event(receipt_id: str, predecessor: Any, args: Any, height: int, block_hash: str,
                random_value: bytes) -> SignRequestEvent:
    from .signargs import parse_sign_request

    path, kind, payload, domain_id = parse_sign_request(args)
    if not isinstance(predecessor, str):
        raise ValueError("receipt has no predecessor_id")
    tweak = kdf.tweak(predecessor, path)
    return SignRequestEvent(receipt_id, predecessor, path, kind, payload, domain_id, height,
                            block_hash, random_value, tweak, args)


def _respond_event(receipt_id: str, predecessor: Any, args: Any, height: int, block_hash: str) -> RespondEvent:
    from .signargs import parse_signature_request

    request = parse_signature_request(args["request"])
    response = args["response"]
    if not isinstance(response, Mapping):
        raise ValueError("response must be an object")
    return RespondEvent(receipt_id, str(predecessor), request, response, height, block_hash)


def _one_line(exc: object) -> str:
    return " ".join(str(exc).split())[:300]


def endpoint_of(rpc_url: str) -> str:
    """``scheme://host[:port]`` of an RPC URL, for messages and logs: without user info, path,
    query or fragment, any of which may hold a provider's API key."""
    try:
        parts = urlsplit(rpc_url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return "<malformed RPC URL>"
    if not parts.scheme or not host:
        return "<malformed RPC URL>"
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


class RequestTracker:
    """Requests the network still has to answer: seen, not answered, not timed out.

    Feed it every indexer event in order; :meth:`pending` lists what is left.
    """

    def __init__(self) -> None:
        self._pending: dict[tuple[int, str, str, str], list[SignRequestEvent]] = {}
        self._answered: set[tuple[int, str, str, str]] = set()
        self.height = 0
        self.timed_out = 0

    def observe(self, event: IndexerEvent) -> None:
        """Account for one event."""
        if isinstance(event, SignRequestEvent):
            self._pending.setdefault(event.request_key, []).append(event)
            self._answered.discard(event.request_key)
        elif isinstance(event, RespondEvent):
            # Identical pending requests share one response: all of them are answered.
            if self._pending.pop(event.request_key, None) is not None:
                self._answered.add(event.request_key)
        else:
            self.height = event.height
            for key, events in list(self._pending.items()):
                alive = [e for e in events if e.timeout_height > event.height]
                self.timed_out += len(events) - len(alive)
                if alive:
                    self._pending[key] = alive
                else:
                    del self._pending[key]

    def pending(self) -> list[SignRequestEvent]:
        """Unanswered, unexpired requests, oldest first (one per identical request)."""
        return sorted((events[0] for events in self._pending.values()), key=lambda e: e.block_height)

    def is_answered(self, key: tuple[int, str, str, str]) -> bool:
        """Whether a ``respond`` for this request key was seen."""
        return key in self._answered
