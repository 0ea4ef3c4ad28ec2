"""Answering sign requests: coordinator choice, one online round, verification, ``respond``.

For every request the indexer finds, all nodes compute the same coordinator order
(:func:`~.requests.coordinator_order`). The first node starts at once; the node at rank r
starts ``r × TAKEOVER_DELAY`` seconds later **only if the contract still waits** for the
request (``get_pending_request``) — so a down coordinator, or one without material, is
replaced, and a request already answered or timed out is skipped.

The coordinator is the owner of the material it uses, picked by the protocol the contract
gives the request's domain (``node.protocols``), not by its id: ``DamgardEtAl`` (ECDSA) takes
one of its presignatures of that domain whose signer set is entirely online and not excluded;
``Frost`` takes a complete set of pooled commitments of that domain. Signers take h, ε, ρ from their **own** indexer (waiting briefly if it lags), mark
the presignature or nonce consumed in the fsynced store before the share leaves, and answer.
A refusal or a silent signer makes the coordinator retry with other material that avoids that
signer; a signer whose share fails a check is named and excluded from this node's signer sets
(FROST at once, ECDSA by elimination — :mod:`.suspects`). The protocols verify the signature under the derived key; the node verifies again
before it calls ``respond`` from its own account.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any

from chainsig_core.errors import ChainsigError, RpcError
from chainsig_core.kdf import derive_public_key_from_tweak
from chainsig_core.signatures import verify_signature

from ..protocols.ecdsa import EcdsaCoordinator, EcdsaSigner
from ..protocols.errors import MessageError, ProtocolAbort, SigningRefusedError
from ..protocols.frost_session import FrostCoordinator, FrostSigner
from ..node.indexer import SignRequestEvent
from .lifecycle import ECDSA_PROTOCOL, FROST_PROTOCOL
from .network import message_of
from .requests import coordinator_order

if TYPE_CHECKING:
    from .node import MpcNode

log = logging.getLogger(__name__)

TAKEOVER_DELAY = 1.5
"""Seconds between coordinator ranks (the next node checks whether the request is pending)."""
SHARE_TIMEOUT = 5.0
LOOKUP_WAIT = 10.0
MATERIAL_WAIT = 3.0
MAX_ATTEMPTS = 4
RPC_OUTAGE_LIMIT = 60.0
"""Seconds a request is followed through NEAR RPC failures (they spend no attempt); past
this the contract's 200-block timeout has answered it anyway on any realistic block time."""


class Retry(Exception):
    """An attempt failed; retry without ``exclude`` (for the rest of the request) and without
    ``avoid_next`` (only in the next attempt: a guess among suspects)."""

    def __init__(self, reason: str, exclude: set[int], avoid_next: set[int] | None = None) -> None:
        super().__init__(reason)
        self.exclude = exclude
        self.avoid_next = avoid_next or set()


class Signing:
    """The node's coordinator and signer roles."""

    def __init__(self, node: MpcNode) -> None:
        self.node = node
        node.network.handlers["ecdsa.request"] = self.on_ecdsa_request
        node.network.handlers["frost.package"] = self.on_frost_package

    # -- coordinator ------------------------------------------------------------------------
    async def handle(self, event: SignRequestEvent) -> None:
        """Follow one request until it is answered (by anyone), times out, or fails; its
        outcome is counted in ``chainsig_mpc_sign_requests_total``."""
        outcome = await self._handle(event)
        self.node.metrics.sign_requests.inc(domain=str(event.domain_id), outcome=outcome)

    async def _handle(self, event: SignRequestEvent) -> str:
        node = self.node
        key = node.secrets.active(event.domain_id)
        if key is None or node.protocols.get(event.domain_id) not in (ECDSA_PROTOCOL, FROST_PROTOCOL):
            return "skipped"
        order = coordinator_order(event.request_id, key.participants)  # holders of this key
        if node.me not in order:
            return "skipped"
        await asyncio.sleep(order.index(node.me) * TAKEOVER_DELAY)
        exclude: set[int] = set()
        avoid_next: set[int] = set()
        attempts, outage_until, backoff = 0, time.monotonic() + RPC_OUTAGE_LIMIT, 0.5
        while attempts < MAX_ATTEMPTS:
            attempts += 1
            try:
                if await node.chain.head() >= event.timeout_height:
                    return "answered"  # timed out on the contract
                if not await node.indexer.is_pending(event):
                    return "answered"
                signature = await self._sign(event, exclude, avoid_next)
            except Retry as retry:
                node.metrics.failures.inc(reason=str(retry)[:40])
                exclude |= retry.exclude
                avoid_next = retry.avoid_next
                log.info("request %s: attempt failed (%s); retrying", event.request_id[:12], retry)
                continue
            except ProtocolAbort as exc:
                node.record_abort("sign", exc)
                exclude |= set(exc.culprits)
                avoid_next = set()
                continue
            except RpcError as exc:  # the NEAR RPC, not the signers: do not spend an attempt
                node.metrics.failures.inc(reason="rpc")
                log.warning("request %s: %s", event.request_id[:12], exc)
                if time.monotonic() > outage_until:
                    return "failed"
                attempts -= 1
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            except ChainsigError as exc:
                node.metrics.failures.inc(reason="error")
                log.warning("request %s: %s", event.request_id[:12], exc)
                avoid_next = set()
                await asyncio.sleep(0.5)
                continue
            return "signed" if await self._respond(event, signature) else "answered"
        return "failed"

    async def _respond(self, event: SignRequestEvent, signature: Any) -> bool:
        node = self.node
        key = node.secrets.active(event.domain_id)
        assert key is not None
        derived = derive_public_key_from_tweak(key.public_key, event.tweak)
        verify_signature(derived, event.payload, signature)  # never send an unverified signature
        try:
            await node.chain.call("respond", {"request": event.signature_request(),
                                              "response": dict(signature.to_response())})
        except Exception as exc:  # e.g. another coordinator answered first
            node.metrics.failures.inc(reason="respond")
            log.info("respond for %s not accepted: %s", event.request_id[:12], exc)
            return False
        domain = str(event.domain_id)
        node.metrics.signatures.inc(domain=domain)
        node.metrics.sign_latency.observe(time.monotonic() - node.book.seen_at(event.request_id), domain=domain)
        log.info("answered request %s (domain %s)", event.request_id[:12], event.domain_id)
        return True

    async def _sign(self, event: SignRequestEvent, exclude: set[int],
                    avoid: AbstractSet[int] = frozenset()) -> Any:
        """One attempt: material whose signer set is online and leaves out ``exclude`` —
        preferably also ``avoid`` (a guess among suspects), else any such material at once."""
        node = self.node
        key = node.secrets.active(event.domain_id)
        if key is None:
            raise Retry("no key share for this domain", set())
        deadline = time.monotonic() + MATERIAL_WAIT
        ecdsa = node.protocols.get(event.domain_id) == ECDSA_PROTOCOL
        others_needed = (2 * key.threshold - 2) if ecdsa else key.threshold - 1
        while True:
            online = (node.signing_peers(others_needed, key.participants) | {node.me}) - exclude
            if ecdsa:
                material = None
                for allowed in (online - avoid, online) if avoid else (online,):
                    material = node.secrets.presignatures.take_for_owner(
                        event.domain_id, key.epoch, node.me, exclude=lambda s, a=allowed: not set(s) <= a)
                    if material is not None:
                        break
                if material is not None:
                    return await self._sign_ecdsa(event, key, material)
            else:
                sets = node.pools.complete_nonce_sets(event.domain_id)
                usable = [s for s, n in sets.items() if n > 0 and set(s) <= online]
                if usable:
                    signer = FrostSigner(key, node.secrets.nonces, node.store, node.book.lookup)
                    frost = FrostCoordinator(signer, node.secrets.commitments)
                    messages = frost.start(event.request_id, min(usable))
                    return await self._collect(frost, messages, "frost.package")
            if time.monotonic() > deadline:
                raise Retry("no signing material for an online signer set", set())
            await asyncio.sleep(0.1)

    async def _sign_ecdsa(self, event: SignRequestEvent, key: Any, material: Any) -> Any:
        """One ECDSA attempt with ``material``; a signature that does not verify cannot name
        its culprit (MPC-PROTOCOLS.md §4), so the node's suspicion record chooses whom the
        retry leaves out (:meth:`~.suspects.SignerSuspicion.ecdsa_failed`)."""
        node = self.node
        coordinator = EcdsaCoordinator(key, node.secrets.presignatures, node.store, node.book.lookup)
        messages = coordinator.start(event.request_id, material)
        try:
            signature = await self._collect(coordinator, messages, "ecdsa.request")
        except ProtocolAbort as exc:
            if exc.culprits or node.suspicion is None:
                raise
            node.record_abort("sign", exc)
            left_out = node.suspicion.ecdsa_failed(material.signers)
            named = left_out & node.suspicion.excluded()
            raise Retry("ECDSA signature did not verify", named, avoid_next=left_out - named) from None
        if node.suspicion is not None:
            node.suspicion.ecdsa_succeeded(material.signers)
        return signature

    async def _collect(self, coordinator: Any, messages: list[Any], channel: str) -> Any:
        node = self.node
        if not messages:  # a signer set of one: thresholds ≥ 2 make this impossible
            raise Retry("signer set without other signers", set())
        tag = messages[0].sid.hex()
        replies = node.network.expect_replies(tag)
        waiting = {m.recipient for m in messages}
        try:
            for message in messages:
                node.network.send(message.recipient, channel, tag, {"m": message.encode().decode("ascii")})
            deadline = time.monotonic() + SHARE_TIMEOUT
            while waiting:
                try:
                    peer, body = await asyncio.wait_for(replies.get(), max(deadline - time.monotonic(), 0.001))
                except TimeoutError:
                    raise Retry("signers did not answer", set(waiting)) from None
                if peer not in waiting:
                    continue
                if "refused" in body:
                    raise Retry("a signer refused", {peer})
                try:
                    result = coordinator.receive(message_of(peer, body))
                except MessageError:
                    continue
                waiting.discard(peer)
                if result is not None:
                    return result
            raise Retry("signing ended without a signature", set())
        finally:
            node.network.forget(tag)

    # -- signer -----------------------------------------------------------------------------
    async def _answer(self, peer: int, tag: str, body: dict[str, Any], protocol: str) -> None:
        """Answer a coordinator with this node's share; the domain is the one this node's own
        indexer saw the request for, and must use ``protocol`` (the channel's)."""
        node = self.node
        message = message_of(peer, body)
        if message.sid.hex() != tag:
            raise MessageError("tag does not match the session id")
        request_id = message.body.get("request_id")
        event = await node.book.wait(request_id, LOOKUP_WAIT) if isinstance(request_id, str) else None
        try:
            if event is None:
                raise SigningRefusedError("request is unknown in this node's view of the chain")
            if node.protocols.get(event.domain_id) != protocol:
                raise SigningRefusedError(f"the request's domain does not use {protocol}")
            key = node.secrets.active(event.domain_id)
            if key is None:
                raise SigningRefusedError("this node holds no share of the domain")
            if protocol == ECDSA_PROTOCOL:
                share = EcdsaSigner(key, node.secrets.presignatures, node.store,
                                    node.book.lookup).handle_request(message)
            else:
                share = FrostSigner(key, node.secrets.nonces, node.store,
                                    node.book.lookup).handle_package(message)
        except (SigningRefusedError, MessageError) as exc:
            node.network.send(peer, "reply", tag, {"refused": str(exc)[:200]})
            return
        share = node.faults.tamper_share(share)
        node.network.send(peer, "reply", tag, {"m": share.encode().decode("ascii")})

    async def on_ecdsa_request(self, peer: int, tag: str, body: dict[str, Any]) -> None:
        """A coordinator asks for this node's ECDSA share."""
        await self._answer(peer, tag, body, ECDSA_PROTOCOL)

    async def on_frost_package(self, peer: int, tag: str, body: dict[str, Any]) -> None:
        """A coordinator sends a FROST signing package."""
        await self._answer(peer, tag, body, FROST_PROTOCOL)
