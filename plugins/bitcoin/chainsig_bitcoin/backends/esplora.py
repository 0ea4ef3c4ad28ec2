"""Esplora REST back end (the Blockstream / mempool.space API).

Endpoints used (https://github.com/Blockstream/esplora/blob/master/API.md)::

    GET  /address/:address/utxo   [{"txid", "vout", "status": {"confirmed", …}, "value"}]
    GET  /address/:address        {"address", "chain_stats": {…}, "mempool_stats": {…}}
    GET  /fee-estimates           {"1": 87.882, "2": …, "144": 1.027, …}   (sat/vB)
    GET  /tx/:txid/hex            the raw transaction as hex text
    GET  /tx/:txid/status         {"confirmed": true, "block_height": …, …}
    POST /tx                      raw hex as the body → the txid as text

Errors come back as an HTTP status with a plain-text body, e.g. ``400 Invalid Bitcoin
address`` or ``400 sendrawtransaction RPC error: {"code":-26,"message":"…"}``.
"""

from __future__ import annotations

import json
import re
from decimal import ROUND_CEILING, Decimal
from typing import Any, TypedDict

from chainsig_core.errors import RpcError
from chainsig_core.urls import redact_url

from ..utxos import Utxo, parse_utxo
from .base import Backend, TxStatus

_TXID = re.compile(r"[0-9a-f]{64}")


class EsploraStatusJSON(TypedDict, total=False):
    confirmed: bool
    block_height: int
    block_hash: str
    block_time: int


class EsploraUtxoJSON(TypedDict):
    txid: str
    vout: int
    status: EsploraStatusJSON
    value: int


class EsploraStatsJSON(TypedDict):
    funded_txo_count: int
    funded_txo_sum: int
    spent_txo_count: int
    spent_txo_sum: int
    tx_count: int


class EsploraAddressJSON(TypedDict):
    address: str
    chain_stats: EsploraStatsJSON
    mempool_stats: EsploraStatsJSON


class EsploraBackend(Backend):
    """An Esplora server at ``base_url`` (e.g. ``https://blockstream.info/api``)."""

    kind = "esplora"

    def __init__(self, base_url: str, *, timeout: float = 20.0) -> None:
        import httpx

        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(timeout=timeout, headers={"User-Agent": "chainsig-bitcoin"})

    # -- HTTP ----------------------------------------------------------------------------------

    def _request(self, method: str, path: str, body: str | None = None) -> tuple[int, str]:
        import httpx

        url = f"{self.base_url}{path}"
        try:
            response = self._client.request(method, url, content=body)
        except httpx.HTTPError as exc:
            raise RpcError(f"cannot reach esplora at {redact_url(self.base_url)}: {type(exc).__name__}") from None
        return response.status_code, response.text

    def _get_text(self, path: str) -> str:
        status, text = self._request("GET", path)
        if status != 200:
            raise RpcError(f"esplora GET {path}: HTTP {status}: {_one_line(text)}")
        return text

    def _get_json(self, path: str) -> Any:
        text = self._get_text(path)
        try:
            return json.loads(text, parse_float=Decimal)
        except ValueError:
            raise RpcError(f"esplora GET {path}: the answer is not JSON") from None

    # -- Backend -------------------------------------------------------------------------------

    def utxos(self, address: str) -> list[Utxo]:
        data = self._get_json(f"/address/{address}/utxo")
        if not isinstance(data, list):
            raise RpcError("esplora /utxo answer is not a list")
        out = []
        for i, item in enumerate(data):
            if not isinstance(item, dict):
                raise RpcError(f"esplora /utxo entry {i} is not an object")
            status = item.get("status") or {}
            try:
                out.append(parse_utxo(
                    {"txid": item.get("txid"), "vout": item.get("vout"), "value": item.get("value"),
                     "confirmed": bool(status.get("confirmed", False))},
                    f"esplora utxo {i}",
                ))
            except ValueError as exc:
                raise RpcError(f"malformed esplora answer: {exc}") from None
        return out

    def balance(self, address: str) -> int:
        data = self._get_json(f"/address/{address}")
        try:
            total = 0
            for key in ("chain_stats", "mempool_stats"):
                stats = data[key]
                total += int(stats["funded_txo_sum"]) - int(stats["spent_txo_sum"])
        except (KeyError, TypeError, ValueError):
            raise RpcError("malformed esplora /address answer") from None
        return total

    def fee_rate(self, target_blocks: int = 6) -> Decimal:
        data = self._get_json("/fee-estimates")
        if not isinstance(data, dict):
            raise RpcError("esplora /fee-estimates answer is not an object")
        estimates: dict[int, Decimal] = {}
        for key, value in data.items():
            if str(key).isdigit() and isinstance(value, Decimal | int) and not isinstance(value, bool):
                estimates[int(key)] = Decimal(value)
        if not estimates:
            raise RpcError("esplora has no fee estimate (empty /fee-estimates): pass --fee-rate")
        later = [t for t in estimates if t >= target_blocks]
        target = min(later) if later else max(estimates)
        return estimates[target].quantize(Decimal("0.001"), rounding=ROUND_CEILING)

    def raw_transaction(self, txid: str) -> bytes:
        text = self._get_text(f"/tx/{txid}/hex").strip()
        try:
            return bytes.fromhex(text)
        except ValueError:
            raise RpcError(f"esplora /tx/{txid}/hex answer is not hex") from None

    def broadcast(self, raw_hex: str) -> str:
        status, text = self._request("POST", "/tx", raw_hex)
        if status != 200:
            raise RpcError(f"esplora rejected the transaction: HTTP {status}: {_one_line(text)}")
        txid = text.strip()
        if not _TXID.fullmatch(txid):
            raise RpcError("esplora POST /tx answered something that is not a txid")
        return txid

    def tx_status(self, txid: str) -> TxStatus:
        status, text = self._request("GET", f"/tx/{txid}/status")
        if status == 404:
            return TxStatus(known=False, confirmed=False)
        if status != 200:
            raise RpcError(f"esplora GET /tx/{txid}/status: HTTP {status}: {_one_line(text)}")
        try:
            data = json.loads(text)
            confirmed = bool(data["confirmed"])
        except (ValueError, KeyError, TypeError):
            raise RpcError("malformed esplora /tx/:txid/status answer") from None
        height = data.get("block_height") if confirmed else None
        return TxStatus(known=True, confirmed=confirmed, block_height=height)

    def close(self) -> None:
        self._client.close()


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[:limit] + "…"
