"""Key shares per domain with an external commit point for reshares (MPC-PROTOCOLS.md §3).

A reshare's output is *staged*; the old share (and the old epoch's presignatures and nonces) are
erased only when :meth:`KeyStore.commit` is called — which the node service does when the
contract has moved to Running with the new participant set (every new participant voted
``vote_reshared``). Otherwise the staged share is discarded and the reshare retried with a new
session id. Peer-to-peer success messages alone never commit: they could split the network.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import StateError
from .keyshare import KeyShare


class KeyStore:
    """Active and staged key shares, keyed by domain.

    Parameters
    ----------
    on_commit:
        Called as ``on_commit(domain, new_epoch)`` after a commit (e.g. to empty the pools of
        older epochs).
    """

    def __init__(self, on_commit: Callable[[int, int], None] | None = None) -> None:
        self._active: dict[int, KeyShare] = {}
        self._staged: dict[tuple[int, int], KeyShare] = {}
        self._on_commit = on_commit

    def active(self, domain: int) -> KeyShare | None:
        """The share in use for a domain."""
        return self._active.get(domain)

    def install(self, share: KeyShare) -> None:
        """Install a DKG result once the contract recorded the key (first epoch of a domain).

        Raises
        ------
        StateError
            If the domain already has a key.
        """
        if share.domain in self._active:
            raise StateError("domain already has a key; use stage/commit for a reshare")
        self._active[share.domain] = share

    def stage(self, share: KeyShare) -> None:
        """Keep a reshare result until the external commit signal.

        Raises
        ------
        StateError
            If it is not a later epoch of the active key (same public key).
        """
        current = self._active.get(share.domain)
        if current is not None and (
            share.epoch <= current.epoch or share.commitment[0] != current.commitment[0]
        ):
            raise StateError("staged share must be a later epoch of the same public key")
        self._staged[(share.domain, share.epoch)] = share

    def staged(self, domain: int, epoch: int) -> KeyShare | None:
        """A staged share, if any."""
        return self._staged.get((domain, epoch))

    def commit(self, domain: int, epoch: int) -> KeyShare | None:
        """The contract reached Running with the new set: activate the staged share (if this
        node holds one), erase the old share and any other staged epochs of the domain.

        Returns
        -------
        KeyShare | None
            The new active share, or None when this node left the participant set.
        """
        new = self._staged.pop((domain, epoch), None)
        for key in [k for k in self._staged if k[0] == domain]:
            del self._staged[key]
        if new is None:
            self._active.pop(domain, None)
        else:
            self._active[domain] = new
        if self._on_commit is not None:
            self._on_commit(domain, epoch)
        return new

    def discard(self, domain: int, epoch: int) -> None:
        """Drop a staged share (the reshare failed or the contract did not move on)."""
        self._staged.pop((domain, epoch), None)

    def to_json(self) -> dict[str, Any]:
        """Serializable form (secret)."""
        return {
            "active": [s.to_json() for s in self._active.values()],
            "staged": [s.to_json() for s in self._staged.values()],
        }

    def load_json(self, data: dict[str, Any]) -> None:
        """Restore :meth:`to_json` output.

        Raises
        ------
        StateError
        """
        if not isinstance(data, dict):
            raise StateError("key store JSON must be an object")
        for entry in data.get("active", []):
            share = KeyShare.from_json(entry)
            self._active[share.domain] = share
        for entry in data.get("staged", []):
            share = KeyShare.from_json(entry)
            self._staged[(share.domain, share.epoch)] = share
