"""``MpcNode``: one participant's process — wiring of store, chain view, transport and roles.

Start-up: load the config and keys, open the encrypted store, read the contract's ``state``
until this node's account is a participant, start the TLS transport on the port of its
contract URL (peers = the participants' ``tls_public_key``, refreshed whenever the state
changes), then run concurrently: the governance follower (:mod:`.lifecycle`), the indexer, the
pool keeper (:mod:`.pools`), the message dispatcher and the metrics endpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from typing import Any

from chainsig_core.errors import ChainsigError

from ..node.transport import Peer, PeerTransport
from ..protocols.errors import ProtocolAbort
from .chain import YIELD_TIMEOUT_BLOCKS, ChainClient, SignEvent, participants_of
from .config import NodeConfig
from .lifecycle import Lifecycle
from .metrics import Metrics, MetricsServer
from .network import NodeNetwork
from .persistence import NodeSecrets
from .pools import PoolKeeper
from .requests import RequestBook
from .resharing import Resharing
from .signing import Signing
from .store import NodeStore

log = logging.getLogger(__name__)

STATE_POLL = 0.3
HEAD_POLL = 0.05
READY_LINE = "chainsig-mpc node ready"
RUNNING_FILE = "running.json"
"""Written to the data dir when the node is ready: its URLs and pid (read by ``mpc status``)."""


class MpcNode:
    """One MPC node.

    Parameters
    ----------
    config:
        The parsed node config.
    """

    def __init__(self, config: NodeConfig) -> None:
        self.config = config
        self.store = NodeStore(config.store_path, config.node_key.load())
        self.secrets = NodeSecrets(self.store)
        self.identity = config.identity()
        self.chain = ChainClient(config.rpc_url, config.contract_id, config.access_key(), config.network)
        self.book = RequestBook()
        self.metrics = Metrics()
        self.me: int | None = None
        self.participants: dict[int, Peer] = {}
        self.accounts: dict[int, str] = {}
        self.thresholds: dict[int, int] = {}
        self.transport: PeerTransport | None = None
        self.network: NodeNetwork = None  # type: ignore[assignment]  # set in start()
        self.lifecycle = Lifecycle(self)
        self.pools: PoolKeeper = None  # type: ignore[assignment]
        self.signing: Signing = None  # type: ignore[assignment]
        self.resharing: Resharing | None = None
        self.metrics_server = MetricsServer(self.metrics, self.health, self.gauges)
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

    def online_peers(self) -> set[int]:
        """Peers with an established outgoing connection."""
        return set(self.transport.connected) if self.transport is not None else set()

    def record_abort(self, phase: str, exc: ProtocolAbort) -> None:
        """Count a protocol failure and its culprits."""
        self.metrics.failures[f"{phase}-abort"] += 1
        for culprit in exc.culprits:
            self.metrics.culprits[culprit] += 1

    # -- health -------------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """The ``/health`` JSON."""
        return {"ok": True, "account_id": self.config.account_id, "participant_id": self.me,
                "state": self.lifecycle.state_name, "epoch": self.lifecycle.epoch,
                "connected": sorted(self.online_peers()), "domains": self.secrets.domains(),
                "pools": self.pools.pool_gauges() if self.pools else {}}

    def gauges(self) -> dict[str, float]:
        """Gauges of ``/metrics``."""
        values: dict[str, float] = {"connected_peers": len(self.online_peers()),
                                    "peer_connections_refused": self.transport.refused if self.transport else 0}
        if self.pools is not None:
            values.update(self.pools.pool_gauges())
        return values

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
        self.network = NodeNetwork(self.transport, self.me)
        self.pools = PoolKeeper(self)
        self.signing = Signing(self)
        self.resharing = Resharing(self)
        metrics_url = None
        if self.config.metrics is not None:
            metrics_url = await self.metrics_server.start(*self.config.metrics)
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
        next_height: int | None = None
        while True:
            try:
                head = await self.chain.head()
                if next_height is None:
                    next_height = max(head - YIELD_TIMEOUT_BLOCKS, 0)
                while next_height <= head:
                    for event in await self.chain.sign_events(next_height):
                        self._on_event(event)
                    next_height += 1
            except Exception as exc:  # keep following; the same block is fetched again
                log.warning("indexer: %s", exc)
                await asyncio.sleep(0.5)
            await asyncio.sleep(HEAD_POLL)

    def _on_event(self, event: SignEvent) -> None:
        if not self.book.add(event):
            return
        self.metrics.requests[event.domain_id] += 1
        if self.secrets.active(event.domain_id) is not None:
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
        await self.metrics_server.stop()
        await self.chain.aclose()
        self.store.close()
