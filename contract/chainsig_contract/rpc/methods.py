"""The NEAR JSON-RPC methods the devnet serves, over a :class:`~..host.chain.Chain`."""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from chainsig_core.account_id import is_valid_account_id

from .. import __version__
from ..host import gas
from ..host.chain import Chain, QueryError, UnknownTransaction
from ..host.ledger import InvalidTx
from ..host.transactions import TxDecodeError
from ..host.views import PROTOCOL_VERSION, WAIT_LEVELS, block_view, chunk_view
from .errors import (
    RpcFailure,
    handler_error,
    invalid_transaction,
    parse_error,
    timeout_error,
    unknown_block,
)

Handler = Callable[[Any], Awaitable[Any]]

U64_MAX = 2**64 - 1
FINALITIES = ("optimistic", "near-final", "final")
SYNC_CHECKPOINTS = ("genesis", "earliest_available")
QUERY_REQUEST_TYPES = ("view_account", "view_code", "view_state", "view_access_key",
                       "view_access_key_list", "call_function", "view_global_contract_code",
                       "view_global_contract_code_by_account_id")
"""nearcore's ``QueryRequest`` variants (its unknown-variant error lists them)."""
SERVED_REQUEST_TYPES = ("view_account", "view_access_key", "view_access_key_list", "call_function")


def args_error(reason: str) -> RpcFailure:
    """nearcore's answer to params that do not deserialize: ``Failed parsing args: …``."""
    return parse_error(f"Failed parsing args: {reason}")


def _unknown_variant(value: str, expected: tuple[str, ...]) -> RpcFailure:
    listed = ", ".join(f"`{v}`" for v in expected)
    return args_error(f"unknown variant `{value[:40]}`, expected one of {listed}")


def _is_crypto_hash(value: Any) -> bool:
    """A base58 ``CryptoHash`` (32 bytes), as nearcore's block, chunk, receipt and tx ids."""
    import base58

    if not isinstance(value, str) or not value.isascii() or not 32 <= len(value) <= 44:
        return False
    try:
        return len(base58.b58decode(value)) == 32
    except ValueError:
        return False


def _u64(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= U64_MAX


def _block_id(value: Any) -> int | str:
    """nearcore's ``BlockId``: a u64 height or a ``CryptoHash`` (anything else: its parse error)."""
    if _u64(value) or _is_crypto_hash(value):
        return value
    raise args_error("data did not match any variant of untagged enum BlockId")


class RpcMethods:
    """Method name → coroutine; each raises :class:`RpcFailure` for NEAR's error answers.

    Parameters
    ----------
    chain:
        The chain to serve.
    wait_timeout:
        Seconds a ``send_tx``/``tx`` waits for its ``wait_until`` level before answering
        ``TIMEOUT_ERROR`` (nearcore: 10 s); clients then poll ``tx``.
    rpc_addr:
        Reported by ``status``.
    """

    def __init__(self, chain: Chain, wait_timeout: float = 10.0, rpc_addr: str = "") -> None:
        self.chain = chain
        self.wait_timeout = wait_timeout
        self.rpc_addr = rpc_addr
        self.table: dict[str, Handler] = {
            "status": self.status, "health": self.health, "block": self.block,
            "chunk": self.chunk, "gas_price": self.gas_price, "query": self.query,
            "send_tx": self.send_tx, "broadcast_tx_async": self.broadcast_tx_async,
            "broadcast_tx_commit": self.broadcast_tx_commit, "tx": self.tx,
            "EXPERIMENTAL_tx_status": self.experimental_tx_status,
            "EXPERIMENTAL_receipt": self.experimental_receipt,
        }

    # -- chain info --------------------------------------------------------------------------

    async def status(self, params: Any) -> dict[str, Any]:
        head = self.chain.head
        genesis = self.chain.store.block_by_height(0)
        assert head is not None and genesis is not None
        return {
            "chain_id": self.chain.config.chain_id, "protocol_version": PROTOCOL_VERSION,
            "latest_protocol_version": PROTOCOL_VERSION, "rpc_addr": self.rpc_addr,
            "version": {"version": __version__, "build": "chainsig-devnet", "rustc_version": ""},
            "sync_info": {
                "latest_block_hash": head["hash"], "latest_block_height": head["height"],
                "latest_state_root": "11111111111111111111111111111111",
                "latest_block_time": _iso(head["timestamp"]), "syncing": False,
                "earliest_block_hash": genesis["hash"], "earliest_block_height": 0,
                "earliest_block_time": _iso(genesis["timestamp"]),
                "epoch_id": "11111111111111111111111111111111", "epoch_start_height": 0,
            },
            "validators": [{"account_id": "devnet"}], "validator_account_id": None,
            "validator_public_key": None, "node_public_key": "ed25519:11111111111111111111111111111111",
            "node_key": None, "genesis_hash": genesis["hash"],
            "uptime_sec": int(time.time() - self.chain.started),
        }

    async def health(self, params: Any) -> None:
        return None

    def _block_ref(self, params: Any) -> dict[str, Any]:
        """nearcore's ``BlockReference``, validated: ``{"block_id": id}`` or ``{"finality": f}``."""
        if isinstance(params, list):
            if len(params) != 1:
                raise parse_error("block expects [block_id] or {finality | block_id}")
            params = {"block_id": params[0]}
        if not isinstance(params, dict):
            raise parse_error("params must be an object")
        if "block_id" in params:
            return {"block_id": _block_id(params["block_id"])}
        if "finality" in params:
            finality = params["finality"]
            if not isinstance(finality, str) or finality not in FINALITIES:
                raise _unknown_variant(str(finality), FINALITIES)
            return {"finality": finality}
        if "sync_checkpoint" in params:
            checkpoint = params["sync_checkpoint"]
            if not isinstance(checkpoint, str) or checkpoint not in SYNC_CHECKPOINTS:
                raise _unknown_variant(str(checkpoint), SYNC_CHECKPOINTS)
            return {"block_id": 0}  # the genesis block is never garbage-collected
        raise parse_error("expected one of finality, block_id")

    def _find_block(self, params: Any) -> dict[str, Any]:
        ref = self._block_ref(params)
        try:
            record = self.chain.block(ref)
        except ValueError as exc:
            raise parse_error(str(exc)) from None
        if record is None:
            raise unknown_block()
        return record

    async def block(self, params: Any) -> dict[str, Any]:
        return block_view(self._find_block(params))

    async def chunk(self, params: Any) -> dict[str, Any]:
        if isinstance(params, list) and len(params) == 1:
            params = {"chunk_id": params[0]}
        if not isinstance(params, dict):
            raise parse_error("chunk expects {chunk_id} or {block_id, shard_id}")
        if "chunk_id" in params:
            chunk_id = params["chunk_id"]
            if not _is_crypto_hash(chunk_id):
                raise args_error("chunk_id must be a base58 CryptoHash")
            record = self.chain.store.block_by_chunk(chunk_id)
            if record is None:
                raise handler_error("UNKNOWN_CHUNK", {"chunk_hash": str(chunk_id)[:64]},
                                    f"Chunk Missing (unavailable on the node): {str(chunk_id)[:64]}")
            return chunk_view(record)
        if "block_id" not in params:
            raise parse_error("chunk expects {chunk_id} or {block_id, shard_id}")
        shard = params.get("shard_id", 0)
        if not _u64(shard):
            raise args_error("shard_id must be a u64")
        record = self._find_block({"block_id": params["block_id"]})
        if shard != 0:
            raise handler_error("INVALID_SHARD_ID", {"shard_id": shard}, f"Shard id {shard} does not exist")
        return chunk_view(record)

    async def gas_price(self, params: Any) -> dict[str, Any]:
        if isinstance(params, list) and params and params[0] is not None:
            self._find_block({"block_id": params[0]})
        elif isinstance(params, dict) and params.get("block_id") is not None:
            self._find_block({"block_id": params["block_id"]})
        return {"gas_price": str(gas.GAS_PRICE)}

    # -- query ---------------------------------------------------------------------------------

    async def query(self, params: Any) -> dict[str, Any]:
        if not isinstance(params, dict):
            raise parse_error("query expects an object with request_type")
        if "request_type" not in params:
            raise args_error("missing field `request_type`")
        kind = params["request_type"]
        if not isinstance(kind, str) or kind not in QUERY_REQUEST_TYPES:
            raise _unknown_variant(str(kind), QUERY_REQUEST_TYPES)
        if kind not in SERVED_REQUEST_TYPES:
            raise parse_error(f"request_type `{kind}` is not served by the devnet host "
                              f"(it serves {', '.join(SERVED_REQUEST_TYPES)})")
        ref = {k: params[k] for k in ("finality", "block_id", "sync_checkpoint") if k in params} or {
            "finality": "optimistic"}
        block = self._find_block(ref)
        account_id = params.get("account_id")
        if not isinstance(account_id, str):
            raise args_error("missing field `account_id`" if account_id is None else "account_id must be a string")
        if not is_valid_account_id(account_id):
            raise handler_error("INVALID_ACCOUNT", _at(block, requested_account_id=account_id),
                                f"Account ID {account_id[:70]} is invalid")
        try:
            if kind == "view_account":
                result = self.chain.view_account(account_id)
            elif kind == "view_access_key":
                key = params.get("public_key")
                if not isinstance(key, str):
                    raise args_error("missing field `public_key`" if key is None else "public_key must be a string")
                result = self.chain.view_access_key(account_id, key)
            elif kind == "view_access_key_list":
                result = self.chain.view_access_key_list(account_id)
            elif kind == "call_function":
                method = params.get("method_name")
                if not isinstance(method, str):
                    raise args_error("missing field `method_name`" if method is None else "method_name must be a string")
                try:
                    args = base64.b64decode(params.get("args_base64") or "", validate=True)
                except (binascii.Error, ValueError, TypeError):
                    raise parse_error("args_base64 is not valid base64") from None
                result = self.chain.call_function(account_id, method, args)
            else:  # pragma: no cover - SERVED_REQUEST_TYPES lists the branches above
                raise parse_error(f"request_type `{kind}` is not served by the devnet host")
        except QueryError as exc:
            raise handler_error(exc.name, _at(block, **exc.info), str(exc)) from None
        result.update(block_height=block["height"], block_hash=block["hash"])
        return result

    # -- transactions -----------------------------------------------------------------------

    def _submit(self, encoded: Any) -> str:
        if not isinstance(encoded, str):
            raise parse_error("signed transaction must be a base64 string")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise parse_error("Failed to decode transaction: invalid base64") from None
        try:
            return self.chain.submit(raw)
        except TxDecodeError as exc:
            raise parse_error(f"Failed to decode transaction: {exc}") from None
        except InvalidTx as exc:
            raise invalid_transaction(exc.error) from None

    async def _wait(self, tx_hash: str, wait_until: Any, with_receipts: bool = False) -> Any:
        if wait_until not in WAIT_LEVELS:
            raise parse_error(f"unknown wait_until {str(wait_until)[:30]!r}")
        try:
            await self.chain.wait_for(tx_hash, wait_until, self.wait_timeout)
        except UnknownTransaction:
            raise handler_error("UNKNOWN_TRANSACTION", {"requested_transaction_hash": tx_hash},
                                f"Transaction {tx_hash} doesn't exist") from None
        except TimeoutError:
            raise timeout_error() from None
        record = self.chain.transaction_record(tx_hash)
        assert record is not None
        return self.chain.tx_result(record, with_receipts)

    async def send_tx(self, params: Any) -> Any:
        if not isinstance(params, dict):
            raise parse_error("send_tx expects {signed_tx_base64, wait_until}")
        tx_hash = self._submit(params.get("signed_tx_base64"))
        await self.chain.notify()
        return await self._wait(tx_hash, params.get("wait_until", "EXECUTED_OPTIMISTIC"))

    async def broadcast_tx_async(self, params: Any) -> str:
        if not isinstance(params, list) or len(params) != 1:
            raise parse_error("broadcast_tx_async expects [signed_tx_base64]")
        return self._submit(params[0])

    async def broadcast_tx_commit(self, params: Any) -> Any:
        if not isinstance(params, list) or len(params) != 1:
            raise parse_error("broadcast_tx_commit expects [signed_tx_base64]")
        return await self._wait(self._submit(params[0]), "EXECUTED_OPTIMISTIC")

    def _tx_params(self, params: Any) -> tuple[str, str]:
        if isinstance(params, list) and len(params) == 2:
            return self._hash_param(params[0]), "EXECUTED_OPTIMISTIC"
        if not isinstance(params, dict):
            raise parse_error("tx expects {tx_hash, sender_account_id, wait_until}")
        if "signed_tx_base64" in params:
            return self._submit(params["signed_tx_base64"]), params.get("wait_until", "EXECUTED_OPTIMISTIC")
        return self._hash_param(params.get("tx_hash")), params.get("wait_until", "EXECUTED_OPTIMISTIC")

    @staticmethod
    def _hash_param(value: Any) -> str:
        if _is_crypto_hash(value):
            return value
        raise parse_error("tx_hash must be a base58 CryptoHash")

    async def tx(self, params: Any) -> Any:
        tx_hash, wait_until = self._tx_params(params)
        return await self._wait(tx_hash, wait_until)

    async def experimental_tx_status(self, params: Any) -> Any:
        tx_hash, wait_until = self._tx_params(params)
        return await self._wait(tx_hash, wait_until, with_receipts=True)

    async def experimental_receipt(self, params: Any) -> Any:
        from ..host.runtime import receipt_view

        receipt_id = params.get("receipt_id") if isinstance(params, dict) else None
        if not _is_crypto_hash(receipt_id):
            raise args_error("receipt_id must be a base58 CryptoHash")
        record = self.chain.receipt_record(receipt_id)
        if record is None:
            raise handler_error("UNKNOWN_RECEIPT", {"receipt_id": str(receipt_id)[:64]},
                                f"Receipt with id {str(receipt_id)[:64]} has never been observed on this node")
        return receipt_view(record["receipt"])


def _at(block: dict[str, Any], **info: Any) -> dict[str, Any]:
    return {**info, "block_height": block["height"], "block_hash": block["hash"]}


def _iso(timestamp_ns: int) -> str:
    return datetime.fromtimestamp(timestamp_ns / 1e9, UTC).isoformat().replace("+00:00", "Z")


__all__ = ["RpcFailure", "RpcMethods"]
