"""Key shares and pools that write through to the encrypted :class:`~.store.NodeStore`.

A restart rebuilds exactly what was stored: active key shares, DKG results waiting for the
contract (``staged``), presignatures, this node's FROST nonces and the commitments peers sent
it. Items already marked consumed are not restored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ..protocols.frost_nonces import FrostNonce, PeerCommitment
from ..protocols.keyshare import KeyShare
from ..protocols.pools import Pool, Pooled
from ..protocols.presign import Presignature
from .store import KIND_KEYSHARE, NodeStore

T = TypeVar("T", bound=Pooled)


class StoredPool(Pool[T], Generic[T]):
    """A :class:`Pool` whose every add and removal is written to the store.

    Parameters
    ----------
    store:
        The node store.
    kind:
        Record kind (``presignature``, ``nonce``, ``commitment``).
    decode:
        Item from JSON.
    consumed_kind:
        The consumption-log kind of these items (restored items already used are dropped).
    """

    def __init__(
        self,
        store: NodeStore,
        kind: str,
        decode: Callable[[dict[str, Any]], T],
        consumed_kind: str | None = None,
    ) -> None:
        super().__init__(decode)
        self._store, self._kind = store, kind
        for item_id, data in list(store.items(kind)):
            if consumed_kind is not None and store.is_consumed(consumed_kind, item_id):
                store.delete(kind, item_id)
                continue
            super().add(decode(data))

    def add(self, item: T) -> None:
        """Store an item (durably)."""
        self._store.put(self._kind, item.item_id, item.to_json())
        super().add(item)

    def remove(self, item_id: str) -> None:
        """Forget an item."""
        super().remove(item_id)
        self._store.delete(self._kind, item_id)

    def take(self, key: Any) -> T | None:  # noqa: D102 - see Pool.take
        item = super().take(key)
        if item is not None:
            self._store.delete(self._kind, item.item_id)
        return item

    def take_for_owner(self, *args: Any, **kwargs: Any) -> T | None:  # noqa: D102
        item = super().take_for_owner(*args, **kwargs)
        if item is not None:
            self._store.delete(self._kind, item.item_id)
        return item

    def drop_epochs_before(self, domain: int, epoch: int) -> int:  # noqa: D102
        before = {item.item_id for item in self}
        dropped = super().drop_epochs_before(domain, epoch)
        for item_id in before - {item.item_id for item in self}:
            self._store.delete(self._kind, item_id)
        return dropped


class NodeSecrets:
    """Everything secret a node holds, backed by the store.

    Parameters
    ----------
    store:
        The opened node store.
    """

    def __init__(self, store: NodeStore) -> None:
        self.store = store
        self.presignatures: StoredPool[Presignature] = StoredPool(
            store, "presignature", Presignature.from_json, "ecdsa-presignature"
        )
        self.nonces: StoredPool[FrostNonce] = StoredPool(store, "nonce", FrostNonce.from_json, "frost-nonce")
        self.commitments: StoredPool[PeerCommitment] = StoredPool(
            store, "commitment", PeerCommitment.from_json
        )
        self._active: dict[int, KeyShare] = {
            int(d): KeyShare.from_json(v) for d, v in store.items(KIND_KEYSHARE)
        }

    def active(self, domain: int) -> KeyShare | None:
        """The key share in use for a domain."""
        return self._active.get(domain)

    def domains(self) -> list[int]:
        """Domains this node holds an active share of."""
        return sorted(self._active)

    def stage(self, share: KeyShare, attempt: int) -> None:
        """Keep a DKG result until the contract records its key (survives a restart)."""
        self.store.put("staged", f"{share.domain}:{share.epoch}:{attempt}", share.to_json())

    def staged(self, domain: int, epoch: int, attempt: int) -> KeyShare | None:
        """A staged DKG result."""
        data = self.store.get("staged", f"{domain}:{epoch}:{attempt}")
        return None if data is None else KeyShare.from_json(data)

    def commit(self, domain: int, epoch: int, attempt: int) -> KeyShare | None:
        """The contract recorded the key of (domain, epoch, attempt): make the share active and
        erase every staged result of that domain. Returns the share (None if not held)."""
        share = self.staged(domain, epoch, attempt)
        if share is not None:
            self.store.put(KIND_KEYSHARE, str(domain), share.to_json())  # replaces an older epoch's share
            self._active[domain] = share
            for pool in (self.presignatures, self.nonces, self.commitments):
                pool.drop_epochs_before(domain, share.epoch)
        for item_id, _ in list(self.store.items("staged")):
            if item_id.split(":")[0] == str(domain):
                self.store.delete("staged", item_id)
        return share

    def erase(self, domain: int) -> None:
        """This node left the participant set: erase its share and material of the domain."""
        self._active.pop(domain, None)
        self.store.delete(KIND_KEYSHARE, str(domain))
        for pool in (self.presignatures, self.nonces, self.commitments):
            pool.drop_epochs_before(domain, 2**62)
