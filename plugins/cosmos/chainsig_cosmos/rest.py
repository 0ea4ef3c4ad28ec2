"""A small client for the Cosmos SDK REST API (gRPC-gateway, usually port 1317).

Only the four endpoints chainsig needs, with bodies in the shapes the SDK documents
(cosmos-sdk ``proto/cosmos/*/query.proto``, ``service.proto``; 64-bit integers are JSON
strings). Written on ``requests`` rather than cosmpy's ``RestClient`` because that one sets no
timeout and turns every non-200 answer into a bare ``RuntimeError``; here a timeout is always
set and every failure is one :class:`~chainsig_core.RpcError` line.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict
from urllib.parse import quote

from chainsig_core import ChainError, InsufficientFundsError, RpcError
from chainsig_core.urls import check_http_url

ACCOUNTS = "/cosmos/auth/v1beta1/accounts/{address}"
BALANCE_BY_DENOM = "/cosmos/bank/v1beta1/balances/{address}/by_denom"
TXS = "/cosmos/tx/v1beta1/txs"
TX_BY_HASH = "/cosmos/tx/v1beta1/txs/{hash}"

#: gRPC status code NotFound, as the gateway reports it in error bodies.
GRPC_NOT_FOUND = 5
#: ABCI codes of the SDK's ``x/auth``/``x/bank`` errors worth a precise error class.
SDK_INSUFFICIENT_FUNDS = 5
SDK_INSUFFICIENT_FEE = 13


class BaseAccountJSON(TypedDict, total=False):
    """``/cosmos.auth.v1beta1.BaseAccount`` in JSON."""

    address: str
    pub_key: Mapping[str, Any] | None
    account_number: str
    sequence: str


class CoinJSON(TypedDict):
    denom: str
    amount: str


class TxResponseJSON(TypedDict, total=False):
    """``cosmos.base.abci.v1beta1.TxResponse`` (the fields chainsig reads)."""

    height: str
    txhash: str
    codespace: str
    code: int
    raw_log: str
    gas_wanted: str
    gas_used: str


class ErrorJSON(TypedDict, total=False):
    """The gateway's error body: ``{"code": 5, "message": "...", "details": []}``."""

    code: int
    message: str
    details: list[Any]


@dataclass(frozen=True)
class AccountInfo:
    """What signing needs from the chain: the account number and the next sequence."""

    account_number: int
    sequence: int


class NotFound(RpcError):
    """The REST API answered NotFound (an unknown account or transaction)."""


def check_rest_url(url: str) -> None:
    """Refuse a REST URL that is not ``http(s)://host…``; the message quotes at most its scheme
    (the rest may hold a user, a password or an API key).

    Raises
    ------
    InvalidInputError
    """
    check_http_url(url, "the Cosmos REST URL", " (--rpc-url, or rpc_url in the config)")


class CosmosRest:
    """Calls one REST endpoint.

    Parameters
    ----------
    base_url:
        e.g. ``http://127.0.0.1:1317`` (no trailing path).
    timeout:
        Seconds per HTTP request.
    """

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        import requests

        check_rest_url(base_url)
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()
        self._session.headers["Accept"] = "application/json"

    def close(self) -> None:
        self._session.close()

    # -- endpoints ----------------------------------------------------------------------------

    def account(self, address: str) -> AccountInfo:
        """Account number and sequence of ``address``.

        Raises
        ------
        InsufficientFundsError
            The account does not exist on chain yet (it was never funded).
        RpcError
        """
        try:
            body = self._request("GET", ACCOUNTS.format(address=quote(address)))
        except NotFound:
            raise InsufficientFundsError(
                f"account {address} does not exist on chain yet: fund it before sending from it"
            ) from None
        account = body.get("account")
        base = _base_account(account)
        try:
            return AccountInfo(int(base.get("account_number", "0")), int(base.get("sequence", "0")))
        except (TypeError, ValueError):
            raise RpcError("REST account answer has non-numeric account_number/sequence") from None

    def balance(self, address: str, denom: str) -> int:
        """The balance of ``address`` in ``denom`` base units (0 for an unknown account)."""
        body = self._request("GET", BALANCE_BY_DENOM.format(address=quote(address)), params={"denom": denom})
        coin = body.get("balance")
        if coin is None:
            return 0
        if not isinstance(coin, Mapping) or coin.get("denom") != denom:
            raise RpcError(f"REST balance answer is not a {denom} coin")
        try:
            amount = int(coin.get("amount", ""))
        except (TypeError, ValueError):
            raise RpcError("REST balance answer has a non-numeric amount") from None
        if amount < 0:
            raise RpcError("REST balance answer is negative")
        return amount

    def broadcast(self, tx_bytes_b64: str) -> TxResponseJSON:
        """Submit a transaction (``BROADCAST_MODE_SYNC``: answered after CheckTx).

        Raises
        ------
        InsufficientFundsError, ChainError
            The chain refused the transaction in CheckTx (``code`` ≠ 0).
        RpcError
        """
        body = self._request("POST", TXS, json={"tx_bytes": tx_bytes_b64, "mode": "BROADCAST_MODE_SYNC"})
        response = _tx_response(body)
        check_tx_code(response)
        return response

    def find_tx(self, tx_hash: str) -> TxResponseJSON | None:
        """The included transaction, or ``None`` while the chain does not know it."""
        try:
            body = self._request("GET", TX_BY_HASH.format(hash=quote(tx_hash)))
        except NotFound:
            return None
        return _tx_response(body)

    def wait_for_tx(self, tx_hash: str, timeout: float, interval: float = 1.0) -> TxResponseJSON | None:
        """Poll :meth:`find_tx` until the transaction is included or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.find_tx(tx_hash)
            if found is not None or time.monotonic() >= deadline:
                return found
            time.sleep(min(interval, max(0.0, deadline - time.monotonic())))

    # -- transport ----------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> Mapping[str, Any]:
        import requests

        url = self.base_url + path
        try:
            response = self._session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise RpcError(f"Cosmos REST {self.base_url} unreachable: {type(exc).__name__}") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code == 200 and isinstance(body, Mapping):
            return body
        error: ErrorJSON = body if isinstance(body, Mapping) else {}
        raw_message = error.get("message") or response.reason or ""
        message = str(raw_message).splitlines()[0][:200] if raw_message else ""
        if error.get("code") == GRPC_NOT_FOUND or (response.status_code == 404 and "code" in error):
            raise NotFound(f"Cosmos REST {path}: not found ({message})")
        if response.status_code == 200:
            raise RpcError(f"Cosmos REST {path}: answer is not a JSON object")
        raise RpcError(f"Cosmos REST {path}: HTTP {response.status_code} {message}".rstrip())


def _base_account(account: object) -> Mapping[str, Any]:
    """The BaseAccount inside an account answer (plain, vesting, or module account)."""
    if not isinstance(account, Mapping):
        raise RpcError("REST account answer has no 'account' object")
    for _ in range(3):  # BaseAccount; Vesting → base_vesting_account.base_account; Module → base_account
        if "account_number" in account or "sequence" in account:
            return account
        inner = account.get("base_account") or account.get("base_vesting_account")
        if not isinstance(inner, Mapping):
            break
        account = inner
    raise RpcError(f"REST account answer of unsupported type {account.get('@type')!r}")


def _tx_response(body: Mapping[str, Any]) -> TxResponseJSON:
    response = body.get("tx_response")
    if not isinstance(response, Mapping) or not isinstance(response.get("txhash"), str):
        raise RpcError("REST transaction answer has no tx_response.txhash")
    return response  # type: ignore[return-value]


def check_tx_code(response: TxResponseJSON) -> None:
    """Raise for a transaction the chain refused or that failed in a block.

    Raises
    ------
    InsufficientFundsError, ChainError
    """
    code = response.get("code", 0)
    if not code:
        return
    log = str(response.get("raw_log", "")).splitlines()[0][:200] if response.get("raw_log") else ""
    codespace = response.get("codespace", "")
    if codespace == "sdk" and code in (SDK_INSUFFICIENT_FUNDS, SDK_INSUFFICIENT_FEE):
        raise InsufficientFundsError(f"the chain refused the transaction: {log or 'insufficient funds'}")
    raise ChainError(f"the chain refused the transaction ({codespace or 'code'} {code}): {log}".rstrip(": "))
