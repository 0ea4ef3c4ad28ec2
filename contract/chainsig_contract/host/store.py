"""SQLite persistence of the devnet chain.

One database file holds accounts, access keys, blocks (with their chunk), transactions,
receipts with their outcomes, and a small key/value table for the contract state, the
yields and the scheduled receipts. Everything a block changes is written in one SQLite
transaction when the block is produced, so a restart resumes exactly at the last block —
pending sign requests and their deadlines (block heights) included. Transactions accepted
since the last block (the mempool) are written as they are accepted, in arrival order, and
removed in the batch of the block that takes them, so none is lost by a restart.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (account_id TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS access_keys (
    account_id TEXT NOT NULL, public_key TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (account_id, public_key));
CREATE TABLE IF NOT EXISTS blocks (
    height INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE, value TEXT NOT NULL,
    empty INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS chunks (chunk_hash TEXT PRIMARY KEY, height INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS transactions (hash TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS receipts (receipt_id TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS mempool (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, hash TEXT NOT NULL UNIQUE, raw BLOB NOT NULL);
"""


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


class Store:
    """The chain's SQLite database (``<data_dir>/chain.sqlite``)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """One atomic write (a block)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # key/value ---------------------------------------------------------------------------
    def get(self, key: str) -> Any:
        row = self._db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def put(self, key: str, value: Any) -> None:
        self._db.execute("INSERT OR REPLACE INTO kv VALUES (?, ?)", (key, _dump(value)))

    # accounts and keys ------------------------------------------------------------------------
    def load_accounts(self) -> dict[str, dict[str, Any]]:
        return {a: json.loads(v) for a, v in self._db.execute("SELECT account_id, value FROM accounts")}

    def load_access_keys(self) -> dict[tuple[str, str], dict[str, Any]]:
        rows = self._db.execute("SELECT account_id, public_key, value FROM access_keys")
        return {(a, k): json.loads(v) for a, k, v in rows}

    def save_accounts(self, items: Iterable[tuple[str, dict[str, Any] | None]]) -> None:
        for account_id, value in items:
            if value is None:
                self._db.execute("DELETE FROM accounts WHERE account_id = ?", (account_id,))
                self._db.execute("DELETE FROM access_keys WHERE account_id = ?", (account_id,))
            else:
                self._db.execute("INSERT OR REPLACE INTO accounts VALUES (?, ?)",
                                 (account_id, _dump(value)))

    def save_access_keys(self, items: Iterable[tuple[tuple[str, str], dict[str, Any] | None]]) -> None:
        for (account_id, key), value in items:
            if value is None:
                self._db.execute("DELETE FROM access_keys WHERE account_id = ? AND public_key = ?",
                                 (account_id, key))
            else:
                self._db.execute("INSERT OR REPLACE INTO access_keys VALUES (?, ?, ?)",
                                 (account_id, key, _dump(value)))

    # blocks ----------------------------------------------------------------------------------
    def put_block(self, height: int, block_hash: str, value: dict[str, Any]) -> None:
        from .views import chunk_hash_of

        empty = int(not value["transactions"] and not value["receipts"])
        self._db.execute("INSERT OR REPLACE INTO blocks VALUES (?, ?, ?, ?)",
                         (height, block_hash, _dump(value), empty))
        self._db.execute("INSERT OR REPLACE INTO chunks VALUES (?, ?)", (chunk_hash_of(value), height))

    def forget_empty_blocks(self, below: int) -> None:
        """Drop empty blocks under height ``below`` (never the genesis block)."""
        self._db.execute("DELETE FROM chunks WHERE height IN "
                         "(SELECT height FROM blocks WHERE empty = 1 AND height > 0 AND height < ?)", (below,))
        self._db.execute("DELETE FROM blocks WHERE empty = 1 AND height > 0 AND height < ?", (below,))

    def block_by_chunk(self, chunk_hash: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT height FROM chunks WHERE chunk_hash = ?", (chunk_hash,)).fetchone()
        return None if row is None else self.block_by_height(row[0])

    def block_by_height(self, height: int) -> dict[str, Any] | None:
        row = self._db.execute("SELECT value FROM blocks WHERE height = ?", (height,)).fetchone()
        return None if row is None else self._expand(json.loads(row[0]))

    def block_by_hash(self, block_hash: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT value FROM blocks WHERE hash = ?", (block_hash,)).fetchone()
        return None if row is None else self._expand(json.loads(row[0]))

    def _expand(self, record: dict[str, Any]) -> dict[str, Any]:
        """Add the finality hashes NEAR reports in a header (head − 2 and head − 1)."""
        height = record["height"]
        record["last_final_block"] = self.hash_at(max(height - 2, 0)) or record["hash"]
        record["last_ds_final_block"] = self.hash_at(max(height - 1, 0)) or record["hash"]
        return record

    def height_of(self, block_hash: str) -> int | None:
        """The height of a known block (without loading it)."""
        row = self._db.execute("SELECT height FROM blocks WHERE hash = ?", (block_hash,)).fetchone()
        return None if row is None else row[0]

    def hash_at(self, height: int) -> str | None:
        row = self._db.execute("SELECT hash FROM blocks WHERE height = ?", (height,)).fetchone()
        return None if row is None else row[0]

    def head_height(self) -> int | None:
        row = self._db.execute("SELECT MAX(height) FROM blocks").fetchone()
        return row[0]

    # transactions and receipts ----------------------------------------------------------------
    def put_transaction(self, tx_hash: str, value: dict[str, Any]) -> None:
        self._db.execute("INSERT OR REPLACE INTO transactions VALUES (?, ?)", (tx_hash, _dump(value)))

    def transaction(self, tx_hash: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT value FROM transactions WHERE hash = ?", (tx_hash,)).fetchone()
        return None if row is None else json.loads(row[0])

    def put_receipt(self, receipt_id: str, value: dict[str, Any]) -> None:
        self._db.execute("INSERT OR REPLACE INTO receipts VALUES (?, ?)", (receipt_id, _dump(value)))

    def receipt(self, receipt_id: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT value FROM receipts WHERE receipt_id = ?", (receipt_id,)).fetchone()
        return None if row is None else json.loads(row[0])

    # the mempool ------------------------------------------------------------------------------
    def add_pending_transaction(self, tx_hash: str, raw: bytes) -> None:
        """Record an accepted transaction (its signed borsh bytes) at once, after the others."""
        self._db.execute("INSERT OR IGNORE INTO mempool (hash, raw) VALUES (?, ?)", (tx_hash, raw))

    def pending_transactions(self) -> list[tuple[str, bytes]]:
        """The recorded mempool, ``(hash, raw)`` in arrival order."""
        return [(h, bytes(raw)) for h, raw in self._db.execute("SELECT hash, raw FROM mempool ORDER BY seq")]

    def remove_pending_transactions(self, tx_hashes: Iterable[str]) -> None:
        self._db.executemany("DELETE FROM mempool WHERE hash = ?", ((h,) for h in tx_hashes))
