"""The devnet's mempool: transactions accepted since the last block, and the order a block
includes them in.

nearcore's pool groups transactions by ``(signer, public key)`` and hands each group out in
nonce order, so transactions of one key that reach the node out of nonce order (concurrent
senders, several connections) are still included in nonce order. The devnet keeps the arrival
order between keys — the order the host has always included transactions in — and fills
each key's arrival positions with that key's transactions sorted by nonce: a block's contents
are a function of the mempool's contents and arrival order alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .ledger import TxCost
from .transactions import DecodedTx

KeyId = tuple[str, str]
"""``(signer_id, public_key)``."""


@dataclass(frozen=True)
class PendingTx:
    """An accepted transaction and what was charged for it at submission."""

    tx: DecodedTx
    cost: TxCost

    @property
    def key_id(self) -> KeyId:
        return (self.tx.signer_id, self.tx.public_key)


def inclusion_order(entries: Iterable[PendingTx]) -> list[PendingTx]:
    """``entries`` (in arrival order) in the order a block includes them: arrival order
    between keys; within one key, its arrival positions taken in nonce order. Arrivals
    A7, B3, A6, A8 (key, nonce) are included as A6, B3, A7, A8.
    """
    entries = list(entries)
    positions: dict[KeyId, list[int]] = {}
    for index, entry in enumerate(entries):
        positions.setdefault(entry.key_id, []).append(index)
    ordered: list[PendingTx | None] = [None] * len(entries)
    for indexes in positions.values():
        by_nonce = sorted((entries[i] for i in indexes), key=lambda e: e.tx.nonce)
        for index, entry in zip(indexes, by_nonce):
            ordered[index] = entry
    return [entry for entry in ordered if entry is not None]


class Mempool:
    """Accepted transactions in arrival order, with each key's pending nonces."""

    def __init__(self) -> None:
        self._entries: list[PendingTx] = []
        self._nonces: dict[KeyId, set[int]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def nonces(self, signer_id: str, public_key: str) -> frozenset[int]:
        """The nonces ``(signer_id, public_key)`` has pending."""
        return frozenset(self._nonces.get((signer_id, public_key), ()))

    def add(self, tx: DecodedTx, cost: TxCost) -> None:
        entry = PendingTx(tx, cost)
        self._entries.append(entry)
        self._nonces.setdefault(entry.key_id, set()).add(tx.nonce)

    def take(self) -> list[PendingTx]:
        """Empty the mempool; returns its transactions in :func:`inclusion_order`."""
        entries = inclusion_order(self._entries)
        self._entries = []
        self._nonces = {}
        return entries


__all__ = ["KeyId", "Mempool", "PendingTx", "inclusion_order"]
