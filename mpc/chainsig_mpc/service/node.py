"""``MpcNode``: one participant's process — wiring of store, chain view, transport and roles.

Start-up: load the config and keys, open the encrypted store, read the contract's ``state``
until this node's account is a participant, start the TLS transport on the port of its
contract URL (peers = the participants' ``tls_public_key``, refreshed whenever the state
changes), then run concurrently: the governance follower (:mod:`.lifecycle`), the chain follower
(:class:`~chainsig_mpc.node.indexer.ContractIndexer`: final blocks, every shard, starting the
contract's 200-block request timeout back so a restarted node sees what may still be pending),
the pool keeper (:mod:`.pools`), the message dispatcher and the metrics endpoint
(:class:`~chainsig_mpc.node.metrics.MetricsServer` over :class:`~chainsig_mpc.node.metrics.NodeMetrics`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from collections.abc import Iterable
from typing import Any

from chainsig_core.errors import ChainsigError

from ..node.indexer import YIELD_TIMEOUT_BLOCKS, BlockEvent, ContractIndexer, SignRequestEvent
from ..node.metrics import MetricsServer, NodeMetrics
from ..node.transport import Peer, PeerTransport
from ..protocols.errors import ProtocolAbort, ProtocolTimeout
from .chain import ChainClient, participants_of
from .config import NodeConfig
from .faults import Faults
from .lifecycle import Lifecycle
from .network import NodeNetwork
from .persistence import NodeSecrets
from .pools import PoolKeeper
from .requests import RequestBook
from .resharing import Resharing
from .signing import Signing
from .store import NodeStore
from .suspects import EXCLUSION_SECONDS, Exclusion, SignerSuspicion

log = logging.getLogger(__name__)

STATE_POLL = 0.3
INDEXER_POLL = 0.05
"""Seconds between polls for a new final block once the indexer has caught up."""
RPC_TIMEOUT = 30.0
"""Seconds for one NEAR RPC call of the indexer (also its ``get_pending_request`` views, which
a busy RPC node may answer slowly; the same as the ``ChainClient``'s)."""
READY_LINE = "chainsig-mpc node ready"
RUNNING_FILE = "running.json"
"""Written to the data dir when the node is ready: its URLs and pid (read by ``mpc status``)."""


class MpcNode:
    """One MPC node.

    Parameters
    ----------
    config:
        The parsed node config.
    faults:
        Test-only misbehaviour (``--insecure-corrupt``); none by default.
    """

    def __init__(self, config: NodeConfig, faults: Faults = Faults()) -> None:
        self.config = config
        self.faults = faults
        self.suspicion: SignerSuspicion | None = None  # set once the participant id is known
        self.store = NodeStore(config.store_path, config.node_key.load())
        self.secrets = NodeSecrets(self.store)
        self.identity = config.identity()
        self.chain = ChainClient(config.rpc_url, config.contract_id, config.access_key(), config.network)
        self.indexer = ContractIndexer(config.rpc_url, config.contract_id, lookback=YIELD_TIMEOUT_BLOCKS,
                                       poll_interval=INDEXER_POLL, rpc_timeout=RPC_TIMEOUT)
        self.book = RequestBook()
        self.metrics = NodeMetrics()
        self.me: int | None = None
        self.participants: dict[int, Peer] = {}
        self.accounts: dict[int, str] = {}
        self.thresholds: dict[int, int] = {}
        self.protocols: dict[int, str] = {}
        """Domain id → the contract's protocol name (``DamgardEtAl``, ``Frost``, …), adopted by
        the lifecycle at every poll."""
        self.transport: PeerTransport | None = None
        self.network: NodeNetwork = None  # type: ignore[assignment]  # set in start()
        self.lifecycle = Lifecycle(self)
        self.pools: PoolKeeper = None  # type: ignore[assignment]
        self.signing: Signing = None  # type: ignore[assignment]
        self.resharing: Resharing | None = None
        self.metrics_server: MetricsServer | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stop = asyncio.Event()

    # -- participants -------------------------------------------------------------------------
    def set_participants(self, parameters: dict[str, Any], joining: dict[str, Any] | None = None) -> None:
        """Adopt the contract's participant list (the transport follows it); while resharing,
        ``joining`` (the new parameters) adds the new participants."""
        table = participants_of(parameters)
        if joining is not None:
            table = {**participants_of(joining), **table}
        peers = {pid: peer for pid, (_, peer) in table.items()}
        accounts = {pid: account for pid, (account, _) in table.items()}
        mine = [pid for pid, account in accounts.items() if account == self.config.account_id]
        me = mine[0] if mine else None
        mine_peer = peers.get(me) if me is not None else None
        if mine_peer is not None and mine_peer.tls_public_key != self.identity.public_key:
            log.error("the contract lists another tls_public_key for %s than this node's identity",
                      self.config.account_id)
            me = None
        if me is None:
            peers = {}  # not (or no longer) a participant: talk to no one, dial no one
        changed = peers != self.participants or me != self.me
        self.participants, self.accounts, self.me = peers, accounts, me
        if changed and self.transport is not None:
            self.transport.refresh()

    def domains_of(self, protocol: str) -> list[int]:
        """The contract's domains that use ``protocol``, in id order."""
        return sorted(d for d, p in self.protocols.items() if p == protocol)

    def online_peers(self) -> set[int]:
        """Peers with an established outgoing connection."""
        return set(self.transport.connected) if self.transport is not None else set()

    def signing_peers(self, needed: int, holders: Iterable[int]) -> set[int]:
        """Online peers among ``holders`` (the key's participants) that may join a signer set:
        without the excluded ones, unless fewer than ``needed`` would remain
        (:meth:`SignerSuspicion.usable`)."""
        online = self.online_peers() & set(holders)
        return self.suspicion.usable(online, needed) if self.suspicion is not None else online

    def record_abort(self, phase: str, exc: ProtocolAbort) -> None:
        """Count a protocol failure once per culprit (``chainsig_mpc_protocol_failures_total``);
        a culprit a check named while signing or presigning is excluded from signer sets (not
        the silent participants of a timeout: a restarting honest node is silent too)."""
        self.metrics.protocol_failed(phase, exc.culprits)
        if self.suspicion is not None and phase in ("sign", "presign") and not isinstance(exc, ProtocolTimeout):
            for culprit in exc.culprits:
                self.suspicion.exclude(culprit, phase)

    def _on_exclude(self, exclusion: Exclusion) -> None:
        self.metrics.peer_exclusions.inc(peer=str(exclusion.peer), reason=exclusion.reason)
        log.warning("peer %s excluded from signer sets (%s) for %.0f s", exclusion.peer,
                    exclusion.reason, EXCLUSION_SECONDS)

    # -- health -------------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """The ``/health`` JSON."""
        return {"ok": True, "account_id": self.config.account_id, "participant_id": self.me,
                "state": self.lifecycle.state_name, "epoch": self.lifecycle.epoch,
                "connected": sorted(self.online_peers()), "domains": self.secrets.domains(),
                "pools": self.pools.pool_gauges() if self.pools else {},
                "excluded": [{"peer": e.peer, "reason": e.reason}
                             for e in (self.suspicion.exclusions() if self.suspicion else [])],
                **({"insecure_corrupt": sorted(self.faults.modes)} if self.faults else {})}

    def collect_metrics(self) -> None:
        """Bring the gauges (and counters kept elsewhere) up to date before a scrape."""
        metrics = self.metrics
        metrics.peers_connected.set(len(self.online_peers()))
        metrics.peers_excluded.set(len(self.suspicion.excluded()) if self.suspicion else 0)
        if self.transport is not None:  # the transport and indexer keep their own running totals
            metrics.peer_refused.inc(max(self.transport.refused - metrics.peer_refused.value(), 0))
        metrics.indexer_rpc_errors.inc(max(self.indexer.rpc_errors - metrics.indexer_rpc_errors.value(), 0))
        if self.network is not None:
            metrics.messages_dropped.inc(max(self.network.dropped - metrics.messages_dropped.value(), 0))
        if self.pools is not None:
            pools = self.pools.pool_gauges()
            for domain, sizes in pools["by_domain"].items():
                for kind, size in sizes.items():
                    metrics.pool_size.set(size, kind=kind, domain=domain)
            metrics.presignatures_held.set(pools["presignatures_held"])
            metrics.frost_nonces_held.set(pools["frost_nonces_held"])

    # -- running ------------------------------------------------------------------------------
    async def _wait_for_participation(self) -> None:
        while not self._stop.is_set():
            try:
                await self.lifecycle.step()
            except ChainsigError as exc:
                log.info("waiting for the contract: %s", exc)
            except Exception as exc:  # the RPC may not be up yet
                log.info("waiting for the contract: %s", type(exc).__name__)
            if self.me is not None:
                return
            await asyncio.sleep(STATE_POLL)

    async def start(self) -> dict[str, Any]:
        """Join the network; returns the ready description (participant id, URLs)."""
        await self._wait_for_participation()
        assert self.me is not None
        own = self.participants[self.me]
        host, port = self.config.listen or (own.host, own.port)
        self.transport = PeerTransport(self.identity, self.me, lambda: self.participants, host, port)
        await self.transport.start()
        self.network = NodeNetwork(self.transport, self.me, faults=self.faults)
        self.suspicion = SignerSuspicion(self.me, self._on_exclude)
        self.pools = PoolKeeper(self)
        self.signing = Signing(self)
        self.resharing = Resharing(self)
        metrics_url = None
        if self.config.metrics is not None:
            host, port = self.config.metrics
            self.metrics_server = MetricsServer(self.metrics.registry, host, port, health=self.health,
                                                collect=self.collect_metrics)
            await self.metrics_server.start()
            metrics_url = self.metrics_server.url
        for coroutine in (self.network.run(), self._follow_state(), self._index(), self._refill()):
            self._spawn(coroutine)
        return {"account_id": self.config.account_id, "participant_id": self.me,
                "url": f"https://{host}:{self.transport.listen_port}", "metrics_url": metrics_url}

    def _spawn(self, coroutine: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _follow_state(self) -> None:
        while True:
            try:
                await self.lifecycle.step()
            except Exception as exc:  # RPC hiccup: keep following
                log.warning("contract state poll failed: %s", exc)
            await asyncio.sleep(STATE_POLL)

    async def _refill(self) -> None:
        while True:
            try:
                self.pools.refill()
            except ChainsigError as exc:
                log.info("pool refill: %s", exc)
            await asyncio.sleep(0.2)

    async def _index(self) -> None:
        # The indexer retries failed RPC calls itself without skipping a block; anything else
        # (a bug) is logged and following resumes at the same block (receipts are de-duplicated).
        while True:
            try:
                async for event in self.indexer.events():
                    if isinstance(event, SignRequestEvent):
                        self._on_event(event)
                    elif isinstance(event, BlockEvent):
                        self.metrics.indexer_height.set(event.height)
            except Exception:
                log.exception("indexer stopped after block %s; resuming", self.indexer.last_height)
                await asyncio.sleep(0.5)

    def _on_event(self, event: SignRequestEvent) -> None:
        if not self.book.add(event):
            return
        self.metrics.requests.inc(domain=str(event.domain_id))
        self._spawn(self.signing.handle(event))

    async def run(self) -> None:
        """Start, print the ready line, and serve until SIGINT/SIGTERM."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._stop.set)
        start = asyncio.ensure_future(self.start())
        stop = asyncio.ensure_future(self._stop.wait())
        await asyncio.wait({start, stop}, return_when=asyncio.FIRST_COMPLETED)
        if start.done():
            info = start.result()
            (self.config.data_dir / RUNNING_FILE).write_text(json.dumps({**info, "pid": os.getpid()}))
            print(json.dumps({"ready": READY_LINE, **info}), flush=True)
            await stop
        else:
            start.cancel()
        await self.close()

    async def close(self) -> None:
        """Stop every task, the transport, the metrics server and the store."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        if self.transport is not None:
            await self.transport.close()
        if self.metrics_server is not None:
            await self.metrics_server.close()
        await self.chain.aclose()
        await self.indexer.aclose()
        self.store.close()
