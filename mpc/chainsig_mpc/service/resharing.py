"""Joining and leaving: ``vote_new_parameters`` → Resharing → reshare → ``vote_reshared``.

While the contract is **Resharing**, the leader of the *new* set (its lowest id) calls
``start_reshare_instance`` for the current domain; every member of old ∪ new then runs
:class:`~chainsig_mpc.protocols.reshare.Reshare` under ``reshare/<epoch>/<domain>/<attempt>``.
Dealers are all old participants (each shares λ_i·x_i); a joiner, which has no old share,
first asks the old participants for the old group commitment and accepts it only if at least
K_old of them send the same one and its constant term is the contract's public key. The new
share is *staged* in the encrypted store, the new participants call ``vote_reshared``, and the
share replaces the old one only when the contract is Running with the new epoch (the lifecycle
commits it then; a leaver erases its share at that point).

Dealers: every old participant in attempt 0; a silent one makes the attempt time out, the
nodes vote to abort, and each later attempt leaves out one old participant in turn
(:func:`dealers_for_attempt`), so a dead node that the vote removes stops blocking the reshare
within n attempts (each costs :data:`RESHARE_TIMEOUT`). An old participant that lost its share
(deleted store) votes to abort every attempt in which it would deal, at once, so a reshare of
the same set (a refresh) gives it a new share within n quick attempts. A dead node that stays in the new set
cannot be resharing's receiver: remove it first.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import TYPE_CHECKING, Any

from chainsig_core.keys import Curve

from ..protocols.errors import MessageError, ProtocolAbort
from ..protocols.keyshare import commitment_hash
from ..protocols.reshare import Reshare
from .chain import participants_of

if TYPE_CHECKING:
    from .node import MpcNode

log = logging.getLogger(__name__)

RESHARE_TIMEOUT = 60.0
COMMITMENT_WAIT = 10.0


def dealers_for_attempt(old_ids: list[int], old_threshold: int, attempt: int) -> list[int]:
    """The dealers every party agrees on for a reshare attempt.

    Attempt 0: every old participant. Attempt a ≥ 1: all but the ``(a − 1) mod n``-th, so that
    after failed attempts a single silent old participant (typically the dead node the vote
    removes) is left out within n attempts — as long as K_old dealers remain.
    """
    if attempt == 0 or len(old_ids) - 1 < old_threshold:
        return list(old_ids)
    skipped = old_ids[(attempt - 1) % len(old_ids)]
    return [i for i in old_ids if i != skipped]


class Resharing:
    """The reshare role of one node."""

    def __init__(self, node: MpcNode) -> None:
        self.node = node
        self._tasks: dict[tuple[int, int, int], asyncio.Task[None]] = {}
        self._done: set[tuple[int, int, int]] = set()
        self._leader_called: set[tuple[int, int, int]] = set()
        self._commitments: dict[str, asyncio.Queue[tuple[int, dict[str, Any]]]] = {}
        node.network.handlers["reshare.commitment"] = self.on_commitment_request

    async def step(self, body: dict[str, Any]) -> None:
        """Act on a Resharing state."""
        node = self.node
        previous, event = body["previous_running_state"], body["resharing_key"]
        old_ids = participants_of(previous["parameters"])
        new_ids = participants_of(event["parameters"])
        if node.me is None or (node.me not in old_ids and node.me not in new_ids):
            return
        domain, epoch, instance = event["domain"], event["epoch_id"], event["instance"]
        if instance is not None and await node.chain.head() >= instance["expires_on"]:
            instance = None
        if instance is None:
            marker = (epoch, domain["id"], event["next_attempt_id"])
            if node.me == min(new_ids) and marker not in self._leader_called:
                self._leader_called.add(marker)
                try:
                    await node.chain.call("start_reshare_instance", {"key_event_id": {
                        "epoch_id": epoch, "domain_id": domain["id"], "attempt_id": marker[2]}})
                    log.info("started resharing of domain %s, attempt %s", domain["id"], marker[2])
                except Exception as exc:
                    log.warning("start_reshare_instance failed: %s", exc)
            return
        marker = (epoch, domain["id"], instance["attempt_id"])
        for (e, d, a), stale in self._tasks.items():  # the contract moved on: stop waiting
            if e == epoch and d == domain["id"] and a < marker[2] and not stale.done():
                stale.cancel()
        task = self._tasks.get(marker)
        if marker in self._done or node.me in instance["completed"] or (task is not None and not task.done()):
            return
        old_key = next(k for k in previous["keyset"]["domains"] if k["domain_id"] == domain["id"])
        self._tasks[marker] = asyncio.create_task(
            self._reshare(marker, domain, sorted(old_ids), sorted(new_ids), old_key["key"]))

    async def _reshare(self, marker: tuple[int, int, int], domain: dict[str, Any],
                       old_ids: list[int], new_ids: list[int], old_key: Any) -> None:
        from .lifecycle import CURVE_OF_PROTOCOL, key_string

        node = self.node
        epoch, domain_id, attempt = marker
        me = node.me
        assert me is not None
        key_event_id = {"epoch_id": epoch, "domain_id": domain_id, "attempt_id": attempt}
        try:
            staged = node.secrets.staged(domain_id, epoch, attempt)
            if staged is None:
                old_share = node.secrets.active(domain_id) if me in old_ids else None
                if old_share is not None:
                    commitment = list(old_share.commitment)
                else:
                    commitment = await self._fetch_commitment(domain_id, old_ids, key_string(old_key))
                dealers = dealers_for_attempt(old_ids, len(commitment), attempt)
                if me not in dealers and me not in new_ids:
                    self._done.add(marker)  # a leaver left out of this attempt's dealers
                    return
                if me in dealers and old_share is None:
                    await self._abort_as_shareless_dealer(marker, old_ids, len(commitment))
                    return
                protocol = Reshare(
                    old_commitment=commitment, old_commitment_hash=commitment_hash(commitment),
                    old_participants=old_ids, old_threshold=len(commitment), dealers=dealers,
                    new_participants=new_ids, new_threshold=domain["reconstruction_threshold"],
                    me=me, old_share=old_share if me in dealers else None, domain=domain_id, epoch=epoch,
                    ecdsa=CURVE_OF_PROTOCOL.get(domain["protocol"]) is Curve.SECP256K1)
                outcome = await node.network.run_protocol(
                    f"reshare/{epoch}/{domain_id}/{attempt}", protocol, RESHARE_TIMEOUT)
                if outcome.share is not None:
                    node.secrets.stage(outcome.share, attempt)
            if me in new_ids:
                await node.chain.call("vote_reshared", {"key_event_id": key_event_id})
                log.info("domain %s: reshared to epoch %s, voted", domain_id, epoch)
            self._done.add(marker)
        except (ProtocolAbort, MessageError) as exc:
            if isinstance(exc, ProtocolAbort):
                node.record_abort("reshare", exc)
            log.warning("domain %s: reshare attempt %s failed: %s", domain_id, attempt, exc)
            try:
                await node.chain.call("vote_abort_key_event_instance", {"key_event_id": key_event_id})
            except Exception as abort_exc:
                log.info("vote_abort_key_event_instance: %s", abort_exc)
        except Exception as exc:
            log.warning("domain %s: vote_reshared failed: %s", domain_id, exc)

    async def _abort_as_shareless_dealer(self, marker: tuple[int, int, int], old_ids: list[int],
                                         old_threshold: int) -> None:
        """An old participant that lost its share (store deleted) cannot deal. While a later
        attempt can still leave it out of the dealers, it votes to abort at once instead of
        letting the others time out; that attempt gives it a new share like a joiner. When no
        attempt can (fewer than K_old others, or several nodes lost their shares and the
        rotation came round), it stays silent: the attempt times out at the others' pace
        rather than spinning start/abort transactions."""
        epoch, domain_id, attempt = marker
        if len(old_ids) - 1 < old_threshold or attempt > len(old_ids):
            log.error("domain %s: this node holds no share of the old key and reshare attempt %s "
                      "cannot leave it out of the dealers; restore its store from a backup", domain_id, attempt)
            self._done.add(marker)
            return
        log.warning("domain %s: this node holds no share of the old key, so it cannot deal in reshare "
                    "attempt %s; voting to abort the attempt", domain_id, attempt)
        key_event_id = {"epoch_id": epoch, "domain_id": domain_id, "attempt_id": attempt}
        try:
            await self.node.chain.call("vote_abort_key_event_instance", {"key_event_id": key_event_id})
        except Exception as exc:  # retried at the next poll (the marker is not done)
            log.info("vote_abort_key_event_instance: %s", exc)
            return
        self._done.add(marker)

    async def _fetch_commitment(self, domain_id: int, old_ids: list[int], key: str | None) -> list[bytes]:
        """The old group commitment from the old participants (≥ K_old identical answers whose
        constant term is the contract's key)."""
        node = self.node
        tag = f"reshare-commitment/{domain_id}/{node.me}"
        replies = node.network.expect_replies(tag)
        try:
            for peer in old_ids:
                node.network.send(peer, "reshare.commitment", tag, {"domain": domain_id})
            votes: Counter[tuple[bytes, ...]] = Counter()
            seen: set[int] = set()
            deadline = asyncio.get_running_loop().time() + COMMITMENT_WAIT
            while True:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    raise MessageError("the old participants did not agree on the old commitment")
                try:
                    peer, body = await asyncio.wait_for(replies.get(), remaining)
                except TimeoutError:
                    continue
                raw = body.get("commitment")
                if peer in seen or peer not in old_ids or not isinstance(raw, list):
                    continue
                seen.add(peer)
                try:
                    commitment = tuple(bytes.fromhex(c) for c in raw)
                except (TypeError, ValueError):
                    continue
                votes[commitment] += 1
                if votes[commitment] >= len(commitment) and self._constant_term_matches(commitment, key):
                    return list(commitment)
        finally:
            node.network.forget(tag)

    @staticmethod
    def _constant_term_matches(commitment: tuple[bytes, ...], key: str | None) -> bool:
        from chainsig_core.keys import PublicKey

        if key is None or not commitment:
            return False
        try:
            return PublicKey.from_near_string(key).compressed == commitment[0]
        except ValueError:
            return False

    async def on_commitment_request(self, peer: int, tag: str, body: dict[str, Any]) -> None:
        """Send the (public) group commitment of a domain to a joiner."""
        domain = body.get("domain")
        share = self.node.secrets.active(domain) if isinstance(domain, int) else None
        if share is None:
            raise MessageError("no share of that domain")
        self.node.network.send(peer, "reply", tag, {"commitment": [c.hex() for c in share.commitment]})
