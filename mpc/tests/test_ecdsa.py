"""Robust ECDSA: presign + sign verify under the kdf-derived key; every refusal rule of §4."""

from __future__ import annotations

import dataclasses

import coincurve
import pytest
from chainsig_mpc.protocols import ecdsa
from chainsig_mpc.protocols.ecdsa import EcdsaCoordinator, EcdsaSigner
from chainsig_mpc.protocols.errors import MessageError, ProtocolAbort, SigningRefusedError
from chainsig_mpc.protocols.groups import SECP256K1
from chainsig_mpc.protocols.messages import Message
from chainsig_mpc.protocols.pools import Pool
from chainsig_mpc.protocols.presign import EcdsaPresign, Presignature
from chainsig_mpc.protocols.router import InMemoryRouter
from chainsig_mpc.protocols.storage import SqliteConsumptionLog

from chainsig_core import kdf
from chainsig_core.errors import SignatureVerificationError
from chainsig_core.keys import SECP256K1_N
from chainsig_core.signatures import verify_signature

SIGNERS = [0, 1, 2, 3, 4]


@pytest.fixture
def cluster(make_cluster):
    return make_cluster(6, 3, curves=("secp256k1",))


def derived(cluster, account="alice.near", path="ethereum-1"):
    return kdf.derive_public_key(cluster.key(0, 0).public_key, account, path)


def test_signature_verifies_with_coincurve_and_core(cluster, request_for) -> None:
    presignature = cluster.presign(0, SIGNERS, 2, "p0")
    request = request_for("req-1")
    signature = cluster.ecdsa_sign(0, request, presignature)
    key = derived(cluster)
    verify_signature(key, request.payload, signature)
    assert signature.s <= SECP256K1_N // 2
    assert coincurve.PublicKey(key.uncompressed).verify(
        _der(signature.r, signature.s), request.payload, hasher=None
    )
    assert cluster.nodes[2].presignatures.get(presignature.presignature_id) is None


def _der(r: int, s: int) -> bytes:
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    return encode_dss_signature(r, s)


def test_presignature_has_no_secret_in_repr(cluster) -> None:
    p = cluster.presign(0, SIGNERS, 0, "repr")
    assert str(p.w) not in repr(p) and str(p.a) not in repr(p)


def _coordinator(cluster, owner):
    n = cluster.nodes[owner]
    return EcdsaCoordinator(cluster.key(owner, 0), n.presignatures, n.consumed, cluster.lookup)


def _signer(cluster, j):
    n = cluster.nodes[j]
    return EcdsaSigner(cluster.key(j, 0), n.presignatures, n.consumed, cluster.lookup)


@pytest.mark.parametrize(
    "payload",
    [bytes(32), SECP256K1_N.to_bytes(32, "big"), b"\xff" * 32],
    ids=["zero", "n", "above-n"],
)
def test_payload_zero_or_at_least_n_refused(cluster, request_for, payload) -> None:
    presignature = cluster.presign(0, SIGNERS, 1, "p")
    request = request_for("bad", payload=payload)
    cluster.requests[request.request_id] = request
    with pytest.raises(SigningRefusedError, match="non-zero and below"):
        _coordinator(cluster, 1).start("bad", presignature)
    # refused before consumption: the presignature is still usable
    good = request_for("good")
    verify_signature(derived(cluster), good.payload, cluster.ecdsa_sign(0, good, presignature))


def _request_message(cluster, presignature, request_id, sender=None, signers=None):
    body = {
        "request_id": request_id,
        "presignature": presignature.presignature_id,
        "signers": list(signers or presignature.signers),
    }
    sid = ecdsa.sign_sid(presignature, request_id)
    return lambda j: Message(
        "ecdsa-sign.request", sid, presignature.owner if sender is None else sender, j, body
    )


def test_signer_refusals(cluster, request_for) -> None:
    presignature = cluster.presign(0, SIGNERS, 2, "p")
    request = request_for("r")
    cluster.requests["r"] = request
    signer = _signer(cluster, 3)
    with pytest.raises(SigningRefusedError, match="not owned"):
        signer.handle_request(_request_message(cluster, presignature, "r", sender=1)(3))
    with pytest.raises(SigningRefusedError, match="signer set differs"):
        signer.handle_request(
            _request_message(cluster, presignature, "r", signers=[0, 1, 2, 3, 5])(3)
        )
    with pytest.raises(MessageError, match="session id"):
        message = _request_message(cluster, presignature, "r")(3)
        signer.handle_request(dataclasses.replace(message, sid=b"\x07" * 32))
    other = dataclasses.replace(presignature, presignature_id="ab" * 32)
    with pytest.raises(SigningRefusedError, match="unknown presignature"):
        signer.handle_request(_request_message(cluster, other, "r")(3))
    # the genuine request works once …
    share = signer.handle_request(_request_message(cluster, presignature, "r")(3).encode())
    assert share.recipient == 2
    # … and never twice, even for another payload
    cluster.requests["r2"] = request_for("r2")
    with pytest.raises(SigningRefusedError, match="already used"):
        signer.handle_request(_request_message(cluster, presignature, "r2")(3))


def test_coordinator_must_own_presignature(cluster, request_for) -> None:
    presignature = cluster.presign(0, SIGNERS, 2, "p")
    cluster.requests["r"] = request_for("r")
    theirs = cluster.nodes[4].presignatures.get(presignature.presignature_id)
    with pytest.raises(SigningRefusedError, match="owns"):
        _coordinator(cluster, 4).start("r", theirs)


def test_reuse_refused_after_restore(cluster, request_for, tmp_path) -> None:
    presignature = cluster.presign(0, SIGNERS, 0, "p")
    node = cluster.nodes[1]
    node.consumed = SqliteConsumptionLog(tmp_path / "node1.db")
    saved_pool = node.presignatures.to_json()  # a snapshot taken before signing
    cluster.requests["r"] = request_for("r")
    _signer(cluster, 1).handle_request(_request_message(cluster, presignature, "r")(1))
    node.consumed.close()
    # the node crashes and restarts from the stale snapshot: the durable log still refuses
    node.presignatures = Pool(Presignature.from_json)
    node.presignatures.load_json(saved_pool)
    node.consumed = SqliteConsumptionLog(tmp_path / "node1.db")
    assert node.presignatures.get(presignature.presignature_id) is not None
    cluster.requests["r2"] = request_for("r2")
    with pytest.raises(SigningRefusedError, match="already used"):
        _signer(cluster, 1).handle_request(_request_message(cluster, presignature, "r2")(1))


def test_corrupted_share_refused_nothing_output(cluster, request_for) -> None:
    presignature = cluster.presign(0, SIGNERS, 0, "p")
    cluster.requests["r"] = request_for("r")
    coordinator = _coordinator(cluster, 0)
    messages = coordinator.start("r", presignature)
    outputs = []
    with pytest.raises(ProtocolAbort, match="does not verify"):
        for message in messages:
            share = _signer(cluster, message.recipient).handle_request(message)
            if message.recipient == 3:
                mu = int(share.body["mu"], 16)
                share = dataclasses.replace(
                    share, body={**share.body, "mu": f"{(mu + 1) % SECP256K1_N:064x}"}
                )
            outputs.append(coordinator.receive(share))
    assert all(o is None for o in outputs)
    # retry with another presignature succeeds
    retry = cluster.presign(0, SIGNERS, 0, "p-retry")
    verify_signature(
        derived(cluster),
        cluster.requests["r"].payload,
        cluster.ecdsa_sign(0, cluster.requests["r"], retry),
    )


def test_malformed_share_names_sender(cluster, request_for) -> None:
    presignature = cluster.presign(0, SIGNERS, 0, "p")
    cluster.requests["r"] = request_for("r")
    coordinator = _coordinator(cluster, 0)
    message = coordinator.start("r", presignature)[0]
    share = _signer(cluster, message.recipient).handle_request(message)
    with pytest.raises(ProtocolAbort) as info:
        coordinator.receive(dataclasses.replace(share, body={"mu": "zz", "nu": "00"}))
    assert info.value.culprits == (message.recipient,)


def test_share_from_non_signer_refused(cluster, request_for) -> None:
    presignature = cluster.presign(0, SIGNERS, 0, "p")
    cluster.requests["r"] = request_for("r")
    coordinator = _coordinator(cluster, 0)
    message = coordinator.start("r", presignature)[0]
    share = _signer(cluster, message.recipient).handle_request(message)
    with pytest.raises(MessageError, match="non-signer 5"):
        coordinator.receive(dataclasses.replace(share, sender=5))


def test_presign_needs_exactly_2t_plus_1(cluster) -> None:
    with pytest.raises(ProtocolAbort, match="exactly"):
        EcdsaPresign(cluster.key(0, 0), [0, 1, 2, 3], 0, "x")
    with pytest.raises(ProtocolAbort, match="exactly"):
        EcdsaPresign(cluster.key(0, 0), [0, 1, 2, 3, 4, 5], 0, "x")


class BadOpener(EcdsaPresign):
    """Opens R_j = (k_j + 1)·G."""

    def _outgoing(self, round_):
        if round_.name == "open":
            point = SECP256K1.base_mul(self._sums["k"] + 1)
            return {"big_r": SECP256K1.encode(point).hex()}
        return super()._outgoing(round_)


def test_inconsistent_opening_located(make_cluster) -> None:
    cluster = make_cluster(5, 3, curves=("secp256k1",))  # t = 2: locates ⌊t/2⌋ = 1
    parties = {
        i: (BadOpener if i == 3 else EcdsaPresign)(cluster.key(i, 0), SIGNERS, 0, "x")
        for i in SIGNERS
    }
    router = InMemoryRouter(parties)
    router.run()
    assert not router.results()
    assert all(f.culprits == (3,) for f in router.failures.values())


def test_inconsistent_opening_aborts_when_not_locatable(make_cluster) -> None:
    cluster = make_cluster(3, 2, curves=("secp256k1",))  # t = 1: cannot locate
    parties = {
        i: (BadOpener if i == 1 else EcdsaPresign)(cluster.key(i, 0), [0, 1, 2], 0, "x")
        for i in range(3)
    }
    router = InMemoryRouter(parties)
    router.run()
    assert not router.results() and len(router.failures) == 3
    assert all("cannot be located" in str(f) for f in router.failures.values())


def test_presign_state_restores(cluster) -> None:
    parties = {i: EcdsaPresign(cluster.key(i, 0), SIGNERS, 0, "restore") for i in SIGNERS}
    router = InMemoryRouter(parties)
    router.start()
    for _ in range(12):
        router.step()
    router.parties[2] = EcdsaPresign.from_state(parties[2].to_state())
    while router.step():
        pass
    results = router.results()
    assert len({p.big_r for p in results.values()}) == 1 and len(results) == 5


def _theft(cluster, request_for):
    """A requester who knows R crafts h₁ for its own account so that the signature is also
    valid for the victim's payload h₂ under the victim's key (h₁ = h₂ + r̂(ε₂ − ε₁))."""
    presignature = cluster.presign(0, SIGNERS, 0, "theft")
    victim = request_for("victim", account="victim.near", path="vault", payload=b"\x42" * 32)
    eps1 = kdf.secp256k1_tweak_scalar(kdf.tweak("mallory.near", "x"))
    eps2 = kdf.secp256k1_tweak_scalar(victim.tweak)
    # the attacker's best prediction of R̂: R + δ·G with the δ the protocol would use if it
    # were predictable (here: the ablated protocol's constant δ = 1)
    predicted = SECP256K1.add(SECP256K1.decode(presignature.big_r), SECP256K1.base_mul(1))
    r_hat = SECP256K1.x_coordinate(predicted) % SECP256K1_N
    h1 = (int.from_bytes(victim.payload, "big") + r_hat * (eps2 - eps1)) % SECP256K1_N
    own = request_for("own", account="mallory.near", path="x", payload=h1.to_bytes(32, "big"))
    signature = cluster.ecdsa_sign(0, own, presignature)
    verify_signature(derived(cluster, "mallory.near", "x"), own.payload, signature)
    return signature, victim


def test_related_payload_theft_fails_because_of_delta(cluster, request_for) -> None:
    signature, victim = _theft(cluster, request_for)
    with pytest.raises(SignatureVerificationError):
        verify_signature(derived(cluster, "victim.near", "vault"), victim.payload, signature)


def test_related_payload_theft_works_without_delta(cluster, request_for, monkeypatch) -> None:
    """The ablation: with a predictable δ the attack of §4 succeeds — so the test above can fail."""
    monkeypatch.setattr(ecdsa, "derive_delta", lambda *args: 1)
    signature, victim = _theft(cluster, request_for)
    verify_signature(derived(cluster, "victim.near", "vault"), victim.payload, signature)
