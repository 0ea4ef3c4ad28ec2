"""Serialized state round-trips (key shares, presignatures, nonces); bad state is refused."""

from __future__ import annotations

import json

import pytest
from chainsig_mpc.protocols.dkg import Dkg
from chainsig_mpc.protocols.errors import StateError
from chainsig_mpc.protocols.frost_session import FrostNonce
from chainsig_mpc.protocols.keyshare import KeyShare
from chainsig_mpc.protocols.presign import Presignature


def test_key_share_and_presignature_roundtrip(make_cluster) -> None:
    cluster = make_cluster(3, 2)
    for domain in (0, 1):
        share = cluster.key(1, domain)
        assert KeyShare.from_json(json.loads(json.dumps(share.to_json()))) == share
    presignature = cluster.presign(0, [0, 1, 2], 1, "s")
    assert Presignature.from_json(json.loads(json.dumps(presignature.to_json()))) == presignature
    cluster.frost_precommit(1, 0, (0, 2))
    nonce = next(iter(cluster.nodes[2].nonces))
    assert FrostNonce.from_json(json.loads(json.dumps(nonce.to_json()))) == nonce


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("share"),
        lambda d: d.update(share="zz"),
        lambda d: d.update(commitment=["02" + "00" * 32]),
        lambda d: d.update(curve="p256"),
    ],
)
def test_malformed_key_share_refused(make_cluster, mutate) -> None:
    data = make_cluster(3, 2, curves=("secp256k1",)).key(0, 0).to_json()
    mutate(data)
    with pytest.raises(StateError):
        KeyShare.from_json(data)


def test_malformed_protocol_state_refused() -> None:
    party = Dkg("ed25519", 1, 0, [0, 1, 2], 2, 0)
    party.start()
    state = json.loads(party.to_state())
    with pytest.raises(StateError):
        Dkg.from_state(b"not json")
    state["protocol"] = "reshare"
    with pytest.raises(StateError):
        Dkg.from_state(json.dumps(state).encode())
