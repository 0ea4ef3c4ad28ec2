"""Background refill of presignatures (robust ECDSA) and FROST nonce commitments.

Each node keeps, **as owner**, a stock of material for signatures it will coordinate:

* ECDSA: presignatures over a signer set P of exactly 2K − 1 nodes (itself and 2K − 2 connected
  peers, drawn at random so sets rotate). The owner invites P's other members
  (``presign.invite``); every member runs :class:`EcdsaPresign` under the session
  ``presign/<label>`` and pools its part. Refill starts below the low-water mark.
* FROST: pre-committed nonce pairs for a set of K signers. The owner asks the others
  (``frost.precommit``); each draws fresh nonces, pools them bound to (owner, set) and sends the
  commitments back (``frost.commitment``).

Members accept invitations only from the authenticated owner, for valid sets that include
them, and hold at most :data:`MAX_PER_OWNER` items per owner (a flooding peer cannot fill the
store).
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets as pysecrets
from collections import Counter
from typing import TYPE_CHECKING, Any

from ..protocols.errors import MessageError, ProtocolAbort
from ..protocols.frost_session import FrostCoordinator, FrostSigner
from ..protocols.pools import PoolKey
from ..protocols.presign import EcdsaPresign
from .network import message_of

if TYPE_CHECKING:
    from .node import MpcNode

log = logging.getLogger(__name__)

ECDSA_DOMAIN, FROST_DOMAIN = 0, 1
LOW_WATER = 4
"""Refill when fewer owned presignatures (or complete nonce sets) than this are left."""
HIGH_WATER = 8
MAX_PRESIGN_IN_FLIGHT = 2
MAX_OWNED = 48
MAX_PER_OWNER = 64
MAX_SESSIONS_PER_OWNER = 4
PRESIGN_TIMEOUT = 20.0
PRECOMMIT_BATCH = 4
KEY_WAIT = 5.0


class PoolKeeper:
    """Refills this node's pools and serves peers' refill requests."""

    def __init__(self, node: MpcNode) -> None:
        self.node = node
        self._presign_in_flight = 0
        self._refilling = True
        self._member_sessions: Counter[int] = Counter()
        self._precommit_pending: dict[tuple[int, ...], float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        node.network.handlers["presign.invite"] = self.on_presign_invite
        node.network.handlers["frost.precommit"] = self.on_precommit_request
        node.network.handlers["frost.commitment"] = self.on_commitment

    # -- owner side -------------------------------------------------------------------------
    def owned_presignatures(self, online: set[int] | None = None) -> int:
        """Presignatures this node owns for the active ECDSA key (only those whose signer set
        is entirely in ``online``, when given)."""
        key = self.node.secrets.active(ECDSA_DOMAIN)
        if key is None:
            return 0
        return sum(1 for p in self.node.secrets.presignatures
                   if p.owner == self.node.me and p.pool_key.epoch == key.epoch
                   and (online is None or set(p.signers) <= online))

    def complete_nonce_sets(self) -> dict[tuple[int, ...], int]:
        """For each signer set: how many signings the pooled commitments allow."""
        key = self.node.secrets.active(FROST_DOMAIN)
        if key is None:
            return {}
        per_signer: dict[tuple[int, ...], Counter[int]] = {}
        for c in self.node.secrets.commitments:
            k = c.pool_key
            if k.owner == self.node.me and k.epoch == key.epoch and k.domain == FROST_DOMAIN:
                per_signer.setdefault(k.signers, Counter())[c.signer] += 1
        return {s: min(counts.get(i, 0) for i in s) for s, counts in per_signer.items()}

    def refill(self) -> None:
        """Start refills below the low-water marks (called periodically)."""
        node = self.node
        key = node.secrets.active(ECDSA_DOMAIN)
        if key is not None and node.me in key.participants:
            size = 2 * key.threshold - 1
            online = sorted(node.signing_peers(size - 1))  # excluded peers get no new material
            candidates = [p for p in online if p in key.participants]
            # count only what is usable now: sets with a down node do not sign (they are kept for
            # when it returns, up to MAX_OWNED in all)
            owned = self.owned_presignatures(set(online) | {node.me})
            if self.owned_presignatures() >= MAX_OWNED:
                owned = HIGH_WATER
            if owned < LOW_WATER:
                self._refilling = True  # hysteresis: refill from the low- to the high-water mark
            while (self._refilling and owned + self._presign_in_flight < HIGH_WATER
                   and self._presign_in_flight < MAX_PRESIGN_IN_FLIGHT and len(candidates) >= size - 1):
                signers = tuple(sorted([node.me, *random.sample(candidates, size - 1)]))
                self._presign_in_flight += 1
                self._spawn(self._presign(signers))
            if owned >= HIGH_WATER:
                self._refilling = False
        fkey = node.secrets.active(FROST_DOMAIN)
        if fkey is not None and node.me in fkey.participants:
            online = sorted(node.signing_peers(fkey.threshold - 1))
            sets = self.complete_nonce_sets()
            usable = sum(n for s, n in sets.items() if set(s) - {node.me} <= set(online))
            loop = asyncio.get_running_loop()
            for s, started in list(self._precommit_pending.items()):
                if loop.time() - started > 10:
                    del self._precommit_pending[s]
            candidates = [p for p in online if p in fkey.participants]
            if usable < LOW_WATER and not self._precommit_pending and len(candidates) >= fkey.threshold - 1:
                signers = tuple(sorted([node.me, *random.sample(candidates, fkey.threshold - 1)]))
                self._precommit_pending[signers] = loop.time()
                self._request_precommit(signers)

    async def _presign(self, signers: tuple[int, ...]) -> None:
        node = self.node
        try:
            key = node.secrets.active(ECDSA_DOMAIN)
            assert key is not None and node.me is not None
            label = f"{node.me}.{key.epoch}.{pysecrets.token_hex(8)}"
            for peer in signers:
                if peer != node.me:
                    node.network.send(peer, "presign.invite", label, {"signers": list(signers)})
            await self._run_presign(key, signers, node.me, label)
        finally:
            self._presign_in_flight -= 1

    async def _run_presign(self, key: Any, signers: tuple[int, ...], owner: int, label: str) -> None:
        node = self.node
        try:
            protocol = EcdsaPresign(key, signers, owner, label)
            node.metrics.presign_runs.inc()
            presignature = await node.network.run_protocol(f"presign/{label}", protocol, PRESIGN_TIMEOUT)
            node.secrets.presignatures.add(presignature)
        except ProtocolAbort as exc:
            node.record_abort("presign", exc)
            log.info("presign %s failed: %s", label, exc)

    def _request_precommit(self, signers: tuple[int, ...]) -> None:
        node = self.node
        for peer in signers:
            if peer != node.me:
                node.network.send(peer, "frost.precommit", "", {"signers": list(signers),
                                                                "count": PRECOMMIT_BATCH})
        coordinator = self._frost_coordinator()
        signer = coordinator.signer
        for _ in range(PRECOMMIT_BATCH):
            coordinator.add_commitment(signer.precommit(node.me, signers))  # type: ignore[arg-type]

    def _frost_coordinator(self) -> FrostCoordinator:
        node = self.node
        key = node.secrets.active(FROST_DOMAIN)
        assert key is not None
        signer = FrostSigner(key, node.secrets.nonces, node.store, node.book.lookup)
        return FrostCoordinator(signer, node.secrets.commitments)

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- member side ------------------------------------------------------------------------
    async def _key(self, domain: int) -> Any:
        # the owner may have seen the contract record the key a poll earlier than this node
        for _ in range(int(KEY_WAIT / 0.1)):
            key = self.node.secrets.active(domain)
            if key is not None:
                return key
            await asyncio.sleep(0.1)
        raise MessageError(f"no key share of domain {domain} yet")

    def _check_set(self, peer: int, raw: Any, size: int, participants: tuple[int, ...]) -> tuple[int, ...]:
        if not isinstance(raw, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in raw):
            raise MessageError("signers must be a list of participant ids")
        signers = tuple(raw)
        if (list(signers) != sorted(set(signers)) or len(signers) != size
                or self.node.me not in signers or peer not in signers
                or not set(signers) <= set(participants)):
            raise MessageError("invalid signer set")
        return signers

    async def on_presign_invite(self, peer: int, label: str, body: dict[str, Any]) -> None:
        """A peer (the owner) invites this node into a presign run."""
        node = self.node
        key = await self._key(ECDSA_DOMAIN)
        signers = self._check_set(peer, body.get("signers"), 2 * key.threshold - 1, key.participants)
        if not label.startswith(f"{peer}.") or len(label) > 64:
            raise MessageError("presign label must start with the owner's id")
        held = sum(1 for p in node.secrets.presignatures if p.owner == peer)
        if held >= MAX_PER_OWNER or self._member_sessions[peer] >= MAX_SESSIONS_PER_OWNER:
            raise MessageError(f"peer {peer} has enough presignatures with this node")
        self._member_sessions[peer] += 1
        try:
            await self._run_presign(key, signers, peer, label)
        finally:
            self._member_sessions[peer] -= 1

    async def on_precommit_request(self, peer: int, tag: str, body: dict[str, Any]) -> None:
        """A peer (the owner) asks for fresh nonce commitments for a signer set."""
        node = self.node
        key = await self._key(FROST_DOMAIN)
        signers = self._check_set(peer, body.get("signers"), key.threshold, key.participants)
        count = body.get("count")
        if not isinstance(count, int) or isinstance(count, bool) or not 0 < count <= PRECOMMIT_BATCH:
            raise MessageError("count out of range")
        held = sum(1 for n in node.secrets.nonces if n.pool_key.owner == peer)
        count = min(count, MAX_PER_OWNER - held)
        signer = FrostSigner(key, node.secrets.nonces, node.store, node.book.lookup)
        for _ in range(max(count, 0)):
            message = signer.precommit(peer, signers)
            node.network.send(peer, "frost.commitment", "", {"m": message.encode().decode("ascii")})

    async def on_commitment(self, peer: int, tag: str, body: dict[str, Any]) -> None:
        """A signer's commitment for a set this node owns."""
        await self._key(FROST_DOMAIN)
        message = message_of(peer, body)
        self._frost_coordinator().add_commitment(message)
        signers = tuple(message.body.get("signers", ()))
        if self.complete_nonce_sets().get(signers, 0) > 0:
            self._precommit_pending.pop(signers, None)

    def pool_gauges(self) -> dict[str, float]:
        """Pool sizes for the metrics endpoint."""
        sets = self.complete_nonce_sets()
        return {"presignatures_owned": self.owned_presignatures(),
                "presignatures_held": len(self.node.secrets.presignatures),
                "frost_nonce_sets_owned": sum(sets.values()),
                "frost_nonces_held": len(self.node.secrets.nonces)}


__all__ = ["PoolKeeper", "PoolKey"]
