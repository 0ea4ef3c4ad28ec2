"""Domains by protocol, not by id: three nodes over real TLS hold a second ECDSA domain (id 2)
next to domains 0 (ECDSA) and 1 (FROST); the pool keeper fills presignatures for both ECDSA
domains and nonce sets for the FROST one, the gauges report each domain, and the signing roles
sign every domain with its own key."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chainsig_core import kdf
from chainsig_core.kdf import derive_public_key_from_tweak
from chainsig_core.signatures import verify_signature
from chainsig_mpc.node.indexer import SignRequestEvent
from chainsig_mpc.node.metrics import NodeMetrics
from chainsig_mpc.protocols.errors import MessageError
from chainsig_mpc.protocols.simulate import LocalCluster
from chainsig_mpc.service.faults import Faults
from chainsig_mpc.service.node import MpcNode
from chainsig_mpc.service.persistence import NodeSecrets
from chainsig_mpc.service.pools import PoolKeeper
from chainsig_mpc.service.requests import RequestBook
from chainsig_mpc.service.signing import Signing
from chainsig_mpc.service.store import NodeStore
from chainsig_mpc.service.suspects import SignerSuspicion

PROTOCOLS = {0: "DamgardEtAl", 1: "Frost", 2: "DamgardEtAl"}
CURVES = {0: "secp256k1", 1: "ed25519", 2: "secp256k1"}


def wire_node(me: int, cluster: Any, store: NodeStore) -> MpcNode:
    """An :class:`MpcNode` with its real roles on a TLS cluster member (the parts ``start()``
    wires; no NEAR chain: this test hands the node its shares and requests)."""
    node = MpcNode.__new__(MpcNode)
    node.me, node.transport, node.network = me, cluster.transports[me], cluster.networks[me]
    node.store, node.secrets = store, NodeSecrets(store)
    node.book, node.metrics, node.faults = RequestBook(), NodeMetrics(), Faults()
    node.suspicion = SignerSuspicion(me)
    node.protocols = dict(PROTOCOLS)
    node.thresholds = dict.fromkeys(PROTOCOLS, 2)
    node.pools = PoolKeeper(node)
    node.signing = Signing(node)
    return node


def event(request_id: str, domain: int, payload: bytes) -> SignRequestEvent:
    return SignRequestEvent(request_id, "alice.devnet", f"path-{domain}", "Ecdsa" if CURVES[domain] == "secp256k1"
                            else "Eddsa", payload, domain, 1, "block", os.urandom(32),
                            kdf.tweak("alice.devnet", f"path-{domain}"), {})


async def until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.05)


def test_pools_and_signing_follow_each_domains_protocol(tmp_path: Path, tls_cluster: Any, run: Any) -> None:
    keys = LocalCluster(range(3))
    shares = {d: keys.dkg(curve, d, 2) for d, curve in CURVES.items()}
    assert shares[0][0].public_key != shares[2][0].public_key

    async def scenario() -> None:
        async with tls_cluster(3) as cluster:
            await until(lambda: all(len(t.connected) == 2 for t in cluster.transports.values()), 10, "TLS mesh")
            stores = [NodeStore(tmp_path / f"node{i}.sqlite", os.urandom(32)) for i in range(3)]
            nodes = [wire_node(i, cluster, stores[i]) for i in range(3)]
            try:
                for node in nodes:
                    for d in PROTOCOLS:
                        node.secrets.stage(shares[d][node.me], 0)
                        node.secrets.commit(d, 0, 0)
                await exercise(nodes)
            finally:
                for task in [t for n in nodes for t in n.pools._tasks]:
                    task.cancel()
                for store in stores:
                    store.close()

    async def exercise(nodes: list[MpcNode]) -> None:
        owner = nodes[0]
        for node in nodes:  # one refill round: presign runs for domains 0 and 2, precommits for 1
            node.pools.refill()
        await until(lambda: all(n.pools.owned_presignatures(d) >= 1 for n in nodes for d in (0, 2))
                    and all(n.pools.complete_nonce_sets(1) for n in nodes), 40, "pools of every domain")
        await until(lambda: not any(n.pools._tasks for n in nodes), 40, "presign runs to end")
        mine = {p.pool_key.domain for p in owner.secrets.presignatures if p.owner == owner.me}
        assert mine == {0, 2}  # presignatures of both ECDSA domains, none of the FROST one
        assert {c.pool_key.domain for c in owner.secrets.commitments} == {1}
        gauges = owner.pools.pool_gauges()
        assert set(gauges["by_domain"]) == {"0", "1", "2"}
        assert set(gauges["by_domain"]["2"]) == {"presignatures"} and gauges["by_domain"]["2"]["presignatures"] >= 1
        assert set(gauges["by_domain"]["1"]) == {"frost_nonce_sets"}
        assert gauges["presignatures_owned"] == sum(owner.pools.owned_presignatures(d) for d in (0, 2))
        for domain in (2, 0, 1):
            payload = hashlib.sha256(f"domain {domain}".encode()).digest()
            request = event(f"request-{domain}", domain, payload)
            for node in nodes:
                node.book.add(request)
            signature = await owner.signing._sign(request, set())
            root = shares[domain][0].public_key
            verify_signature(derive_public_key_from_tweak(root, request.tweak), payload, signature)
            assert type(signature).__name__ == ("EcdsaSignature" if CURVES[domain] == "secp256k1"
                                                else "Ed25519Signature")
        with pytest.raises(MessageError, match="does not use DamgardEtAl"):  # a presign for the FROST domain
            await nodes[1].pools.on_presign_invite(0, "0.0.x", {"signers": [0, 1, 2], "domain": 1})
        with pytest.raises(MessageError, match="domain id"):
            await nodes[1].pools.on_presign_invite(0, "0.0.x", {"signers": [0, 1, 2]})

    run(scenario())
