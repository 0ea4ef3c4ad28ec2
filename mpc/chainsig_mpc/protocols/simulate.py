"""An in-memory cluster of nodes running the real protocol code (tests, benchmarks, demos).

Every message crosses :class:`InMemoryRouter` (or is passed between signer objects) as its wire
bytes. Each node has its own key store, pools and consumption log; the chain view (request id →
h, ε, ρ) is shared here because every node would read the same chain. Per-party CPU time is
recorded in :attr:`LocalCluster.cpu` for the benchmark.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chainsig_core.keys import Curve
from chainsig_core.signatures import EcdsaSignature, Ed25519Signature

from .dkg import Dkg
from .ecdsa import EcdsaCoordinator, EcdsaSigner
from .errors import ProtocolAbort
from .frost_session import FrostCoordinator, FrostNonce, FrostSigner, PeerCommitment
from .keyshare import KeyShare
from .keystore import KeyStore
from .pools import Pool
from .presign import EcdsaPresign, Presignature
from .reshare import Reshare
from .rounds import RoundProtocol
from .router import InMemoryRouter
from .signrequest import SignRequest
from .storage import ConsumptionLog, InMemoryConsumptionLog


@dataclass
class LocalNode:
    """One node's state."""

    me: int
    keys: KeyStore = field(default_factory=KeyStore)
    presignatures: Pool[Presignature] = field(default_factory=lambda: Pool(Presignature.from_json))
    nonces: Pool[FrostNonce] = field(default_factory=lambda: Pool(FrostNonce.from_json))
    commitments: Pool[PeerCommitment] = field(
        default_factory=lambda: Pool(PeerCommitment.from_json)
    )
    consumed: ConsumptionLog = field(default_factory=InMemoryConsumptionLog)

    def __post_init__(self) -> None:
        self.keys = KeyStore(on_commit=self._drop_old_epochs)

    def _drop_old_epochs(self, domain: int, epoch: int) -> None:
        for pool in (self.presignatures, self.nonces, self.commitments):
            pool.drop_epochs_before(domain, epoch)


class LocalCluster:
    """Nodes ``participants`` sharing one in-memory network.

    Parameters
    ----------
    participants:
        Node ids.
    """

    def __init__(self, participants: Sequence[int]) -> None:
        self.nodes = {i: LocalNode(i) for i in participants}
        self.requests: dict[str, SignRequest] = {}
        self.cpu: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))

    def lookup(self, request_id: str) -> SignRequest:
        """The shared chain view."""
        return self.requests[request_id]

    def key(self, node: int, domain: int) -> KeyShare:
        """A node's active key share of a domain."""
        share = self.nodes[node].keys.active(domain)
        if share is None:
            raise LookupError(f"node {node} has no key for domain {domain}")
        return share

    def _route(self, phase: str, parties: Mapping[int, RoundProtocol]) -> dict[int, Any]:
        router = InMemoryRouter(parties)
        results = router.run()
        for pid, seconds in router.cpu_seconds.items():
            self.cpu[phase][pid] += seconds
        if router.failures:
            raise next(iter(router.failures.values()))
        if len(results) != len(parties):
            raise ProtocolAbort(f"{phase} did not complete")
        return results

    def dkg(
        self, curve: Curve | str, domain: int, threshold: int, epoch: int = 0
    ) -> dict[int, KeyShare]:
        """Run a DKG among all nodes and install the key."""
        ids = sorted(self.nodes)
        results = self._route("dkg", {i: Dkg(curve, domain, epoch, ids, threshold, i) for i in ids})
        for i, share in results.items():
            self.nodes[i].keys.install(share)
        return results

    def reshare(
        self,
        domain: int,
        dealers: Sequence[int],
        new_participants: Sequence[int],
        new_threshold: int,
        *,
        ecdsa: bool,
    ) -> dict[int, KeyShare]:
        """Reshare a domain's key and commit it (as the contract's signal would)."""
        old = self.key(dealers[0], domain)
        for j in new_participants:
            self.nodes.setdefault(j, LocalNode(j))
        parties = {}
        for i in sorted(set(dealers) | set(new_participants)):
            parties[i] = Reshare(
                old_commitment=old.commitment,
                old_commitment_hash=old.commitment_hash,
                old_participants=old.participants,
                old_threshold=old.threshold,
                dealers=dealers,
                new_participants=new_participants,
                new_threshold=new_threshold,
                me=i,
                old_share=self.key(i, domain) if i in dealers else None,
                domain=domain,
                epoch=old.epoch + 1,
                ecdsa=ecdsa,
            )
        results = self._route("reshare", parties)
        for i, outcome in results.items():
            if outcome.share is not None:
                self.nodes[i].keys.stage(outcome.share)
        for node in self.nodes.values():  # the contract moved to Running: commit everywhere
            node.keys.commit(domain, old.epoch + 1)
        return {i: o.share for i, o in results.items() if o.share is not None}

    def presign(self, domain: int, signers: Sequence[int], owner: int, label: str) -> Presignature:
        """Run presign among ``signers`` and pool the result at every signer."""
        parties = {i: EcdsaPresign(self.key(i, domain), signers, owner, label) for i in signers}
        results = self._route("presign", parties)
        for i, presignature in results.items():
            self.nodes[i].presignatures.add(presignature)
        return results[owner]

    def ecdsa_sign(
        self, domain: int, request: SignRequest, presignature: Presignature
    ) -> EcdsaSignature:
        """Sign with the owner of ``presignature`` as coordinator."""
        self.requests[request.request_id] = request
        owner = presignature.owner
        node = self.nodes[owner]
        coord = EcdsaCoordinator(
            self.key(owner, domain), node.presignatures, node.consumed, self.lookup
        )
        begin = time.process_time()
        messages = coord.start(request.request_id, presignature)
        self.cpu["sign"][owner] += time.process_time() - begin
        result = None
        for message in messages:
            j = message.recipient
            assert j is not None
            peer = self.nodes[j]
            begin = time.process_time()
            share = EcdsaSigner(
                self.key(j, domain), peer.presignatures, peer.consumed, self.lookup
            ).handle_request(message.encode())
            self.cpu["sign"][j] += time.process_time() - begin
            begin = time.process_time()
            result = coord.receive(share.encode())
            self.cpu["sign"][owner] += time.process_time() - begin
        assert result is not None
        return result

    def frost_signer(self, node: int, domain: int) -> FrostSigner:
        """A node's FROST signer role."""
        n = self.nodes[node]
        return FrostSigner(self.key(node, domain), n.nonces, n.consumed, self.lookup)

    def frost_precommit(self, domain: int, owner: int, signers: Sequence[int]) -> None:
        """Every signer draws one nonce pair for (owner, signers) and sends its commitment."""
        coord = FrostCoordinator(self.frost_signer(owner, domain), self.nodes[owner].commitments)
        for j in signers:
            begin = time.process_time()
            message = self.frost_signer(j, domain).precommit(owner, tuple(signers))
            coord.add_commitment(message.encode())
            self.cpu["frost"][j] += time.process_time() - begin

    def frost_sign(
        self, domain: int, request: SignRequest, owner: int, signers: Sequence[int]
    ) -> Ed25519Signature:
        """Sign with pooled commitments (precommit first)."""
        self.requests[request.request_id] = request
        coord = FrostCoordinator(self.frost_signer(owner, domain), self.nodes[owner].commitments)
        begin = time.process_time()
        packages = coord.start(request.request_id, tuple(signers))
        self.cpu["frost"][owner] += time.process_time() - begin
        result = None
        for package in packages:
            j = package.recipient
            assert j is not None
            begin = time.process_time()
            share = self.frost_signer(j, domain).handle_package(package.encode())
            self.cpu["frost"][j] += time.process_time() - begin
            begin = time.process_time()
            result = coord.receive(share.encode())
            self.cpu["frost"][owner] += time.process_time() - begin
        assert result is not None
        return result
