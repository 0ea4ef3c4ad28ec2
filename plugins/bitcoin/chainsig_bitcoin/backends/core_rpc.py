"""Bitcoin Core JSON-RPC back end (``bitcoind``, any network; regtest for local testing).

Calls used (https://developer.bitcoin.org/reference/rpc/)::

    scantxoutset "start" ["addr(A)"] → {"success", "height", "unspents": [{"txid", "vout",
                                        "scriptPubKey", "amount", "coinbase", "height"}],
                                        "total_amount"}
    listunspent 0 9999999 ["A"]      → [{"txid", "vout", "scriptPubKey", "amount",
                                        "confirmations"}]   (utxo_source = "listunspent")
    estimatesmartfee N               → {"feerate": BTC/kvB, "blocks"} | {"errors": […], "blocks"}
    getrawtransaction TXID [true]    → hex | {"hex", "confirmations", "blockhash", …}
    sendrawtransaction HEX           → txid

Every answer is ``{"result", "error", "id"}``; an error is ``{"code", "message"}`` (HTTP 500 in
JSON-RPC 1.0, 404 for an unknown method, 401 with an empty body for bad credentials).
Amounts are parsed as exact decimals, never floats.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import ROUND_CEILING, Decimal
from pathlib import Path
from typing import Any, TypedDict
from urllib.parse import urlsplit

from chainsig_core.errors import ConfigError, RpcError
from chainsig_core.urls import redact_url

from ..utxos import Utxo, parse_utxo
from .base import Backend, TxStatus

COINBASE_MATURITY = 100
RPC_INVALID_ADDRESS_OR_KEY = -5


class RpcErrorJSON(TypedDict):
    code: int
    message: str


class RpcResponseJSON(TypedDict):
    result: Any
    error: RpcErrorJSON | None
    id: str


class CoreRpcError(RpcError):
    """Bitcoin Core answered a call with a JSON-RPC error (its ``code`` and ``message``)."""

    def __init__(self, method: str, code: object, message: str) -> None:
        super().__init__(f"bitcoin core {method} failed ({code}): {message}")
        self.code = code


def btc_to_sats(amount: Any) -> int:
    """An exact BTC decimal (as parsed from JSON) in satoshis.

    Raises
    ------
    RpcError
        For a float, a non-number or a fraction of a satoshi.
    """
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise RpcError("bitcoin core returned an amount that is not a number")
    sats = Decimal(amount) * 100_000_000
    if sats != sats.to_integral_value() or sats < 0:
        raise RpcError(f"bitcoin core returned an amount that is not whole satoshis: {amount}")
    return int(sats)


class CoreRpcBackend(Backend):
    """A ``bitcoind`` reachable at ``url`` with basic-auth credentials."""

    kind = "bitcoin core"

    def __init__(
        self, url: str, auth: tuple[str, str] | None, *, utxo_source: str = "scantxoutset",
        timeout: float = 20.0,
    ) -> None:
        import httpx

        if utxo_source not in ("scantxoutset", "listunspent"):
            raise ConfigError("bitcoin core utxo_source must be 'scantxoutset' or 'listunspent'")
        parts = urlsplit(url)
        if auth is None and parts.username is not None:
            auth = (parts.username, parts.password or "")
        self.url = redact_url(url)
        self.utxo_source = utxo_source
        self._client = httpx.Client(timeout=timeout, auth=auth)
        self._next_id = 0

    @classmethod
    def from_settings(cls, url: str, settings: Mapping[str, Any], *, timeout: float = 20.0) -> CoreRpcBackend:
        """Build from a ``[chains.bitcoin.<net>]`` table: ``rpc_user``/``rpc_password`` or
        ``rpc_cookie_file``, ``utxo_source``.

        Raises
        ------
        ConfigError
        """
        auth: tuple[str, str] | None = None
        user, password = settings.get("rpc_user"), settings.get("rpc_password")
        cookie = settings.get("rpc_cookie_file")
        if user is not None or password is not None:
            if not isinstance(user, str) or not isinstance(password, str):
                raise ConfigError("bitcoin core rpc_user and rpc_password must both be strings")
            auth = (user, password)
        elif cookie is not None:
            try:
                text = Path(str(cookie)).expanduser().read_text("utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"cannot read bitcoin core cookie file {cookie}: {exc.strerror}") from None
            name, sep, secret = text.partition(":")
            if not sep:
                raise ConfigError(f"bitcoin core cookie file {cookie} is not 'user:password'")
            auth = (name, secret)
        return cls(url, auth, utxo_source=str(settings.get("utxo_source", "scantxoutset")), timeout=timeout)

    # -- JSON-RPC ------------------------------------------------------------------------------

    def call(self, method: str, *params: Any) -> Any:
        """Call ``method``; return its ``result``.

        Raises
        ------
        RpcError
            For transport failures, HTTP errors and RPC errors (with Core's code and message).
        """
        import httpx

        self._next_id += 1
        body = {"jsonrpc": "1.0", "id": f"chainsig-{self._next_id}", "method": method, "params": list(params)}
        try:
            response = self._client.post(self.url, json=body)
        except httpx.HTTPError as exc:
            raise RpcError(f"cannot reach bitcoin core at {self.url}: {type(exc).__name__}") from None
        if response.status_code == 401:
            raise RpcError(f"bitcoin core at {self.url} refused the credentials (HTTP 401)")
        try:
            data = json.loads(response.text, parse_float=Decimal)
        except ValueError:
            raise RpcError(f"bitcoin core {method}: HTTP {response.status_code}, answer is not JSON") from None
        if not isinstance(data, dict) or "result" not in data and "error" not in data:
            raise RpcError(f"bitcoin core {method}: malformed JSON-RPC answer")
        error = data.get("error")
        if error:
            code = error.get("code") if isinstance(error, dict) else None
            message = error.get("message") if isinstance(error, dict) else str(error)
            raise CoreRpcError(method, code, str(message))
        if response.status_code != 200:
            raise RpcError(f"bitcoin core {method}: HTTP {response.status_code}")
        return data.get("result")

    # -- Backend -------------------------------------------------------------------------------

    def utxos(self, address: str) -> list[Utxo]:
        if self.utxo_source == "listunspent":
            result = self.call("listunspent", 0, 9999999, [address])
            if not isinstance(result, list):
                raise RpcError("bitcoin core listunspent answer is not a list")
            return [
                self._utxo(item, i, confirmed=int(item.get("confirmations", 0)) > 0)
                for i, item in enumerate(result)
            ]
        result = self.call("scantxoutset", "start", [f"addr({address})"])
        if not isinstance(result, dict) or not result.get("success", False):
            raise RpcError("bitcoin core scantxoutset did not succeed")
        tip = result.get("height")
        out = []
        for i, item in enumerate(result.get("unspents") or []):
            if item.get("coinbase") and isinstance(tip, int) and tip - int(item.get("height", tip)) + 1 < COINBASE_MATURITY:
                continue  # an immature coinbase output cannot be spent yet
            out.append(self._utxo(item, i, confirmed=True))
        return out

    @staticmethod
    def _utxo(item: Any, i: int, *, confirmed: bool) -> Utxo:
        if not isinstance(item, dict):
            raise RpcError(f"bitcoin core unspent entry {i} is not an object")
        try:
            return parse_utxo(
                {"txid": item.get("txid"), "vout": item.get("vout"),
                 "value": btc_to_sats(item.get("amount")),
                 "scriptPubKey": item.get("scriptPubKey"), "confirmed": confirmed},
                f"bitcoin core unspent {i}",
            )
        except ValueError as exc:
            raise RpcError(f"malformed bitcoin core answer: {exc}") from None

    def balance(self, address: str) -> int:
        if self.utxo_source == "listunspent":
            return sum(u.value for u in self.utxos(address))
        result = self.call("scantxoutset", "start", [f"addr({address})"])
        if not isinstance(result, dict) or "total_amount" not in result:
            raise RpcError("bitcoin core scantxoutset answer has no total_amount")
        return btc_to_sats(result["total_amount"])

    def fee_rate(self, target_blocks: int = 6) -> Decimal:
        result = self.call("estimatesmartfee", target_blocks)
        if not isinstance(result, dict) or "feerate" not in result:
            errors = result.get("errors") if isinstance(result, dict) else None
            reason = "; ".join(map(str, errors)) if errors else "no estimate"
            raise RpcError(f"bitcoin core has no fee estimate ({reason}): pass --fee-rate")
        per_kvb = btc_to_sats(result["feerate"])  # sat/kvB
        return (Decimal(per_kvb) / 1000).quantize(Decimal("0.001"), rounding=ROUND_CEILING)

    def raw_transaction(self, txid: str) -> bytes:
        result = self.call("getrawtransaction", txid)
        try:
            return bytes.fromhex(result)
        except (TypeError, ValueError):
            raise RpcError("bitcoin core getrawtransaction answer is not hex") from None

    def broadcast(self, raw_hex: str) -> str:
        result = self.call("sendrawtransaction", raw_hex)
        if not isinstance(result, str) or len(result) != 64:
            raise RpcError("bitcoin core sendrawtransaction answered something that is not a txid")
        return result

    def tx_status(self, txid: str) -> TxStatus:
        try:
            result = self.call("getrawtransaction", txid, True)
        except RpcError as exc:
            if isinstance(exc, CoreRpcError) and exc.code == RPC_INVALID_ADDRESS_OR_KEY:
                return TxStatus(known=False, confirmed=False)
            raise
        if not isinstance(result, dict):
            raise RpcError("bitcoin core getrawtransaction answer is not an object")
        confirmations = int(result.get("confirmations") or 0)
        return TxStatus(known=True, confirmed=confirmations > 0)

    def close(self) -> None:
        self._client.close()
