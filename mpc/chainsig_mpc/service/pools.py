"""Background refill of presignatures (robust ECDSA) and FROST nonce commitments.

Each node keeps, **as owner**, a stock of material for signatures it will coordinate, for
**every** domain it holds a share of, by the domain's protocol in the contract
(``node.protocols``), whatever its id:

* ECDSA (``DamgardEtAl``): presignatures over a signer set P of exactly 2K − 1 nodes (itself
  and 2K − 2 connected peers, drawn at random so sets rotate). The owner invites P's other
  members (``presign.invite`` with the domain); every member runs :class:`EcdsaPresign` under
  the session ``presign/<label>`` and pools its part. Refill starts below the low-water mark.
* FROST (``Frost``): pre-committed nonce pairs for a set of K signers. The owner asks the others
  (``frost.precommit`` with the domain); each draws fresh nonces, pools them bound to (domain,
  owner, set) and sends the commitments back (``frost.commitment``).

The marks and limits below hold per domain. Members accept invitations only from the
authenticated owner, for valid sets that include them, in a domain of the matching protocol,
and hold at most :data:`MAX_PER_OWNER` items per owner and domain (a flooding peer cannot fill
the store).
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
from .lifecycle import ECDSA_PROTOCOL, FROST_PROTOCOL
from .network import message_of

if TYPE_CHECKING:
    from .node import MpcNode

log = logging.getLogger(__name__)

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
        self._presign_in_flight: Counter[int] = Counter()  # per domain
        self._refilling: dict[int, bool] = {}  # per domain, True until the high-water mark
        self._member_sessions: Counter[tuple[int, int]] = Counter()  # per (owner, domain)
        self._precommit_pending: dict[int, dict[tuple[int, ...], float]] = {}  # per domain
        self._tasks: set[asyncio.Task[None]] = set()
        node.network.handlers["presign.invite"] = self.on_presign_invite
        node.network.handlers["frost.precommit"] = self.on_precommit_request
        node.network.handlers["frost.commitment"] = self.on_commitment

    # -- owner side -------------------------------------------------------------------------
    def owned_presignatures(self, domain: int, online: set[int] | None = None) -> int:
        """Presignatures this node owns for the active key of an ECDSA ``domain`` (only those
        whose signer set is entirely in ``online``, when given)."""
        key = self.node.secrets.active(domain)
        if key is None:
            return 0
        return sum(1 for p in self.node.secrets.presignatures
                   if p.owner == self.node.me and p.pool_key.domain == domain
                   and p.pool_key.epoch == key.epoch and (online is None or set(p.signers) <= online))

    def complete_nonce_sets(self, domain: int) -> dict[tuple[int, ...], int]:
        """For each signer set of a FROST ``domain``: how many signings the pooled commitments
        allow."""
        key = self.node.secrets.active(domain)
        if key is None:
            return {}
        per_signer: dict[tuple[int, ...], Counter[int]] = {}
        for c in self.node.secrets.commitments:
            k = c.pool_key
            if k.owner == self.node.me and k.epoch == key.epoch and k.domain == domain:
                per_signer.setdefault(k.signers, Counter())[c.signer] += 1
        return {s: min(counts.get(i, 0) for i in s) for s, counts in per_signer.items()}

    def refill(self) -> None:
        """Start refills below the low-water marks, for every ECDSA and FROST domain this node
        holds a share of (called periodically)."""
        for domain in self.node.domains_of(ECDSA_PROTOCOL):
            self._refill_presignatures(domain)
        for domain in self.node.domains_of(FROST_PROTOCOL):
            self._refill_nonces(domain)

    def _refill_presignatures(self, domain: int) -> None:
        node = self.node
        key = node.secrets.active(domain)
        if key is None or node.me not in key.participants:
            return
        size = 2 * key.threshold - 1
        online = sorted(node.signing_peers(size - 1, key.participants))  # excluded peers get no new material
        candidates = [p for p in online if p in key.participants]
        # count only what is usable now: sets with a down node do not sign (they are kept for
        # when it returns, up to MAX_OWNED in all)
        owned = self.owned_presignatures(domain, set(online) | {node.me})
        if self.owned_presignatures(domain) >= MAX_OWNED:
            owned = HIGH_WATER
        if owned < LOW_WATER:
            self._refilling[domain] = True  # hysteresis: refill from the low- to the high-water mark
        in_flight = self._presign_in_flight
        while (self._refilling.get(domain, True) and owned + in_flight[domain] < HIGH_WATER
               and in_flight[domain] < MAX_PRESIGN_IN_FLIGHT and len(candidates) >= size - 1):
            signers = tuple(sorted([node.me, *random.sample(candidates, size - 1)]))
            in_flight[domain] += 1
            self._spawn(self._presign(domain, signers))
        if owned >= HIGH_WATER:
            self._refilling[domain] = False

    def _refill_nonces(self, domain: int) -> None:
        node = self.node
        key = node.secrets.active(domain)
        if key is None or node.me not in key.participants:
            return
        online = sorted(node.signing_peers(key.threshold - 1, key.participants))
        sets = self.complete_nonce_sets(domain)
        usable = sum(n for s, n in sets.items() if set(s) - {node.me} <= set(online))
        loop = asyncio.get_running_loop()
        pending = self._precommit_pending.setdefault(domain, {})
        for s, started in list(pending.items()):
            if loop.time() - started > 10:
                del pending[s]
        candidates = [p for p in online if p in key.participants]
        if usable < LOW_WATER and not pending and len(candidates) >= key.threshold - 1:
            signers = tuple(sorted([node.me, *random.sample(candidates, key.threshold - 1)]))
            pending[signers] = loop.time()
            self._request_precommit(domain, signers)

    async def _presign(self, domain: int, signers: tuple[int, ...]) -> None:
        node = self.node
        try:
            key = node.secrets.active(domain)
            assert key is not None and node.me is not None
            label = f"{node.me}.{key.epoch}.{pysecrets.token_hex(8)}"
            for peer in signers:
                if peer != node.me:
                    node.network.send(peer, "presign.invite", label,
                                      {"signers": list(signers), "domain": domain})
            await self._run_presign(key, signers, node.me, label)
        finally:
            self._presign_in_flight[domain] -= 1

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

    def _request_precommit(self, domain: int, signers: tuple[int, ...]) -> None:
        node = self.node
        for peer in signers:
            if peer != node.me:
                node.network.send(peer, "frost.precommit", "", {"signers": list(signers),
                                                                "count": PRECOMMIT_BATCH, "domain": domain})
        coordinator = self._frost_coordinator(domain)
        signer = coordinator.signer
        for _ in range(PRECOMMIT_BATCH):
            coordinator.add_commitment(signer.precommit(node.me, signers))  # type: ignore[arg-type]

    def _frost_coordinator(self, domain: int) -> FrostCoordinator:
        node = self.node
        key = node.secrets.active(domain)
        assert key is not None
        signer = FrostSigner(key, node.secrets.nonces, node.store, node.book.lookup)
        return FrostCoordinator(signer, node.secrets.commitments)

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- member side ------------------------------------------------------------------------
    async def _key(self, body: dict[str, Any], protocol: str) -> Any:
        """The active share of the domain a request names, which must use ``protocol``."""
        domain = body.get("domain")
        if not isinstance(domain, int) or isinstance(domain, bool) or domain < 0:
            raise MessageError("domain must be a domain id")
        # the owner may have seen the contract record the key a poll earlier than this node
        for _ in range(int(KEY_WAIT / 0.1)):
            key = self.node.secrets.active(domain)
            if key is not None:
                if self.node.protocols.get(domain) != protocol:
                    raise MessageError(f"domain {domain} does not use {protocol}")
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
        key = await self._key(body, ECDSA_PROTOCOL)
        signers = self._check_set(peer, body.get("signers"), 2 * key.threshold - 1, key.participants)
        if not label.startswith(f"{peer}.") or len(label) > 64:
            raise MessageError("presign label must start with the owner's id")
        held = sum(1 for p in node.secrets.presignatures if p.owner == peer and p.domain == key.domain)
        session = (peer, key.domain)
        if held >= MAX_PER_OWNER or self._member_sessions[session] >= MAX_SESSIONS_PER_OWNER:
            raise MessageError(f"peer {peer} has enough presignatures of domain {key.domain} with this node")
        self._member_sessions[session] += 1
        try:
            await self._run_presign(key, signers, peer, label)
        finally:
            self._member_sessions[session] -= 1

    async def on_precommit_request(self, peer: int, tag: str, body: dict[str, Any]) -> None:
        """A peer (the owner) asks for fresh nonce commitments for a signer set."""
        node = self.node
        key = await self._key(body, FROST_PROTOCOL)
        signers = self._check_set(peer, body.get("signers"), key.threshold, key.participants)
        count = body.get("count")
        if not isinstance(count, int) or isinstance(count, bool) or not 0 < count <= PRECOMMIT_BATCH:
            raise MessageError("count out of range")
        held = sum(1 for n in node.secrets.nonces if n.pool_key.owner == peer and n.domain == key.domain)
        count = min(count, MAX_PER_OWNER - held)
        signer = FrostSigner(key, node.secrets.nonces, node.store, node.book.lookup)
        for _ in range(max(count, 0)):
            message = signer.precommit(peer, signers)
            node.network.send(peer, "frost.commitment", "", {"m": message.encode().decode("ascii"),
                                                             "domain": key.domain})

    async def on_commitment(self, peer: int, tag: str, body: dict[str, Any]) -> None:
        """A signer's commitment for a set this node owns (the session id binds the domain)."""
        key = await self._key(body, FROST_PROTOCOL)
        message = message_of(peer, body)
        self._frost_coordinator(key.domain).add_commitment(message)
        signers = tuple(message.body.get("signers", ()))
        if self.complete_nonce_sets(key.domain).get(signers, 0) > 0:
            self._precommit_pending.get(key.domain, {}).pop(signers, None)

    def pool_gauges(self) -> dict[str, Any]:
        """Pool sizes for ``/health`` and the metrics: totals, and ``by_domain`` →
        ``{domain: {kind: owned}}`` (kind ``presignatures`` or ``frost_nonce_sets``)."""
        by_domain: dict[str, dict[str, int]] = {}
        for domain in self.node.domains_of(ECDSA_PROTOCOL):
            by_domain[str(domain)] = {"presignatures": self.owned_presignatures(domain)}
        for domain in self.node.domains_of(FROST_PROTOCOL):
            by_domain[str(domain)] = {"frost_nonce_sets": sum(self.complete_nonce_sets(domain).values())}
        return {"presignatures_owned": sum(d.get("presignatures", 0) for d in by_domain.values()),
                "presignatures_held": len(self.node.secrets.presignatures),
                "frost_nonce_sets_owned": sum(d.get("frost_nonce_sets", 0) for d in by_domain.values()),
                "frost_nonces_held": len(self.node.secrets.nonces),
                "by_domain": by_domain}


__all__ = ["PoolKeeper", "PoolKey"]
