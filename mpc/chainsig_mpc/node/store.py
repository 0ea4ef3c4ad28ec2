"""The node's encrypted persistence: shares, presignatures, nonces, consumed markers and
protocol progress in SQLite, encrypted at rest under the node key.

* Every value is sealed with AES-256-GCM (``cryptography``) under a key derived from the node
  key (HKDF-SHA256), with a fresh random 96-bit nonce; the record's kind and id are the
  associated data, so a row moved to another kind or id fails authentication.
* Kinds and ids are stored in the clear (they are lookup keys and carry no secret); values never.
* SQLite runs in WAL mode with ``synchronous=FULL``: each committed write is fsynced before the
  call returns. ``secure_delete`` overwrites deleted records in the database file.
* :meth:`NodeStore.consume` marks a single-use record (presignature, nonce) consumed and erases
  it in one fsynced transaction; the protocols call it *before* any share computed from the
  record leaves the node. A consumed id can never be consumed — or stored — again.
* A wrong node key is one clear :class:`WrongNodeKeyError` when the store opens (a sealed check
  value is kept in the store), not garbage later.

Nothing here logs values or keys; log lines name kinds, ids and counts only.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from chainsig_core.errors import InvalidInputError

from .errors import RecordConsumedError, StoreError, WrongNodeKeyError
from .nodekey import NODE_KEY_BYTES

log = logging.getLogger(__name__)

KIND_KEYSHARE = "keyshare"
KIND_PRESIGNATURE = "presignature"
KIND_FROST_NONCE = "frost-nonce"
KIND_PROGRESS = "progress"

SCHEMA_VERSION = 1
_NONCE_BYTES = 12
_CHECK_PLAINTEXT = b"chainsig-mpc node store: key check"
_MAX_NAME = 256

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL, id TEXT NOT NULL, nonce BLOB NOT NULL, sealed BLOB NOT NULL,
    PRIMARY KEY (kind, id));
CREATE TABLE IF NOT EXISTS consumed (
    kind TEXT NOT NULL, id TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (kind, id));
"""


def record_aad(kind: str, record_id: str) -> bytes:
    """The associated data that binds a sealed value to its kind and id."""
    return b"chainsig-mpc/record/v1\x00" + kind.encode() + b"\x00" + record_id.encode()


def derive_store_key(node_key: bytes) -> bytes:
    """The AES-256 key of the store, derived from the node key (HKDF-SHA256)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    if not isinstance(node_key, bytes) or len(node_key) != NODE_KEY_BYTES:
        raise InvalidInputError("the node key is 32 bytes")
    return HKDF(hashes.SHA256(), 32, salt=None, info=b"chainsig-mpc store v1").derive(node_key)


class NodeStore:
    """Encrypted records in one SQLite file.

    Parameters
    ----------
    path:
        Database file (created with its directory if missing).
    node_key:
        The 32-byte node key (:class:`chainsig_mpc.node.nodekey.NodeKeySource`).

    Raises
    ------
    WrongNodeKeyError
        If the store was created under another node key.
    StoreError
        If the file is not a chainsig node store or cannot be opened.

    The store implements the protocols' ``ConsumptionLog`` (``mark_consumed`` /
    ``is_consumed``). Calls are synchronous and thread-safe; a write takes one fsync.
    """

    def __init__(self, path: Path | str, node_key: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self.path = Path(path)
        self._aead = AESGCM(derive_store_key(node_key))
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA secure_delete=ON")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open node store {self.path}: {exc}") from None
        os.chmod(self.path, 0o600)
        self._check_key()

    # -- records ----------------------------------------------------------------------------

    def put(self, kind: str, record_id: str, value: bytes) -> None:
        """Store (or replace) a record, durably.

        Raises
        ------
        RecordConsumedError
            If ``(kind, record_id)`` was consumed: single-use ids never come back.
        InvalidInputError
            For a malformed kind or id, or a value that is not bytes.
        """
        _check_name(kind, "kind")
        _check_name(record_id, "record id")
        if not isinstance(value, bytes | bytearray):
            raise InvalidInputError("a record value must be bytes")
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, bytes(value), record_aad(kind, record_id))
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM consumed WHERE kind=? AND id=?", (kind, record_id)).fetchone():
                raise RecordConsumedError(f"{kind} {record_id} was consumed; it cannot be stored again")
            db.execute(
                "INSERT OR REPLACE INTO records (kind, id, nonce, sealed) VALUES (?, ?, ?, ?)",
                (kind, record_id, nonce, sealed),
            )

    def get(self, kind: str, record_id: str) -> bytes | None:
        """The record's value, or ``None`` if there is none.

        Raises
        ------
        WrongNodeKeyError
            If the stored value does not authenticate (tampered, or moved from another id).
        """
        with self._lock:
            row = self._db.execute(
                "SELECT nonce, sealed FROM records WHERE kind=? AND id=?", (kind, record_id)
            ).fetchone()
        return None if row is None else self._open(kind, record_id, row[0], row[1])

    def ids(self, kind: str) -> list[str]:
        """Ids of the records of ``kind``, sorted."""
        with self._lock:
            rows = self._db.execute("SELECT id FROM records WHERE kind=? ORDER BY id", (kind,)).fetchall()
        return [r[0] for r in rows]

    def items(self, kind: str) -> Iterator[tuple[str, bytes]]:
        """``(id, value)`` of every record of ``kind`` (decrypted one by one)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, nonce, sealed FROM records WHERE kind=? ORDER BY id", (kind,)
            ).fetchall()
        for record_id, nonce, sealed in rows:
            yield record_id, self._open(kind, record_id, nonce, sealed)

    def kinds(self) -> list[str]:
        """The kinds that have records, sorted."""
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT DISTINCT kind FROM records ORDER BY kind")]

    def count(self, kind: str) -> int:
        """Number of records of ``kind``."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM records WHERE kind=?", (kind,)).fetchone()[0])

    def delete(self, kind: str, record_id: str) -> bool:
        """Erase a record (durably); False if there was none."""
        with self._transaction() as db:
            cursor = db.execute("DELETE FROM records WHERE kind=? AND id=?", (kind, record_id))
        return cursor.rowcount > 0

    # -- single use -------------------------------------------------------------------------

    def consume(self, kind: str, record_id: str) -> None:
        """Mark ``(kind, record_id)`` consumed and erase its record; committed and fsynced
        before returning.

        Raises
        ------
        RecordConsumedError
            If it was consumed before (the caller must not use it).
        """
        _check_name(kind, "kind")
        _check_name(record_id, "record id")
        import time

        with self._transaction() as db:
            try:
                db.execute("INSERT INTO consumed (kind, id, at) VALUES (?, ?, ?)",
                           (kind, record_id, int(time.time())))
            except sqlite3.IntegrityError:
                raise RecordConsumedError(f"{kind} {record_id} was already consumed") from None
            db.execute("DELETE FROM records WHERE kind=? AND id=?", (kind, record_id))
        log.debug("consumed %s %s", kind, record_id)

    def is_consumed(self, kind: str, record_id: str) -> bool:
        """Whether ``(kind, record_id)`` was consumed."""
        with self._lock:
            row = self._db.execute("SELECT 1 FROM consumed WHERE kind=? AND id=?", (kind, record_id)).fetchone()
        return row is not None

    def mark_consumed(self, kind: str, item_id: str) -> None:
        """The protocols' ``ConsumptionLog.mark_consumed``: :meth:`consume`."""
        self.consume(kind, item_id)

    # -- plumbing ---------------------------------------------------------------------------

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Group several writes into one fsynced transaction (e.g. install a share and erase
        the previous epoch's presignatures)."""
        with self._transaction():
            yield

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            nested = self._db.in_transaction
            if not nested:
                try:
                    self._db.execute("BEGIN IMMEDIATE")  # waits up to 5 s for another writer
                except sqlite3.DatabaseError as exc:
                    raise StoreError(f"node store {self.path} is not writable: {exc}") from None
            try:
                yield self._db
            except sqlite3.DatabaseError as exc:
                if not nested:
                    self._db.execute("ROLLBACK")
                raise StoreError(f"node store {self.path}: {exc}") from None
            except BaseException:
                if not nested:
                    self._db.execute("ROLLBACK")
                raise
            else:
                if not nested:
                    try:
                        self._db.execute("COMMIT")
                    except sqlite3.DatabaseError as exc:
                        self._db.execute("ROLLBACK")
                        raise StoreError(f"cannot commit to node store {self.path}: {exc}") from None

    def _open(self, kind: str, record_id: str, nonce: bytes, sealed: bytes) -> bytes:
        from cryptography.exceptions import InvalidTag

        try:
            return self._aead.decrypt(nonce, sealed, record_aad(kind, record_id))
        except (InvalidTag, ValueError):
            raise WrongNodeKeyError(
                f"record {kind} {record_id} in {self.path} does not authenticate "
                "(tampered, moved from another record, or another node key)"
            ) from None

    def _check_key(self) -> None:
        from cryptography.exceptions import InvalidTag

        with self._transaction() as db:
            row = db.execute("SELECT value FROM meta WHERE name='key_check'").fetchone()
            if row is None:
                if db.execute("SELECT COUNT(*) FROM records").fetchone()[0]:
                    raise StoreError(f"node store {self.path} has records but no key check value")
                nonce = os.urandom(_NONCE_BYTES)
                sealed = nonce + self._aead.encrypt(nonce, _CHECK_PLAINTEXT, b"key-check")
                db.execute("INSERT INTO meta (name, value) VALUES ('key_check', ?)", (sealed,))
                db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('schema', ?)", (SCHEMA_VERSION,))
                return
        value = bytes(row[0])
        try:
            self._aead.decrypt(value[:_NONCE_BYTES], value[_NONCE_BYTES:], b"key-check")
        except (InvalidTag, ValueError):
            self._db.close()
            raise WrongNodeKeyError(f"the node key does not open node store {self.path} (wrong key?)") from None

    def close(self) -> None:
        """Checkpoint the WAL into the database file and close it."""
        with self._lock:
            try:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.DatabaseError:
                pass
            self._db.close()

    def __enter__(self) -> NodeStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _check_name(value: object, what: str) -> None:
    if not isinstance(value, str) or not 0 < len(value) <= _MAX_NAME or "\x00" in value:
        raise InvalidInputError(f"a {what} must be a string of 1-{_MAX_NAME} characters without NUL")
