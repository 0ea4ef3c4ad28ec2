"""Solana JSON-RPC through solana-py's client: the online ledger, broadcast and balances.

solana-py (0.41) offers an asyncio client only; :class:`SolanaRpc` drives it on a private event
loop so the synchronous :class:`~chainsig_core.Chain` methods can use it (core runs chain I/O in a
worker thread when called from asyncio code). Every failure becomes one
:class:`~chainsig_core.RpcError` or :class:`~chainsig_core.ChainError` line.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from chainsig_core import Balance, ChainEndpoint, ChainError, InvalidInputError, Receipt, RpcError, SignedTx

from .ledger import AccountSnapshot, RecentBlockhash
from .tokens import associated_token_address, parse_mint, parse_token_account

if TYPE_CHECKING:
    from solana.rpc.async_api import AsyncClient

    from .chain import SolanaChain

T = TypeVar("T")

DEFAULT_TIMEOUT = 30.0
"""Seconds for one HTTP request."""
DEFAULT_CONFIRM_TIMEOUT = 60.0
"""Seconds ``broadcast`` waits for confirmation (``[chains.solana.<net>] confirm_timeout``)."""
POLL_INTERVAL = 0.25


class SolanaRpc:
    """A synchronous facade over ``solana.rpc.async_api.AsyncClient`` for one endpoint.

    Parameters
    ----------
    url:
        The JSON-RPC URL.
    timeout:
        Seconds per HTTP request.
    """

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT, *, shared: bool = False) -> None:
        self.url = url
        self._loop = asyncio.new_event_loop()
        self._client: AsyncClient | None = None
        self._timeout = timeout
        self._shared = shared

    def call(self, what: str, make: Callable[[AsyncClient], Awaitable[T]]) -> T:
        """Run ``make(client)`` and map solana-py's errors.

        Raises
        ------
        RpcError
            Transport failures and JSON-RPC errors (message: ``what`` + the node's message).
        """
        from solana.exceptions import SolanaRpcException
        from solana.rpc.core import RPCException

        client = self._client_now()
        try:
            return self._run(make(client))
        except RPCException as exc:
            raise RpcError(f"{what}: {rpc_error_message(exc)}") from None
        except SolanaRpcException as exc:
            cause = exc.__cause__
            detail = f"{type(cause).__name__}: {cause}" if cause else str(exc)
            raise RpcError(f"{what}: cannot reach the Solana RPC at {self.url} ({_one_line(detail)})") from None
        except (OSError, ValueError) as exc:  # malformed answers, resolver errors
            raise RpcError(f"{what}: bad answer from the Solana RPC at {self.url} ({_one_line(str(exc))})") from None

    def _client_now(self) -> AsyncClient:
        if self._client is None:
            from solana.rpc.async_api import AsyncClient

            async def make() -> AsyncClient:
                return AsyncClient(self.url, timeout=self._timeout)

            self._client = self._run(make())
        return self._client

    def _run(self, coro: Awaitable[T]) -> T:
        """Run ``coro`` on the private loop — on a helper thread when this thread already runs
        an event loop (a caller inside asyncio code), which cannot nest another one."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return self._loop.run_until_complete(coro)
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(self._loop.run_until_complete, coro).result()

    def close(self) -> None:
        """Close the HTTP session and the private loop (kept open for a shared client)."""
        if self._shared:
            return
        self.close_now()

    def close_now(self) -> None:
        """Close the HTTP session and the private loop."""
        if self._client is not None:
            try:
                self._run(self._client.close())
            except Exception:  # closing must never mask the real outcome
                pass
            self._client = None
        if not self._loop.is_closed():
            self._loop.close()

    def __enter__(self) -> SolanaRpc:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RpcLedger(SolanaRpc):
    """:class:`~chainsig_solana.ledger.Ledger` over JSON-RPC (``confirmed`` commitment)."""

    def latest_blockhash(self) -> RecentBlockhash:
        from solana.rpc.commitment import Confirmed

        value = self.call("getLatestBlockhash", lambda c: c.get_latest_blockhash(Confirmed)).value
        return RecentBlockhash(str(value.blockhash), value.last_valid_block_height)

    def get_account(self, address: str) -> AccountSnapshot | None:
        from solana.rpc.commitment import Confirmed
        from solders.pubkey import Pubkey

        key = Pubkey.from_string(address)
        value = self.call("getAccountInfo", lambda c: c.get_account_info(key, Confirmed, encoding="base64")).value
        if value is None:
            return None
        return AccountSnapshot(value.lamports, str(value.owner), bytes(value.data), value.executable)

    def rent_exempt_minimum(self, data_len: int) -> int:
        # Rent parameters are fixed per cluster: ask once per size.
        cache: dict[int, int] = self.__dict__.setdefault("_rent", {})
        if data_len not in cache:
            cache[data_len] = self.call(
                "getMinimumBalanceForRentExemption", lambda c: c.get_minimum_balance_for_rent_exemption(data_len)
            ).value
        return cache[data_len]

    def fee_for_message(self, message: bytes) -> int:
        from solana.rpc.commitment import Confirmed
        from solders.message import from_bytes_versioned

        msg = from_bytes_versioned(message)
        fee = self.call("getFeeForMessage", lambda c: c.get_fee_for_message(msg, Confirmed)).value
        if fee is None:
            raise RpcError("getFeeForMessage: the node no longer knows the message's blockhash; prepare again")
        return fee


def endpoint_url(rpc: ChainEndpoint) -> str:
    """The endpoint's URL.

    Raises
    ------
    RpcError
        When no URL is configured (custom chain networks need ``rpc_url``).
    """
    if not rpc.url:
        raise RpcError("no Solana RPC URL: pass --rpc-url or set [chains.solana.<network>] rpc_url")
    return rpc.url


_per_thread = threading.local()


def ledger_for(rpc: ChainEndpoint) -> RpcLedger:
    """The :class:`RpcLedger` for ``rpc``, shared by the calls of this thread.

    Creating solana-py's client builds a TLS context (~70 ms, loading the CA store) even for
    plain-HTTP URLs, so each thread keeps one open client per (URL, timeout); ``close()`` on it
    is a no-op and the process exit releases it.
    """
    key = (endpoint_url(rpc), _float_setting(rpc, "timeout", DEFAULT_TIMEOUT))
    cache: dict[tuple[str, float], RpcLedger] = _per_thread.__dict__.setdefault("ledgers", {})
    ledger = cache.get(key)
    if ledger is None or ledger._loop.is_closed():
        ledger = cache[key] = RpcLedger(key[0], key[1], shared=True)
    return ledger


def broadcast_transaction(chain: SolanaChain, signed: SignedTx, rpc: ChainEndpoint) -> Receipt:
    """``sendTransaction`` (with preflight) and poll ``getSignatureStatuses`` until the
    transaction is ``confirmed``/``finalized``, fails, or ``confirm_timeout`` passes.

    Raises
    ------
    InvalidInputError
        If ``signed`` is not a base64 Solana transaction.
    ChainError
        If the node rejects the transaction (preflight failure, bad signature, expired blockhash).
    RpcError
        If the node cannot be reached.
    """
    from solana.rpc.commitment import Confirmed
    from solana.rpc.models import TxOpts
    from solders.signature import Signature as SoldersSignature
    from solders.transaction import VersionedTransaction

    try:
        raw = base64.b64decode(signed.raw, validate=True)
        tx = VersionedTransaction.from_bytes(raw)
    except (binascii.Error, ValueError):
        raise InvalidInputError("the signed transaction is not a base64 Solana transaction") from None
    if str(tx.signatures[0]) != signed.tx_hash:
        raise InvalidInputError("the signed transaction's tx_hash is not its signature")
    confirm_timeout = _float_setting(rpc, "confirm_timeout", DEFAULT_CONFIRM_TIMEOUT)
    opts = TxOpts(skip_confirmation=True, skip_preflight=False, preflight_commitment=Confirmed)
    with ledger_for(rpc) as client:
        try:
            sent = client.call("sendTransaction", lambda c: c.send_raw_transaction(raw, opts)).value
        except RpcError as exc:
            raise ChainError(f"the Solana node rejected the transaction: {str(exc).partition(': ')[2]}") from None
        signature = SoldersSignature.from_string(str(sent))
        deadline = time.monotonic() + confirm_timeout
        while True:
            status = client.call(
                "getSignatureStatuses", lambda c: c.get_signature_statuses([signature], search_transaction_history=False)
            ).value[0]
            if status is not None and status.err is not None:
                return Receipt(chain.name, signed.chain_network, str(signature), "failed",
                               {"slot": status.slot, "err": _error_json(status.err)})
            if status is not None and status.confirmation_status is not None and int(status.confirmation_status) >= 1:
                return Receipt(chain.name, signed.chain_network, str(signature), "confirmed",
                               {"slot": status.slot, "confirmation_status": _confirmation_name(status.confirmation_status)})
            if time.monotonic() >= deadline:
                return Receipt(chain.name, signed.chain_network, str(signature), "broadcast",
                               {"waited_seconds": confirm_timeout})
            time.sleep(POLL_INTERVAL)


def query_balance(
    chain: SolanaChain, address: str, chain_network: str, rpc: ChainEndpoint, token: str | None
) -> Balance:
    """SOL (``getBalance``) or an SPL mint's balance (``getTokenAccountBalance`` of the
    address's associated token account; 0 when it has none).

    Raises
    ------
    InvalidInputError
        For a token that is not a mint.
    RpcError
    """
    from solana.rpc.commitment import Confirmed
    from solders.pubkey import Pubkey

    from .addresses import canonical_address

    with ledger_for(rpc) as ledger:
        if token is None:
            lamports = ledger.call("getBalance", lambda c: c.get_balance(Pubkey.from_string(address), Confirmed)).value
            return Balance(chain.name, chain_network, address, lamports, chain.decimals, chain.symbol)
        mint_address = canonical_address(token, "mint")
        mint = parse_mint(mint_address, ledger.get_account(mint_address))
        holder = ledger.get_account(address)
        account = parse_token_account(address, holder)
        if account is not None and account.mint == mint.address:
            token_account = address  # the address is itself a token account of this mint
        else:
            token_account = associated_token_address(address, mint.address, mint.program)
            if ledger.get_account(token_account) is None:
                return Balance(chain.name, chain_network, address, 0, mint.decimals, mint.address, mint.address)
        value = ledger.call(
            "getTokenAccountBalance",
            lambda c: c.get_token_account_balance(Pubkey.from_string(token_account), Confirmed),
        ).value
        return Balance(chain.name, chain_network, address, int(value.amount), value.decimals, mint.address, mint.address)


def rpc_error_message(exc: Exception) -> str:
    """The node's one-line message from a solana-py ``RPCException`` (with the simulation's
    last log line for preflight failures)."""
    (error, *_) = exc.args or (exc,)
    message = getattr(error, "message", None)
    if not message:
        # Fieldless errors (e.g. -32003) parse to an enum member such as
        # RpcCustomErrorFieldless.TransactionSignatureVerificationFailure: say it in words.
        name = str(error).rpartition(".")[2]
        words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
        message = words[:1].upper() + words[1:].lower()
    data = getattr(error, "data", None)
    logs = getattr(data, "logs", None) if data is not None else None
    if logs:
        message = f"{message} ({logs[-1]})"
    return _one_line(message)


def _error_json(err: Any) -> Any:
    try:
        from solders.rpc.responses import RpcSimulateTransactionResult

        return json.loads(RpcSimulateTransactionResult(err=err).to_json())["err"]
    except Exception:  # pragma: no cover - an error type solders cannot serialise
        return str(err)


def _confirmation_name(status: Any) -> str:
    return {0: "processed", 1: "confirmed", 2: "finalized"}.get(int(status), str(status))


def _float_setting(rpc: ChainEndpoint, key: str, default: float) -> float:
    value = rpc.settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise InvalidInputError(f"[chains.solana.<network>] {key} must be a positive number of seconds")
    return float(value)


def _one_line(text: str) -> str:
    return " ".join(text.split())[:400]
