"""FROST(Ed25519, SHA-512): RFC 9591 known answers, tweak, share checks, nonce rules."""

from __future__ import annotations

import dataclasses

import pytest
from chainsig_mpc.protocols import frost
from chainsig_mpc.protocols.errors import MessageError, ProtocolAbort, SigningRefusedError
from chainsig_mpc.protocols.frost_session import FrostCoordinator, FrostNonce
from chainsig_mpc.protocols.groups import ED25519
from chainsig_mpc.protocols.pools import Pool
from chainsig_mpc.protocols.storage import SqliteConsumptionLog
from nacl.signing import VerifyKey

from chainsig_core import kdf


def test_rfc9591_vector_exactly(vectors) -> None:
    v = vectors("rfc9591-frost-ed25519-sha512.json")
    group_key = bytes.fromhex(v["inputs"]["group_public_key"])
    message = bytes.fromhex(v["inputs"]["message"])
    secret = int.from_bytes(bytes.fromhex(v["inputs"]["group_secret_key"]), "little")
    assert ED25519.encode(ED25519.base_mul(secret)) == group_key
    shares = {
        s["identifier"]: int.from_bytes(bytes.fromhex(s["participant_share"]), "little")
        for s in v["inputs"]["participant_shares"]
    }
    coeff = int.from_bytes(bytes.fromhex(v["inputs"]["share_polynomial_coefficients"][0]), "little")
    for ident, share in shares.items():  # identifiers are the evaluation points id + 1
        assert share == (secret + coeff * ident) % frost.L
    commitments, nonces = [], {}
    for out in v["round_one_outputs"]["outputs"]:
        ident = out["identifier"]
        d = frost.nonce_generate(shares[ident], bytes.fromhex(out["hiding_nonce_randomness"]))
        e = frost.nonce_generate(shares[ident], bytes.fromhex(out["binding_nonce_randomness"]))
        assert frost.scalar_bytes(d).hex() == out["hiding_nonce"]
        assert frost.scalar_bytes(e).hex() == out["binding_nonce"]
        c = frost.Commitment(ident, ED25519.base_mul(d), ED25519.base_mul(e))
        assert c.hiding.hex() == out["hiding_nonce_commitment"]
        assert c.binding.hex() == out["binding_nonce_commitment"]
        commitments.append(c)
        nonces[ident] = (d, e)
    factors = frost.compute_binding_factors(group_key, commitments, message)
    for out in v["round_one_outputs"]["outputs"]:
        ident = out["identifier"]
        assert (
            frost.binding_factor_input(group_key, commitments, message, ident).hex()
            == out["binding_factor_input"]
        )
        assert frost.scalar_bytes(factors[ident]).hex() == out["binding_factor"]
    z = []
    for out in v["round_two_outputs"]["outputs"]:
        ident = out["identifier"]
        share = frost.sign_share(
            ident, shares[ident], *nonces[ident], message, commitments, group_key
        )
        assert frost.scalar_bytes(share).hex() == out["sig_share"]
        assert frost.verify_share(
            ident, share, ED25519.base_mul(shares[ident]), message, commitments, group_key
        )
        z.append(share)
    signature = frost.aggregate(commitments, z, message, group_key)
    assert signature.hex() == v["final_output"]["sig"]
    VerifyKey(group_key).verify(message, signature)


@pytest.fixture
def cluster(make_cluster):
    return make_cluster(5, 3, curves=("ed25519",))


SET = (0, 2, 3)


def test_tweaked_signature_verifies_with_pynacl(cluster, request_for) -> None:
    cluster.frost_precommit(1, 2, SET)
    request = request_for("r", account="bob.near", path="solana-1", payload=b"pay 5 lamports")
    signature = cluster.frost_sign(1, request, 2, SET)
    key = kdf.derive_public_key(cluster.key(0, 1).public_key, "bob.near", "solana-1")
    VerifyKey(key.data).verify(request.payload, signature.signature)
    assert all(cluster.nodes[n].nonces.count(_key(cluster, 2)) == 0 for n in SET)  # single use


def _key(cluster, owner):
    from chainsig_mpc.protocols.pools import PoolKey

    k = cluster.key(owner, 1)
    return PoolKey(1, k.epoch, owner, SET)


def _run_with_corruption(cluster, request_for, corrupt: set[int]):
    cluster.frost_precommit(1, 0, SET)
    cluster.requests["r"] = request = request_for("r", payload=b"m")
    coordinator = FrostCoordinator(cluster.frost_signer(0, 1), cluster.nodes[0].commitments)
    outputs = []
    for package in coordinator.start("r", SET):
        share = cluster.frost_signer(package.recipient, 1).handle_package(package)
        if package.recipient in corrupt:
            z = int.from_bytes(bytes.fromhex(share.body["z"]), "little")
            share = dataclasses.replace(share, body={"z": frost.scalar_bytes(z + 1).hex()})
        outputs.append(coordinator.receive(share.encode()))
    return outputs, request


@pytest.mark.parametrize("corrupt", [{2}, {2, 3}], ids=["one-culprit", "two-culprits"])
def test_corrupted_shares_named(cluster, request_for, corrupt) -> None:
    with pytest.raises(ProtocolAbort) as info:
        _run_with_corruption(cluster, request_for, corrupt)
    assert set(info.value.culprits) == corrupt


def test_nonce_reuse_refused_also_after_restore(cluster, request_for, tmp_path) -> None:
    node = cluster.nodes[3]
    node.consumed = SqliteConsumptionLog(tmp_path / "n3.db")
    cluster.frost_precommit(1, 0, SET)
    snapshot = node.nonces.to_json()
    cluster.requests["r"] = request_for("r", payload=b"first")
    coordinator = FrostCoordinator(cluster.frost_signer(0, 1), cluster.nodes[0].commitments)
    packages = {p.recipient: p for p in coordinator.start("r", SET)}
    cluster.frost_signer(3, 1).handle_package(packages[3])
    with pytest.raises(SigningRefusedError, match="already used"):
        cluster.frost_signer(3, 1).handle_package(packages[3])
    node.consumed.close()
    node.nonces = Pool(FrostNonce.from_json)
    node.nonces.load_json(snapshot)  # the nonce is back in the (stale) pool after a restart
    node.consumed = SqliteConsumptionLog(tmp_path / "n3.db")
    with pytest.raises(SigningRefusedError, match="already used"):
        cluster.frost_signer(3, 1).handle_package(packages[3])


def test_nonce_bound_to_signer_set_and_owner(cluster, request_for) -> None:
    cluster.frost_precommit(1, 0, SET)
    cluster.requests["r"] = request_for("r", payload=b"x")
    coordinator = FrostCoordinator(cluster.frost_signer(0, 1), cluster.nodes[0].commitments)
    package = next(p for p in coordinator.start("r", SET) if p.recipient == 2)
    signer = cluster.frost_signer(2, 1)
    # the same commitments re-sent as a package for another set (4 added with a fresh nonce)
    other = cluster.frost_signer(4, 1).precommit(0, (0, 2, 3, 4))
    body = dict(package.body)
    body["signers"] = [0, 2, 3, 4]
    body["commitments"] = {
        **body["commitments"],
        "4": {
            "nonce": other.body["nonce"],
            "hiding": other.body["hiding"],
            "binding": other.body["binding"],
        },
    }
    from chainsig_mpc.protocols.frost_session import package_sid, parse_package

    _, signers, _, ids = parse_package(body)
    forged = dataclasses.replace(
        package, body=body, sid=package_sid(cluster.key(0, 1), 0, "r", signers, ids)
    )
    with pytest.raises(SigningRefusedError, match="signer set differs"):
        signer.handle_package(forged)
    stolen = dataclasses.replace(
        package,
        sender=4,
        sid=package_sid(cluster.key(0, 1), 4, "r", SET, parse_package(package.body)[3]),
    )
    with pytest.raises(SigningRefusedError, match="not bound to the requesting coordinator"):
        signer.handle_package(stolen)
    signer.handle_package(package)  # the genuine package still works


def test_small_order_commitment_in_package_refused(cluster, request_for) -> None:
    cluster.frost_precommit(1, 0, SET)
    cluster.requests["r"] = request_for("r", payload=b"x")
    coordinator = FrostCoordinator(cluster.frost_signer(0, 1), cluster.nodes[0].commitments)
    package = next(p for p in coordinator.start("r", SET) if p.recipient == 3)
    body = {**package.body, "commitments": {**package.body["commitments"]}}
    body["commitments"]["2"] = {
        **body["commitments"]["2"],
        "binding": "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    }
    with pytest.raises(MessageError):
        cluster.frost_signer(3, 1).handle_package(dataclasses.replace(package, body=body))


def test_commitment_from_non_participant_refused(cluster) -> None:
    message = cluster.frost_signer(3, 1).precommit(0, SET)
    coordinator = FrostCoordinator(cluster.frost_signer(0, 1), cluster.nodes[0].commitments)
    with pytest.raises(MessageError, match="non-participant 9"):
        coordinator.add_commitment(dataclasses.replace(message, sender=9))


def test_too_few_signers_refused(cluster) -> None:
    with pytest.raises(SigningRefusedError, match="at least K"):
        cluster.frost_signer(0, 1).precommit(0, (0, 1))


def test_coordinator_bounds_and_validates_pooled_commitments(cluster, monkeypatch) -> None:
    from chainsig_mpc.protocols import frost_session

    coordinator = FrostCoordinator(cluster.frost_signer(0, 1), cluster.nodes[0].commitments)
    message = cluster.frost_signer(3, 1).precommit(0, SET)
    coordinator.add_commitment(message)
    with pytest.raises(MessageError, match="duplicate"):
        coordinator.add_commitment(message)
    monkeypatch.setattr(frost_session, "MAX_POOLED_PER_SIGNER", 1)
    with pytest.raises(MessageError, match="already has 1 pooled"):
        coordinator.add_commitment(cluster.frost_signer(3, 1).precommit(0, SET))
    too_small = dataclasses.replace(message, body={**message.body, "signers": [0, 3]})
    too_small = dataclasses.replace(
        too_small,
        sid=frost_session.session_id("frost-commit", domain=1, epoch=0, owner=0, signers=[0, 3]),
    )
    with pytest.raises(MessageError, match="invalid signer set"):
        coordinator.add_commitment(too_small)
