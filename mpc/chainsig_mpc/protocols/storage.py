"""Durable single-use markers for presignatures and nonces.

A signer marks a presignature (or FROST nonce) consumed **before** any share computed from it
leaves the process; :meth:`ConsumptionLog.mark_consumed` must be durable when it returns (the
node service backs it with an fsynced SQLite write — :class:`SqliteConsumptionLog`).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Protocol, runtime_checkable

from .errors import SigningRefusedError


@runtime_checkable
class ConsumptionLog(Protocol):
    """Where single-use material is recorded as used."""

    def mark_consumed(self, kind: str, item_id: str) -> None:
        """Record ``item_id`` as used, durably.

        Raises
        ------
        SigningRefusedError
            If it was already used.
        """

    def is_consumed(self, kind: str, item_id: str) -> bool:
        """Whether ``item_id`` was used."""


class InMemoryConsumptionLog:
    """A volatile log (tests, benchmarks)."""

    def __init__(self) -> None:
        self._used: set[tuple[str, str]] = set()

    def mark_consumed(self, kind: str, item_id: str) -> None:
        """See :meth:`ConsumptionLog.mark_consumed`."""
        if (kind, item_id) in self._used:
            raise SigningRefusedError(f"{kind} {item_id[:16]}… was already used")
        self._used.add((kind, item_id))

    def is_consumed(self, kind: str, item_id: str) -> bool:
        """See :meth:`ConsumptionLog.is_consumed`."""
        return (kind, item_id) in self._used


class SqliteConsumptionLog:
    """A durable log in SQLite (``synchronous=FULL``: each commit is fsynced).

    Parameters
    ----------
    path:
        Database file; created if missing.
    """

    def __init__(self, path: str | Path) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS consumed (kind TEXT NOT NULL, "
            "item_id TEXT NOT NULL, PRIMARY KEY (kind, item_id))"
        )

    def mark_consumed(self, kind: str, item_id: str) -> None:
        """See :meth:`ConsumptionLog.mark_consumed`."""
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO consumed (kind, item_id) VALUES (?, ?)", (kind, item_id)
                )
            except sqlite3.IntegrityError:
                raise SigningRefusedError(f"{kind} {item_id[:16]}… was already used") from None

    def is_consumed(self, kind: str, item_id: str) -> bool:
        """See :meth:`ConsumptionLog.is_consumed`."""
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM consumed WHERE kind = ? AND item_id = ?", (kind, item_id)
            ).fetchone()
        return row is not None

    def close(self) -> None:
        """Close the database."""
        self._db.close()
