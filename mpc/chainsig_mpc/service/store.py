"""The node's encrypted SQLite store: key shares, presignatures, nonces, consumption markers.

Every record is sealed with AES-256-GCM (``cryptography``) under the node key; the record's
kind and id are the associated data, so a ciphertext moved to another row does not open. A
sentinel record written at creation detects a wrong node key at open time. The database runs
with ``synchronous=FULL``: a write is fsynced when the call returns — in particular
:meth:`NodeStore.mark_consumed`, which signers call before a share leaves the process.

Nothing here logs; errors name the file, never a key or a plaintext.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..node.errors import NodeKeyError, StoreError, WrongNodeKeyError
from ..protocols.errors import SigningRefusedError

NODE_KEY_ENV = "CHAINSIG_MPC_NODE_KEY"
"""Environment variable holding the node key (64 hex characters) instead of a key file."""

_SENTINEL = b"chainsig-mpc node store v1"


def load_node_key(path: Path | str | None) -> bytes:
    """The 32-byte node key: from :data:`NODE_KEY_ENV` if set, else from ``path`` (hex text).

    Raises
    ------
    NodeKeyError
        If neither source holds 64 hex characters.
    """
    text = os.environ.get(NODE_KEY_ENV)
    where = NODE_KEY_ENV
    if not text:
        if path is None:
            raise NodeKeyError(f"no node key: set {NODE_KEY_ENV} or node_key_file in the config")
        where = str(path)
        try:
            text = Path(path).read_text("ascii").strip()
        except (OSError, UnicodeDecodeError):
            raise NodeKeyError(f"cannot read the node key file {path}") from None
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) != 32:
        raise NodeKeyError(f"the node key in {where} must be 64 hex characters")
    return key


def write_node_key(path: Path | str) -> Path:
    """Create a fresh random node key file (mode 0600; never overwrites).

    Raises
    ------
    NodeKeyError
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise NodeKeyError(f"node key file {target} already exists; not overwriting it") from None
    except OSError as exc:
        raise NodeKeyError(f"cannot write node key file {target}: {exc.strerror}") from None
    with os.fdopen(fd, "w") as handle:
        handle.write(os.urandom(32).hex() + "\n")
    return target


class NodeStore:
    """Encrypted records by (kind, id) plus the durable consumption log.

    Parameters
    ----------
    path:
        The SQLite file (created if missing).
    key:
        The 32-byte node key.

    Raises
    ------
    StoreError
        If the file cannot be opened.
    WrongNodeKeyError
        If the store was created under another key.
    """

    def __init__(self, path: Path | str, key: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if len(key) != 32:
            raise NodeKeyError("the node key must be 32 bytes")
        self.path = Path(path)
        self._aead = AESGCM(key)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS records (kind TEXT NOT NULL, id TEXT NOT NULL, "
                "sealed BLOB NOT NULL, PRIMARY KEY (kind, id))"
            )
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS consumed (kind TEXT NOT NULL, id TEXT NOT NULL, "
                "PRIMARY KEY (kind, id))"
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the node store {self.path}: {exc}") from None
        sentinel = self._raw_get("meta", "sentinel")
        if sentinel is None:
            self._raw_put("meta", "sentinel", _SENTINEL)
        elif sentinel != _SENTINEL:
            raise WrongNodeKeyError(f"the node key does not open the store {self.path}")

    # -- sealed records -------------------------------------------------------------------
    def _seal(self, kind: str, item_id: str, plain: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plain, f"{kind}\x00{item_id}".encode())

    def _open(self, kind: str, item_id: str, sealed: bytes) -> bytes:
        from cryptography.exceptions import InvalidTag

        try:
            return self._aead.decrypt(sealed[:12], sealed[12:], f"{kind}\x00{item_id}".encode())
        except InvalidTag:
            raise WrongNodeKeyError(f"a record in {self.path} does not open with the node key") from None

    def _raw_put(self, kind: str, item_id: str, plain: bytes) -> None:
        sealed = self._seal(kind, item_id, plain)
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO records (kind, id, sealed) VALUES (?, ?, ?)",
                (kind, item_id, sealed),
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write to the node store {self.path}: {exc}") from None

    def _raw_get(self, kind: str, item_id: str) -> bytes | None:
        row = self._db.execute(
            "SELECT sealed FROM records WHERE kind = ? AND id = ?", (kind, item_id)
        ).fetchone()
        return None if row is None else self._open(kind, item_id, row[0])

    def put(self, kind: str, item_id: str, value: Any) -> None:
        """Seal and store a JSON value (fsynced on return)."""
        self._raw_put(kind, item_id, json.dumps(value, sort_keys=True).encode())

    def get(self, kind: str, item_id: str) -> Any | None:
        """The stored JSON value, or None."""
        raw = self._raw_get(kind, item_id)
        return None if raw is None else json.loads(raw)

    def delete(self, kind: str, item_id: str) -> None:
        """Remove a record (no error when absent)."""
        self._db.execute("DELETE FROM records WHERE kind = ? AND id = ?", (kind, item_id))

    def items(self, kind: str) -> Iterator[tuple[str, Any]]:
        """Every (id, value) of a kind."""
        rows = self._db.execute("SELECT id, sealed FROM records WHERE kind = ?", (kind,)).fetchall()
        for item_id, sealed in rows:
            yield item_id, json.loads(self._open(kind, item_id, sealed))

    def count(self, kind: str) -> int:
        """How many records of a kind are stored."""
        return int(self._db.execute("SELECT COUNT(*) FROM records WHERE kind = ?", (kind,)).fetchone()[0])

    # -- ConsumptionLog -------------------------------------------------------------------
    def mark_consumed(self, kind: str, item_id: str) -> None:
        """Record single-use material as used; durable (fsynced) when it returns.

        Raises
        ------
        SigningRefusedError
            If it was already used.
        """
        try:
            self._db.execute("INSERT INTO consumed (kind, id) VALUES (?, ?)", (kind, item_id))
        except sqlite3.IntegrityError:
            raise SigningRefusedError(f"{kind} {item_id[:16]}… was already used") from None

    def is_consumed(self, kind: str, item_id: str) -> bool:
        """Whether the material was used."""
        row = self._db.execute(
            "SELECT 1 FROM consumed WHERE kind = ? AND id = ?", (kind, item_id)
        ).fetchone()
        return row is not None

    def close(self) -> None:
        """Close the database."""
        self._db.close()
