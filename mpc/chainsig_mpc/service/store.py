"""JSON records on the node's encrypted store (:class:`chainsig_mpc.node.store.NodeStore`).

The node-building-blocks store seals every value with AES-256-GCM under a key derived from the
node key (kind and id as associated data), runs SQLite with ``synchronous=FULL`` and refuses a
wrong node key at open. This adapter stores the service's JSON values in it, under the same
kinds the operator's ``mpc backup`` / ``mpc restore`` use (active key shares are ``keyshare``
records), and makes its consumption log refuse a second use the way the protocols expect
(:class:`SigningRefusedError`). Nothing here logs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..node.errors import RecordConsumedError
from ..node.store import KIND_KEYSHARE
from ..node.store import NodeStore as SealedStore
from ..protocols.errors import SigningRefusedError

__all__ = ["KIND_KEYSHARE", "NodeStore"]


class NodeStore:
    """JSON values by (kind, id) plus the durable consumption log.

    Parameters
    ----------
    path:
        The SQLite file (created if missing).
    key:
        The 32-byte node key.

    Raises
    ------
    StoreError, WrongNodeKeyError
        As :class:`chainsig_mpc.node.store.NodeStore` raises them.
    """

    def __init__(self, path: Path | str, key: bytes) -> None:
        self.path = Path(path)
        self.sealed = SealedStore(path, key)

    def put(self, kind: str, item_id: str, value: Any) -> None:
        """Seal and store a JSON value (fsynced on return)."""
        self.sealed.put(kind, item_id, json.dumps(value, sort_keys=True).encode())

    def get(self, kind: str, item_id: str) -> Any | None:
        """The stored JSON value, or None."""
        raw = self.sealed.get(kind, item_id)
        return None if raw is None else json.loads(raw)

    def delete(self, kind: str, item_id: str) -> None:
        """Remove a record (no error when absent)."""
        self.sealed.delete(kind, item_id)

    def items(self, kind: str) -> Iterator[tuple[str, Any]]:
        """Every (id, value) of a kind."""
        for item_id, raw in list(self.sealed.items(kind)):
            yield item_id, json.loads(raw)

    def count(self, kind: str) -> int:
        """How many records of a kind are stored."""
        return self.sealed.count(kind)

    def mark_consumed(self, kind: str, item_id: str) -> None:
        """Record single-use material as used; durable (fsynced) when it returns.

        Raises
        ------
        SigningRefusedError
            If it was already used.
        """
        try:
            self.sealed.consume(kind, item_id)
        except RecordConsumedError:
            raise SigningRefusedError(f"{kind} {item_id[:16]}… was already used") from None

    def is_consumed(self, kind: str, item_id: str) -> bool:
        """Whether the material was used."""
        return self.sealed.is_consumed(kind, item_id)

    def close(self) -> None:
        """Close the database."""
        self.sealed.close()
