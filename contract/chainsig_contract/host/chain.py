"""The devnet chain: mempool, block production, receipts, yields, transaction status.

Single shard, single producer. Everything runs on one asyncio event loop: ``submit`` and
``produce_block`` are synchronous and never interleave, so no locks are needed. A
transaction is included in the next block and its first receipt executes in that block;
receipts it creates execute one block later; a resumed yield's callback runs in the block
after ``respond``; an unresumed yield times out :data:`YIELD_TIMEOUT_BLOCKS` blocks after
``sign``. Transactions of one access key are included in nonce order whatever order they
arrived in (see :mod:`.mempool`); a key's nonce moves only when a block includes them.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..contract import ContractPanic, SignerContract, ViewEnv
from . import gas
from .ledger import InvalidTx, Ledger, tx_cost, validate_actions, validate_ids
from .ids import derive_id
from .mempool import Mempool, PendingTx
from .runtime import Effects, Runtime, guard_call_args, new_receipt, receipt_view
from .store import Store
from .transactions import DecodedTx, TxDecodeError, decode_signed_transaction
from .views import FINALITY_LAG, ZERO_HASH, b58, outcome_with_id

log = logging.getLogger(__name__)

YIELD_TIMEOUT_BLOCKS = 200
"""NEAR's ``yield_timeout_length_in_blocks``."""

KEEP_EMPTY_BLOCKS = 100_000
"""Blocks without transactions or receipts older than this are garbage-collected (like a
non-archival NEAR node); blocks with activity are kept."""
GC_EVERY_BLOCKS = 1_000

CONTRACT_CODE_HASH = b58(hashlib.sha256(b"chainsig-contract v1.signer 3.14").digest())


@dataclass(frozen=True)
class ChainConfig:
    """Chain parameters fixed at genesis (stored in the database)."""

    chain_id: str = "devnet"
    contract_id: str = "v1.signer.devnet"
    registrar: str = "devnet"
    transaction_validity_period: int = 86_400


class UnknownTransaction(LookupError):
    """No transaction with this hash is known."""


class QueryError(Exception):
    """A ``query`` failed; ``name`` is NEAR's cause name, ``info`` its info object."""

    def __init__(self, name: str, info: dict[str, Any], message: str) -> None:
        super().__init__(message)
        self.name = name
        self.info = info


class Chain:
    """The chain state and its block producer.

    Parameters
    ----------
    store:
        The SQLite store (an empty one needs :meth:`apply_genesis`).
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        meta = store.get("config")
        self.config = ChainConfig(**meta) if meta else ChainConfig()
        self.ledger = Ledger(store.load_accounts(), store.load_access_keys())
        self.contract = SignerContract(store.get("contract_state"))
        self.yields: dict[str, dict[str, Any]] = store.get("yields") or {}
        self.scheduled: dict[str, list[dict[str, Any]]] = store.get("scheduled") or {}
        self.runtime = Runtime(self.ledger, self.contract, self.config.contract_id,
                               lambda d: d in self.yields, self.config.registrar)
        self.mempool = Mempool()
        self.txs: dict[str, dict[str, Any]] = {}
        self.receipts: dict[str, dict[str, Any]] = {}
        self._dirty_txs: set[str] = set()
        self._dirty_receipts: set[str] = set()
        self.open_txs: set[str] = set(store.get("open_txs") or [])
        for tx_hash in self.open_txs:
            record = store.transaction(tx_hash)
            if record is not None:
                self.txs[tx_hash] = record
        height = store.head_height()
        self.head: dict[str, Any] | None = None if height is None else store.block_by_height(height)
        self._restore_mempool()
        self.changed = asyncio.Condition()  # binds to the running loop on first use
        self.closing = False
        self.started = time.time()

    # -- genesis ---------------------------------------------------------------------------

    @property
    def initialized(self) -> bool:
        return self.head is not None

    def apply_genesis(self, config: ChainConfig, accounts: list[dict[str, Any]],
                      contract_calls: list[tuple[str, str, dict[str, Any]]]) -> None:
        """Create the genesis block.

        ``accounts``: ``{account_id, amount, public_key?}``; ``contract_calls``:
        ``(predecessor, method, args)`` run on the contract in order (``init``,
        ``init_running``, ``vote_add_domains`` …).

        Raises
        ------
        ContractPanic
            If a contract call fails.
        """
        import json

        self.config = config
        self.runtime.contract_id = config.contract_id
        self.runtime.registrar = config.registrar
        for entry in accounts:
            code = CONTRACT_CODE_HASH if entry["account_id"] == config.contract_id else None
            self.ledger.create_account(entry["account_id"], int(entry["amount"]),
                                       **({"code_hash": code} if code else {}))
            if entry.get("public_key"):
                self.ledger.set_key(entry["account_id"], entry["public_key"],
                                    {"nonce": 0, "permission": "FullAccess"})
        from ..contract import CallEnv

        for predecessor, method, args in contract_calls:
            env = CallEnv(config.contract_id, predecessor, predecessor, 0, 300 * gas.TGAS, 0,
                          _no_yield, lambda d, p: False)
            self.contract.call(method, json.dumps(args).encode(), env)
        self.store.put("config", config.__dict__)
        self._commit_block(self._block_record(0, ZERO_HASH, [], [], 0))

    # -- submission -------------------------------------------------------------------------

    def submit(self, raw: bytes) -> str:
        """Validate a signed transaction and add it to the mempool; returns its hash.

        A transaction already known is not submitted twice (its hash is returned). The nonce
        must exceed the access key's committed nonce (the one :meth:`view_access_key` shows)
        and differ from the key's other pending transactions' (see :meth:`Ledger.verify`).
        The signer is charged at once — balance and allowance then cover every pending
        transaction, so none can fail to pay at inclusion — and the transaction is recorded
        in the store, so a restart before the next block keeps it.

        Raises
        ------
        TxDecodeError
            Not a borsh ``SignedTransaction``.
        InvalidTx
            NEAR's ``InvalidTxError`` (``InvalidSignature``, ``Expired``, ``InvalidNonce`` …).
        """
        tx = decode_signed_transaction(raw)
        validate_ids(tx)
        if not tx.signature_valid():
            raise InvalidTx("InvalidSignature")
        if self.transaction_record(tx.hash_b58) is not None:
            return tx.hash_b58
        self._accept(tx, raw)
        return tx.hash_b58

    def _accept(self, tx: DecodedTx, raw: bytes | None) -> None:
        """Validate ``tx`` against the state and pending transactions, record it (``raw`` in
        the store, unless restoring from there), charge it and add it to the mempool."""
        assert self.head is not None
        height = self.store.height_of(b58(tx.block_hash))
        if height is None or self.head["height"] - height > self.config.transaction_validity_period:
            raise InvalidTx("Expired")
        validate_actions(tx)
        cost = self.ledger.verify(tx, self.head["height"],
                                  self.mempool.nonces(tx.signer_id, tx.public_key))
        if raw is not None:
            self.store.add_pending_transaction(tx.hash_b58, raw)  # before the charge: may fail
        self.ledger.charge(tx, cost)
        self.mempool.add(tx, cost)
        self.txs[tx.hash_b58] = {
            "hash": tx.hash_b58, "view": tx.view(), "included_height": None, "block_hash": None,
            "outcome": None, "receipt_ids": [], "outstanding": [], "completed_height": None}

    def _restore_mempool(self) -> None:
        """Accept the stored mempool again after a restart, in its arrival order.

        The charges of pending transactions live in memory until the block that includes them
        commits, so they are lost with the process; the stored transactions are checked and
        charged again against the committed state — the state they were first accepted in, as
        no block came between — and so are accepted again (one that is not, e.g. after a host
        upgrade changed a rule, is dropped and logged).
        """
        if self.head is None:
            return
        for tx_hash, raw in self.store.pending_transactions():
            try:
                tx = decode_signed_transaction(raw)
                validate_ids(tx)
                if not tx.signature_valid():
                    raise InvalidTx("InvalidSignature")
                self._accept(tx, None)
            except (TxDecodeError, InvalidTx) as exc:
                log.warning("stored pending transaction %s dropped at restart: %s", tx_hash, exc)
                self.store.remove_pending_transactions([tx_hash])

    # -- blocks -----------------------------------------------------------------------------

    def produce_block(self) -> dict[str, Any]:
        """Produce the next block: execute due receipts, time out yields, include the mempool."""
        assert self.head is not None
        height = self.head["height"] + 1
        random_value = os.urandom(32)
        timestamp = time.time_ns()
        block_hash = b58(hashlib.sha256(
            f"{self.head['hash']}/{height}/{timestamp}".encode() + random_value).digest())
        executed: list[dict[str, Any]] = []
        gas_used = 0
        for receipt in self.scheduled.pop(str(height), []):
            gas_used += self._execute(receipt, height, block_hash, executed)
        for data_id in [d for d, y in self.yields.items() if y["deadline"] <= height]:
            entry = self.yields.pop(data_id)
            gas_used += self._execute(entry["receipt"], height, block_hash, executed)
        taken = self.mempool.take()
        included: list[DecodedTx] = []
        for entry in taken:
            refusal = self.ledger.include_nonce(entry.tx)
            if refusal is not None:
                self._drop(entry, refusal)
                continue
            included.append(entry.tx)
            gas_used += self._include(entry.tx, height, block_hash, executed)
        record = self._block_record(height, self.head["hash"], [t.view() for t in included],
                                    [receipt_view(r) for r in executed], gas_used,
                                    block_hash=block_hash, random_value=random_value,
                                    timestamp=timestamp)
        self._commit_block(record, [entry.tx.hash_b58 for entry in taken])
        return record

    def _drop(self, entry: PendingTx, refusal: Any) -> None:
        """Leave out a transaction that became invalid before inclusion, as nearcore's chunk
        producer does (its key was deleted earlier in the block): it is refunded what
        :meth:`submit` charged and becomes unknown. An allowance is not restored — the key it
        was taken from no longer exists as it was."""
        tx = entry.tx
        self.ledger.credit(tx.signer_id, entry.cost.total)
        self.txs.pop(tx.hash_b58, None)
        log.info("transaction %s dropped at inclusion: %s", tx.hash_b58, refusal)

    def _block_record(self, height: int, prev_hash: str, transactions: list[Any],
                      receipts: list[Any], gas_used: int, *, block_hash: str | None = None,
                      random_value: bytes | None = None, timestamp: int | None = None) -> dict[str, Any]:
        random_value = random_value if random_value is not None else os.urandom(32)
        timestamp = timestamp if timestamp is not None else time.time_ns()
        block_hash = block_hash or b58(hashlib.sha256(
            f"{prev_hash}/{height}/{timestamp}".encode() + random_value).digest())
        supply = sum(int(a["amount"]) for a in self.ledger.accounts.values())
        return {
            "height": height, "hash": block_hash, "prev_hash": prev_hash, "timestamp": timestamp,
            "random_value": b58(random_value), "total_supply": str(supply), "gas_used": gas_used,
            "transactions": transactions, "receipts": receipts,
        }

    def _commit_block(self, record: dict[str, Any], taken: Sequence[str] = ()) -> None:
        accounts, keys = self.ledger.take_dirty()
        with self.store.batch():
            self.store.save_accounts(accounts)
            self.store.save_access_keys(keys)
            self.store.put("contract_state", self.contract.state)
            self.store.put("yields", self.yields)
            self.store.put("scheduled", self.scheduled)
            for tx_hash in self._dirty_txs:
                self.store.put_transaction(tx_hash, self.txs[tx_hash])
            for receipt_id in self._dirty_receipts:
                self.store.put_receipt(receipt_id, self.receipts[receipt_id])
            self.store.put("open_txs", sorted(self.open_txs))
            self.store.remove_pending_transactions(taken)
            self.store.put_block(record["height"], record["hash"], record)
            if record["height"] % GC_EVERY_BLOCKS == 0:
                self.store.forget_empty_blocks(record["height"] - KEEP_EMPTY_BLOCKS)
        self._dirty_txs.clear()
        self._dirty_receipts.clear()
        for tx_hash in [h for h in self.txs if h not in self.open_txs and self.txs[h]["completed_height"] is not None]:
            del self.txs[tx_hash]
        self.receipts.clear()
        self.head = record

    def _include(self, tx: DecodedTx, height: int, block_hash: str, executed: list[Any]) -> int:
        tx_hash = tx.hash_b58
        receipt = new_receipt(derive_id(tx_hash, "receipt"), tx.signer_id, tx.receiver_id,
                              tx.signer_id, tx.public_key, tx.actions, tx_hash)
        burnt = tx_cost(tx).burnt_gas - gas.RECEIPT_BASE_GAS  # the receipt reports its own share
        record = self.txs[tx_hash]
        record.update(included_height=height, block_hash=block_hash,
                      outcome=outcome_with_id(tx_hash, block_hash, tx.signer_id,
                                              {"SuccessReceiptId": receipt["receipt_id"]}, [],
                                              [receipt["receipt_id"]], burnt),
                      receipt_ids=[receipt["receipt_id"]], outstanding=[receipt["receipt_id"]])
        self.open_txs.add(tx_hash)
        self._dirty_txs.add(tx_hash)
        return burnt + self._execute(receipt, height, block_hash, executed)

    def _execute(self, receipt: dict[str, Any], height: int, block_hash: str,
                 executed: list[Any]) -> int:
        try:
            effects = self.runtime.execute(receipt, height)
        except Exception:  # a host bug must fail one receipt, never stop the chain
            log.exception("receipt %s could not be executed", receipt["receipt_id"])
            effects = Effects(status={"Failure": {"ActionError": {"index": 0, "kind": {
                "FunctionCallError": {"ExecutionError": "internal error of the devnet host"}}}}})
        new = effects.children + effects.yields
        outcome = outcome_with_id(receipt["receipt_id"], block_hash, receipt["receiver_id"],
                                  effects.status, effects.logs, [r["receipt_id"] for r in new],
                                  effects.gas_burnt)
        self._save_receipt(receipt, outcome, height)
        executed.append(receipt)
        for child in effects.children:
            self.scheduled.setdefault(str(height + 1), []).append(child)
        for callback in effects.yields:
            self.yields[callback["yield_data_id"]] = {
                "receipt": callback, "deadline": height + YIELD_TIMEOUT_BLOCKS}
        for data_id, payload in effects.resumes:
            entry = self.yields.pop(data_id)
            callback = dict(entry["receipt"], promise_result=base64.b64encode(payload).decode())
            self.scheduled.setdefault(str(height + 1), []).append(callback)
        record = self.transaction_record(receipt["tx_hash"])
        if record is not None:
            self.txs[record["hash"]] = record
            record["outstanding"].remove(receipt["receipt_id"])
            record["outstanding"].extend(r["receipt_id"] for r in new)
            record["receipt_ids"].extend(r["receipt_id"] for r in new)
            if not record["outstanding"]:
                record["completed_height"] = height
                self.open_txs.discard(record["hash"])
            self._dirty_txs.add(record["hash"])
        return effects.gas_burnt

    def _save_receipt(self, receipt: dict[str, Any], outcome: dict[str, Any], height: int) -> None:
        self.receipts[receipt["receipt_id"]] = {"receipt": receipt, "outcome": outcome,
                                                "block_height": height}
        self._dirty_receipts.add(receipt["receipt_id"])

    # -- lookups ----------------------------------------------------------------------------

    def block(self, ref: dict[str, Any]) -> dict[str, Any] | None:
        """A block record by ``{"finality"}``, ``{"block_id": height|hash}`` or ``{}``.

        ``None`` if there is no such block (a height beyond the head or SQLite's range, an
        unknown hash).

        Raises
        ------
        ValueError
            A finality that is not NEAR's, or a block id that is neither a non-negative
            height nor a hash string.
        """
        assert self.head is not None
        if "block_id" in ref:
            block_id = ref["block_id"]
            if isinstance(block_id, int) and not isinstance(block_id, bool) and block_id >= 0:
                # Heights are u64 on NEAR; SQLite integers stop at 2**63 - 1 (none is that high).
                return self.store.block_by_height(block_id) if block_id <= self.head["height"] else None
            if isinstance(block_id, str) and block_id.isascii():
                if block_id.isdigit():
                    return self.block({"block_id": int(block_id)})
                return self.store.block_by_hash(block_id)
            raise ValueError("block_id must be a block height or a block hash")
        finality = ref.get("finality", "final")
        lag = {"optimistic": 0, "near-final": 1, "final": FINALITY_LAG}.get(finality) if isinstance(
            finality, str) else None
        if lag is None:
            raise ValueError(f"unknown finality {str(finality)[:30]!r}")
        return self.store.block_by_height(max(self.head["height"] - lag, 0))

    def transaction_record(self, tx_hash: str) -> dict[str, Any] | None:
        return self.txs.get(tx_hash) or self.store.transaction(tx_hash)

    def receipt_record(self, receipt_id: str) -> dict[str, Any] | None:
        return self.receipts.get(receipt_id) or self.store.receipt(receipt_id)

    def tx_level(self, record: dict[str, Any]) -> tuple[set[str], str]:
        """Which ``wait_until`` levels ``record`` satisfies, and the one to report."""
        assert self.head is not None
        head = self.head["height"]
        included = record["included_height"]
        done = record["completed_height"]
        levels = {"NONE"}
        if included is not None:
            levels.add("INCLUDED")
            if head - included >= FINALITY_LAG:
                levels.add("INCLUDED_FINAL")
        if done is not None:
            levels.add("EXECUTED_OPTIMISTIC")
            if "INCLUDED_FINAL" in levels:
                levels.add("EXECUTED")
            if head - done >= FINALITY_LAG:
                levels.add("FINAL")
        for name in ("FINAL", "EXECUTED", "EXECUTED_OPTIMISTIC", "INCLUDED_FINAL", "INCLUDED"):
            if name in levels:
                return levels, name
        return levels, "NONE"

    def tx_result(self, record: dict[str, Any], with_receipts: bool = False) -> dict[str, Any]:
        """NEAR's transaction status response (``FinalExecutionOutcome`` once executed)."""
        _, level = self.tx_level(record)
        if record["completed_height"] is None:
            return {"final_execution_status": level}
        receipts = [self.receipt_record(r) for r in record["receipt_ids"]]
        outcomes = {r["receipt"]["receipt_id"]: r["outcome"] for r in receipts if r}
        result: dict[str, Any] = {
            "final_execution_status": level,
            "status": _final_status(record["receipt_ids"][0], outcomes),
            "transaction": record["view"],
            "transaction_outcome": record["outcome"],
            "receipts_outcome": [outcomes[r] for r in record["receipt_ids"] if r in outcomes],
        }
        if with_receipts:
            result["receipts"] = [receipt_view(r["receipt"]) for r in receipts if r]
        return result

    async def wait_for(self, tx_hash: str, wait_until: str, timeout: float) -> dict[str, Any]:
        """Wait until the transaction reaches ``wait_until`` (one of NEAR's levels).

        Raises
        ------
        UnknownTransaction
            The hash is not known.
        TimeoutError
            ``timeout`` seconds passed first, or the host began to stop (:meth:`release_waiters`).
        """
        deadline = time.monotonic() + timeout
        async with self.changed:
            while True:
                record = self.transaction_record(tx_hash)
                if record is None:
                    raise UnknownTransaction(tx_hash)
                levels, _ = self.tx_level(record)
                if wait_until in levels:
                    return self.tx_result(record)
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.closing:
                    raise TimeoutError(tx_hash)
                try:
                    await asyncio.wait_for(self.changed.wait(), remaining)
                except TimeoutError:
                    raise TimeoutError(tx_hash) from None

    async def notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def release_waiters(self) -> None:
        """Answer every pending :meth:`wait_for` with its timeout now: no block will come."""
        self.closing = True
        await self.notify()

    # -- queries ----------------------------------------------------------------------------

    def view_account(self, account_id: str) -> dict[str, Any]:
        account = self.ledger.accounts.get(account_id)
        if account is None:
            raise QueryError("UNKNOWN_ACCOUNT", {"requested_account_id": account_id},
                             f"account {account_id} does not exist while viewing")
        return {"amount": account["amount"], "locked": account["locked"],
                "code_hash": account["code_hash"], "storage_usage": account["storage_usage"],
                "storage_paid_at": 0}

    def view_access_key(self, account_id: str, public_key: str) -> dict[str, Any]:
        """The key with its committed nonce (the last block's), as nearcore reports it; pending
        transactions do not move it."""
        self.view_account(account_id)
        key = self.ledger.key(account_id, public_key)
        if key is None:
            raise QueryError("UNKNOWN_ACCESS_KEY", {"public_key": public_key},
                             f"access key {public_key} does not exist while viewing")
        return {"nonce": key["nonce"], "permission": key["permission"]}

    def view_access_key_list(self, account_id: str) -> dict[str, Any]:
        self.view_account(account_id)
        return {"keys": [{"public_key": k, "access_key": {"nonce": v["nonce"], "permission": v["permission"]}}
                         for k, v in self.ledger.keys_of(account_id)]}

    def call_function(self, account_id: str, method: str, args: bytes) -> dict[str, Any]:
        import json

        self.view_account(account_id)
        if account_id != self.config.contract_id:
            raise QueryError("NO_CONTRACT_CODE", {"contract_account_id": account_id},
                             f"Contract code for contract ID #{account_id} has never been observed on the node")
        assert self.head is not None
        try:
            guard_call_args(args)
            value = self.contract.view(method, args, ViewEnv(account_id, self.head["height"]))
        except ContractPanic as panic:
            message = ("wasm execution failed with error: FunctionCallError(ExecutionError("
                       f"\"Smart contract panicked: {panic.message}\"))")
            if panic.message == "MethodNotFound":
                message = "wasm execution failed with error: FunctionCallError(MethodResolveError(MethodNotFound))"
            raise QueryError("CONTRACT_EXECUTION_ERROR", {"vm_error": message}, message) from None
        return {"result": list(json.dumps(value, separators=(",", ":")).encode()), "logs": []}


def _final_status(first: str, outcomes: dict[str, dict[str, Any]]) -> Any:
    receipt_id = first
    for _ in range(len(outcomes) + 1):
        outcome = outcomes.get(receipt_id)
        if outcome is None:
            return "Started"
        status = outcome["outcome"]["status"]
        if "SuccessReceiptId" in status:
            receipt_id = status["SuccessReceiptId"]
            continue
        if "Failure" in status:
            return {"Failure": status["Failure"]}
        return {"SuccessValue": status["SuccessValue"]}
    return "Started"


def _no_yield(method: str, args: dict[str, Any]) -> bytes:
    raise ContractPanic("yields are not available at genesis")


__all__ = ["Chain", "ChainConfig", "InvalidTx", "QueryError", "TxDecodeError", "UnknownTransaction",
           "YIELD_TIMEOUT_BLOCKS"]
