"""A thin web3.py client for one EVM node, mapping every failure to one chainsig error.

Only the JSON-RPC methods chainsig needs. Node URLs often embed an API key
(``https://host/v3/<key>``), so messages name the scheme and host only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from chainsig_core.errors import ChainError, InsufficientFundsError, InvalidInputError, RpcError
from chainsig_core.types import ChainEndpoint
from chainsig_core.urls import check_http_url, redact_url

if TYPE_CHECKING:
    from web3 import Web3

T = TypeVar("T")

DEFAULT_TIMEOUT = 15.0
"""Seconds for one HTTP request to the node (``timeout`` in the chain network's config table)."""

DEFAULT_RETRIES = 2
"""Retries of an idempotent read after a connection or HTTP error (``retries`` in the config)."""

RETRY_BACKOFF = 0.1
"""Seconds before the first retry, doubled for each further one."""

# Phrases nodes (geth, anvil, reth, op-geth) use when the sender cannot pay.
_FUNDS_PHRASES = ("insufficient funds", "insufficient balance")


def check_rpc_url(url: str) -> str:
    """``url`` if it is an ``http(s)://host…`` URL web3's HTTP provider can use (messages quote
    at most the scheme: the rest may hold a user, a password or an API key).

    Raises
    ------
    InvalidInputError
    """
    return check_http_url(url, "the EVM RPC URL", " (--rpc-url, or rpc_url in the config)")


class EvmRpc:
    """JSON-RPC calls to one node through web3.py.

    Parameters
    ----------
    endpoint:
        The chain network's endpoint; ``endpoint.settings["timeout"]`` overrides the request
        timeout in seconds.

    Raises
    ------
    RpcError
        On construction, when the endpoint has no URL.
    InvalidInputError
        On construction, when the URL is not an ``http(s)://`` URL (see :func:`check_rpc_url`).
    """

    def __init__(self, endpoint: ChainEndpoint) -> None:
        if not endpoint.url:
            raise RpcError("no RPC URL for this chain network: pass --rpc-url or set it in the config")
        url = check_rpc_url(endpoint.url)
        from web3 import Web3

        from web3.providers.rpc.utils import ExceptionRetryConfiguration

        settings = endpoint.settings
        timeout = float(settings.get("timeout", DEFAULT_TIMEOUT))
        # web3's default retries idempotent reads 5 times over ~4 s; a CLI user waiting on a
        # node that is down deserves a quicker answer. Reads still retry transient failures.
        retry = ExceptionRetryConfiguration(
            errors=(OSError,),  # requests' ConnectionError, HTTPError and Timeout are OSErrors
            retries=int(settings.get("retries", DEFAULT_RETRIES)),
            backoff_factor=RETRY_BACKOFF,
        )
        self.url = url
        self.where = redact_url(url)
        self.w3: Web3 = Web3(
            Web3.HTTPProvider(url, request_kwargs={"timeout": timeout}, exception_retry_configuration=retry)
        )

    # -- plumbing --------------------------------------------------------------------------

    def call(self, what: str, fn: Callable[[], T]) -> T:
        """Run ``fn`` (a web3 call) and turn its failures into :class:`RpcError`/:class:`ChainError`."""
        from web3.exceptions import (
            ContractLogicError,
            TimeExhausted,
            TransactionNotFound,
            Web3Exception,
            Web3RPCError,
        )

        try:
            return fn()
        except (TransactionNotFound, TimeExhausted):
            raise  # "not yet": the caller decides
        except OSError as exc:  # requests' ConnectionError/Timeout are OSErrors
            from requests.exceptions import InvalidSchema, InvalidURL, MissingSchema

            if isinstance(exc, InvalidURL | MissingSchema | InvalidSchema):  # what check_rpc_url cannot see
                raise InvalidInputError(f"the EVM RPC URL {self.where} is not a valid URL ({what})") from None
            raise RpcError(f"cannot reach the EVM node at {self.where} ({what}): {_reason(exc)}") from None
        except ContractLogicError as exc:
            raise ChainError(f"{what}: the call reverted: {_rpc_message(exc)}") from None
        except Web3RPCError as exc:
            message = _rpc_message(exc)
            if any(p in message.lower() for p in _FUNDS_PHRASES):
                raise InsufficientFundsError(f"{what}: {message}") from None
            raise ChainError(f"{what}: the node at {self.where} answered: {message}") from None
        except (Web3Exception, ValueError) as exc:
            raise RpcError(f"{what}: unexpected answer from {self.where}: {_one_line(str(exc))}") from None

    def request(self, method: str, params: list[Any]) -> Any:
        """A raw JSON-RPC request (``anvil_*``, ``evm_*`` …); returns ``result``."""
        response = self.call(method, lambda: self.w3.provider.make_request(method, params))  # type: ignore[arg-type]
        if "error" in response:
            raise ChainError(f"{method}: the node answered: {_one_line(str(response['error'].get('message', response['error'])))}")
        return response.get("result")

    # -- reads -----------------------------------------------------------------------------

    def chain_id(self) -> int:
        return self.call("eth_chainId", lambda: int(self.w3.eth.chain_id))

    def nonce(self, address: str) -> int:
        """The next nonce of ``address``, counting its pending transactions."""
        return self.call("eth_getTransactionCount", lambda: int(self.w3.eth.get_transaction_count(address, "pending")))  # type: ignore[arg-type]

    def confirmed_nonce(self, address: str) -> int:
        """The nonce after ``address``'s last mined transaction."""
        return self.call("eth_getTransactionCount", lambda: int(self.w3.eth.get_transaction_count(address, "latest")))  # type: ignore[arg-type]

    def balance(self, address: str) -> int:
        return self.call("eth_getBalance", lambda: int(self.w3.eth.get_balance(address)))  # type: ignore[arg-type]

    def code(self, address: str) -> bytes:
        return self.call("eth_getCode", lambda: bytes(self.w3.eth.get_code(address)))  # type: ignore[arg-type]

    def gas_price(self) -> int:
        return self.call("eth_gasPrice", lambda: int(self.w3.eth.gas_price))

    def max_priority_fee(self) -> int:
        return self.call("eth_maxPriorityFeePerGas", lambda: int(self.w3.eth.max_priority_fee))

    def base_fee(self) -> int | None:
        """The latest block's base fee, or ``None`` on a chain without EIP-1559."""
        block = self.call("eth_getBlockByNumber", lambda: self.w3.eth.get_block("latest"))
        fee = block.get("baseFeePerGas")
        return None if fee is None else int(fee)

    def estimate_gas(self, tx: Mapping[str, Any]) -> int:
        return self.call("eth_estimateGas", lambda: int(self.w3.eth.estimate_gas(dict(tx))))  # type: ignore[arg-type]

    def eth_call(self, to: str, data: bytes) -> bytes:
        return self.call("eth_call", lambda: bytes(self.w3.eth.call({"to": to, "data": data})))  # type: ignore[typeddict-item]

    def transaction(self, tx_hash: str) -> Mapping[str, Any] | None:
        """The transaction ``tx_hash`` (pending or mined), ``None`` if the node does not know it."""
        from web3.exceptions import TransactionNotFound

        try:
            return self.call("eth_getTransactionByHash", lambda: self.w3.eth.get_transaction(tx_hash))  # type: ignore[arg-type]
        except TransactionNotFound:
            return None

    def receipt(self, tx_hash: str) -> Mapping[str, Any] | None:
        from web3.exceptions import TransactionNotFound

        try:
            return self.call("eth_getTransactionReceipt", lambda: self.w3.eth.get_transaction_receipt(tx_hash))  # type: ignore[arg-type]
        except TransactionNotFound:
            return None

    # -- writes ----------------------------------------------------------------------------

    def send_raw(self, raw: bytes) -> str:
        """``eth_sendRawTransaction``; returns the hash the node reports."""
        return "0x" + self.call("eth_sendRawTransaction", lambda: bytes(self.w3.eth.send_raw_transaction(raw)).hex())

    def wait_for_receipt(self, tx_hash: str, timeout: float, poll: float = 0.2) -> Mapping[str, Any] | None:
        """The receipt, or ``None`` if the transaction is not mined within ``timeout`` seconds."""
        from web3.exceptions import TimeExhausted

        try:
            return self.call(
                "waiting for the receipt",
                lambda: self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout, poll_latency=poll),  # type: ignore[arg-type]
            )
        except TimeExhausted:
            return None


def _rpc_message(exc: Exception) -> str:
    response = getattr(exc, "rpc_response", None)
    if isinstance(response, Mapping) and isinstance(response.get("error"), Mapping):
        return _one_line(str(response["error"].get("message", "")))
    message = getattr(exc, "message", None) or (exc.args[0] if exc.args else str(exc))
    return _one_line(str(message))


def _reason(exc: OSError) -> str:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if status is not None:
        return f"HTTP {status}"
    text = str(exc)
    for marker in ("Connection refused", "timed out", "Name or service not known", "No route to host"):
        if marker.lower() in text.lower():
            return marker.lower()
    return type(exc).__name__


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
