"""Presignature and FROST-nonce pools keyed by (domain, epoch, owner, signer set) — §6.

The coordinator of a request is the owner of the presignature (or nonce set) it uses; a retry
takes another item (possibly of another signer set). A new epoch (after a committed reshare)
empties the pools of older epochs. Items are JSON-serializable values carrying their own key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from .errors import StateError


@dataclass(frozen=True)
class PoolKey:
    """(domain, epoch, owner, signer set)."""

    domain: int
    epoch: int
    owner: int
    signers: tuple[int, ...]


class Pooled(Protocol):
    """What a pool stores: an item with an id and a pool key."""

    @property
    def item_id(self) -> str: ...

    @property
    def pool_key(self) -> PoolKey: ...

    def to_json(self) -> dict[str, Any]: ...


T = TypeVar("T", bound=Pooled)


class Pool(Generic[T]):
    """A keyed pool of single-use items (presignatures or FROST nonces).

    Parameters
    ----------
    decode:
        Restores an item from its JSON (for :meth:`from_json`).
    """

    def __init__(self, decode: Callable[[dict[str, Any]], T]) -> None:
        self._decode = decode
        self._items: dict[str, T] = {}

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._items.values()))

    def add(self, item: T) -> None:
        """Store an item."""
        self._items[item.item_id] = item

    def get(self, item_id: str) -> T | None:
        """The item with this id, if still pooled."""
        return self._items.get(item_id)

    def remove(self, item_id: str) -> None:
        """Forget an item (after it was consumed)."""
        self._items.pop(item_id, None)

    def count(self, key: PoolKey) -> int:
        """How many items have this key."""
        return sum(1 for item in self._items.values() if item.pool_key == key)

    def take(self, key: PoolKey) -> T | None:
        """Remove and return one item with exactly this key (None if empty)."""
        for item_id, item in self._items.items():
            if item.pool_key == key:
                del self._items[item_id]
                return item
        return None

    def take_for_owner(
        self,
        domain: int,
        epoch: int,
        owner: int,
        exclude: Callable[[tuple[int, ...]], bool] = lambda _s: False,
    ) -> T | None:
        """Take any item of this owner whose signer set is not excluded (e.g. has a down node)."""
        for item_id, item in self._items.items():
            k = item.pool_key
            if (k.domain, k.epoch, k.owner) == (domain, epoch, owner) and not exclude(k.signers):
                del self._items[item_id]
                return item
        return None

    def drop_epochs_before(self, domain: int, epoch: int) -> int:
        """Empty the items of older epochs of a domain; returns how many were dropped."""
        stale = [
            i
            for i, item in self._items.items()
            if item.pool_key.domain == domain and item.pool_key.epoch < epoch
        ]
        for item_id in stale:
            del self._items[item_id]
        return len(stale)

    def to_json(self) -> list[dict[str, Any]]:
        """Serializable form (contains secrets)."""
        return [item.to_json() for item in self._items.values()]

    def load_json(self, data: list[dict[str, Any]]) -> None:
        """Add the items of :meth:`to_json` output.

        Raises
        ------
        StateError
        """
        if not isinstance(data, list):
            raise StateError("pool JSON must be a list")
        for entry in data:
            self.add(self._decode(entry))
