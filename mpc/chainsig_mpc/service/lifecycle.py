"""Following the contract's governance: participants, key generation, committing keys.

Each poll reads the ``state`` view. In **Initializing** the leader (lowest participant id)
calls ``start_keygen_instance`` for the current domain when no attempt is active; once an
attempt is active every participant runs the DKG for it (secp256k1 for a ``DamgardEtAl``
domain, ed25519 for a ``Frost`` domain, whatever its id), keeps the result *staged* in the
encrypted store and calls ``vote_pk``. A staged share becomes the active share only when the contract
records that very key (``generated_keys`` while Initializing, the ``keyset`` once Running).
A failed or timed-out DKG calls ``vote_abort_key_event_instance`` so the leader starts a new
attempt. Every poll also adopts the contract's domain registry (``node.protocols``,
``node.thresholds``): the pools and the signing roles pick their protocol by it, not by id.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from chainsig_core.keys import Curve

from ..protocols.dkg import Dkg
from ..protocols.errors import ProtocolAbort
from .chain import participants_of

if TYPE_CHECKING:
    from .node import MpcNode

log = logging.getLogger(__name__)

DKG_TIMEOUT = 60.0
ECDSA_PROTOCOL = "DamgardEtAl"
"""The contract's name of the robust ECDSA protocol (secp256k1 domains: presignatures)."""
FROST_PROTOCOL = "Frost"
"""The contract's name of FROST (ed25519 domains: pre-committed nonces)."""
CURVE_OF_PROTOCOL = {ECDSA_PROTOCOL: Curve.SECP256K1, FROST_PROTOCOL: Curve.ED25519}
"""The protocols this node implements; others (``CaitSith``, …) are refused."""


def key_string(extended: Any) -> str | None:
    """The NEAR key string of a ``PublicKeyExtended`` (or a plain string)."""
    if isinstance(extended, str):
        return extended
    if isinstance(extended, dict):
        if "Secp256k1" in extended:
            return extended["Secp256k1"].get("near_public_key")
        if "Ed25519" in extended:
            return extended["Ed25519"].get("near_public_key_compressed")
    return None


class Lifecycle:
    """The governance follower of one node."""

    def __init__(self, node: MpcNode) -> None:
        self.node = node
        self.state_name = "unknown"
        self.epoch = 0
        self._keygen_tasks: dict[tuple[int, int, int], asyncio.Task[None]] = {}
        self._leader_called: set[tuple[int, int, int]] = set()

    async def step(self) -> None:
        """Read the contract once and act on it."""
        state = await self.node.chain.state()
        if not isinstance(state, dict) or len(state) != 1:
            self.state_name = "NotInitialized"
            return
        ((name, body),) = state.items()
        self.state_name = name
        if name == "Running":
            self.epoch = body["keyset"]["epoch_id"]
            self.node.set_participants(body["parameters"])
            self._adopt_domains(body["domains"])
            self._commit(body["keyset"]["domains"], body["keyset"]["epoch_id"], self.node.me is not None)
        elif name == "Initializing":
            event = body["generating_key"]
            self.epoch = body["epoch_id"]
            self.node.set_participants(event["parameters"])
            self._adopt_domains(body["domains"])  # before _commit: a new domain's share may go live now
            self._commit(body["generated_keys"], body["epoch_id"])
            await self._keygen_step(event)
        elif name == "Resharing":
            previous = body["previous_running_state"]
            self.epoch = previous["keyset"]["epoch_id"]
            # old and new participants talk to each other during the reshare
            self.node.set_participants(previous["parameters"], body["resharing_key"]["parameters"])
            self._adopt_domains(previous["domains"])
            self._commit(previous["keyset"]["domains"], previous["keyset"]["epoch_id"])
            if self.node.resharing is not None:
                await self.node.resharing.step(body)

    def _adopt_domains(self, registry: dict[str, Any]) -> None:
        """The protocol and reconstruction threshold of every domain the contract lists."""
        domains = registry["domains"]
        self.node.protocols = {d["id"]: d["protocol"] for d in domains}
        self.node.thresholds = {d["id"]: d["reconstruction_threshold"] for d in domains}

    def _commit(self, keys: list[dict[str, Any]], epoch: int, member: bool = True) -> None:
        """Make staged shares active once the contract records their key and epoch; a node
        that is no longer a participant erases its share (old shares only go now)."""
        secrets = self.node.secrets
        for entry in keys:
            domain, wanted = entry["domain_id"], key_string(entry["key"])
            active = secrets.active(domain)
            if active is not None and active.epoch >= epoch:
                if active.public_key.to_near_string() != wanted:
                    log.error("domain %s: the contract's key differs from this node's share", domain)
                continue
            staged = secrets.staged(domain, epoch, entry.get("attempt", 0))
            if staged is not None and staged.public_key.to_near_string() == wanted:
                secrets.commit(domain, epoch, entry.get("attempt", 0))
                log.info("domain %s: key of epoch %s recorded by the contract, share committed",
                         domain, epoch)
            elif active is not None and not member:
                secrets.erase(domain)
                log.info("domain %s: this node left the participant set; share erased", domain)
            elif active is not None:
                log.error("domain %s: the contract moved to epoch %s but this node has no share of it",
                          domain, epoch)

    async def _keygen_step(self, event: dict[str, Any]) -> None:
        node = self.node
        if node.me is None or node.network is None:
            return  # not started yet: the first poll only finds this node's participant id
        domain = event["domain"]
        instance = event["instance"]
        epoch = event["epoch_id"]
        if instance is not None and await node.chain.head() >= instance["expires_on"]:
            instance = None
        if instance is None:
            attempt = event["next_attempt_id"]
            marker = (epoch, domain["id"], attempt)
            ids = participants_of(event["parameters"])
            if node.me == min(ids) and marker not in self._leader_called:
                self._leader_called.add(marker)
                key_event_id = {"epoch_id": epoch, "domain_id": domain["id"], "attempt_id": attempt}
                try:
                    await node.chain.call("start_keygen_instance", {"key_event_id": key_event_id})
                    log.info("started key generation for domain %s, attempt %s", domain["id"], attempt)
                except Exception as exc:  # another poll will retry with the next attempt id
                    log.warning("start_keygen_instance failed: %s", exc)
            return
        marker = (epoch, domain["id"], instance["attempt_id"])
        running = self._keygen_tasks.get(marker)
        if node.me in instance["completed"] or (running is not None and not running.done()):
            return
        # first run, or a retry after a failed vote (the staged share is reused, no new DKG)
        self._keygen_tasks[marker] = asyncio.create_task(self._keygen(event, instance["attempt_id"]))

    async def _keygen(self, event: dict[str, Any], attempt: int) -> None:
        node = self.node
        domain, epoch = event["domain"], event["epoch_id"]
        key_event_id = {"epoch_id": epoch, "domain_id": domain["id"], "attempt_id": attempt}
        curve = CURVE_OF_PROTOCOL.get(domain["protocol"])
        if curve is None:
            log.error("domain %s uses protocol %s, which this node does not implement (refused)",
                      domain["id"], domain["protocol"])
            return
        try:
            share = node.secrets.staged(domain["id"], epoch, attempt)
            if share is None:
                ids = sorted(participants_of(event["parameters"]))
                dkg = Dkg(curve, domain["id"], epoch, ids, domain["reconstruction_threshold"], node.me)
                node.metrics.dkg_runs.inc()
                share = await node.network.run_protocol(
                    f"dkg/{epoch}/{domain['id']}/{attempt}", dkg, DKG_TIMEOUT)
                node.secrets.stage(share, attempt)
            await node.chain.call("vote_pk", {"key_event_id": key_event_id,
                                              "public_key": share.public_key.to_near_string()})
            log.info("domain %s: DKG done, voted for the public key", domain["id"])
        except ProtocolAbort as exc:
            node.record_abort("dkg", exc)
            log.warning("domain %s: DKG attempt %s failed: %s", domain["id"], attempt, exc)
            try:
                await node.chain.call("vote_abort_key_event_instance", {"key_event_id": key_event_id})
            except Exception as abort_exc:
                log.info("vote_abort_key_event_instance: %s", abort_exc)
        except Exception as exc:
            log.warning("domain %s: vote_pk failed: %s", domain["id"], exc)
