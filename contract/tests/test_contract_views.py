"""Views: keys as NEAR strings, derived keys, versions, state and config shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chainsig_core.kdf import derive_public_key
from chainsig_core.keys import Curve
from chainsig_core.signers.dev import dev_root_public_key

REFERENCE = Path(__file__).parents[1] / "chainsig_contract" / "reference"


def test_public_key_is_a_near_string(running):
    assert running.view("public_key") == dev_root_public_key(Curve.SECP256K1).to_near_string()
    assert running.view("public_key", {"domain_id": 1}) == dev_root_public_key(Curve.ED25519).to_near_string()
    assert running.view("public_key", {"domain_id": None}) == running.view("public_key")


def test_public_key_of_unknown_domain(running, panics):
    assert panics(running.view, "public_key", {"domain_id": 5}) == "The provided domain was not found."


@pytest.mark.parametrize("domain_id,curve", [(0, Curve.SECP256K1), (1, Curve.ED25519)])
def test_derived_public_key_matches_core_kdf(running, domain_id, curve):
    expected = derive_public_key(dev_root_public_key(curve), "alice.test", "ethereum-1")
    assert running.view("derived_public_key", {"path": "ethereum-1", "predecessor": "alice.test",
                                               "domain_id": domain_id}) == expected.to_near_string()


def test_derived_public_key_needs_a_predecessor_in_a_view(running, panics):
    assert "predecessor_account_id" in panics(running.view, "derived_public_key", {"path": "x"})


def test_derived_public_key_known_answers(vectors):
    """With NEAR's real root keys the contract derives exactly the published child keys."""
    from chainsig_contract.contract import SignerContract, ViewEnv

    from chainsig_core.keys import PublicKey

    data = vectors("derivation.json")
    checked = 0
    for network, roots in data["root_public_keys"].items():
        contract = SignerContract({"protocol": {"Running": {
            "domains": {"domains": [{"id": 0, "curve": "Secp256k1", "protocol": "DamgardEtAl",
                                     "reconstruction_threshold": 2, "purpose": "Sign"},
                                    {"id": 1, "curve": "Edwards25519", "protocol": "Frost",
                                     "reconstruction_threshold": 2, "purpose": "Sign"}], "next_domain_id": 2},
            "keyset": {"epoch_id": 0, "domains": [
                {"domain_id": 0, "key": {"Secp256k1": {"near_public_key": roots["domain_0_secp256k1"]}}, "attempt": 0},
                {"domain_id": 1, "key": {"Ed25519": {"near_public_key_compressed": roots["domain_1_ed25519"],
                                                     "edwards_point": []}}, "attempt": 0}]},
            "parameters": {}, "parameters_votes": {}, "add_domains_votes": {}}}, "config": {}, "pending": {}})
        for case in (c for c in data["derived"] if c["network"] == network):
            env = ViewEnv("v1.signer", 1)
            args = {"path": case["path"], "predecessor": case["account"]}
            secp = contract.view("derived_public_key", json.dumps(dict(args, domain_id=0)).encode(), env)
            assert PublicKey.from_near_string(secp).uncompressed.hex() == case["secp256k1_uncompressed"]
            ed = contract.view("derived_public_key", json.dumps(dict(args, domain_id=1)).encode(), env)
            assert ed == case["ed25519_public_key"]
            checked += 1
    assert checked == len(data["derived"])


def test_latest_key_version(running, panics):
    assert running.view("latest_key_version") == 0
    assert running.view("latest_key_version", {"signature_scheme": "Edwards25519"}) == 1
    assert panics(running.view, "latest_key_version", {"signature_scheme": "Bls12381"}) == "No such domain."


def test_version_and_config(running):
    assert running.view("version") == "3.14.0"
    schema = json.loads((REFERENCE / "v1-signer-abi-subset.json").read_text())["definitions"]["Config"]
    assert set(running.view("config")) == set(schema["required"])


def test_state_has_the_live_contract_shape(running):
    state = running.view("state")
    live = json.loads((REFERENCE / "mainnet-contract-state.json").read_text())
    assert set(state) == set(live) == {"Running"}
    assert set(live["Running"]) <= set(state["Running"])
    assert set(live["Running"]["domains"]["domains"][0]) == set(state["Running"]["domains"]["domains"][0])
    assert set(live["Running"]["keyset"]["domains"][1]["key"]["Ed25519"]) == set(
        state["Running"]["keyset"]["domains"][1]["key"]["Ed25519"])
    entry = state["Running"]["parameters"]["participants"]["participants"][0]
    assert entry[0] == "node0.test" and entry[1] == 0 and entry[2]["tls_public_key"].startswith("ed25519:")


def test_views_before_init(harness, panics):
    assert panics(harness.view, "state") == "The contract is not initialized"
    assert harness.view("version") == "3.14.0"


def test_calls_are_prohibited_in_views(running, panics):
    assert "ProhibitedInView" in panics(running.view, "sign", {})
    assert panics(running.view, "nope", {}) == "MethodNotFound"


def test_get_pending_request_of_nothing(running):
    request = {"domain_id": 0, "payload": {"Ecdsa": "11" * 32}, "tweak": [0] * 32}
    assert running.view("get_pending_request", {"request": request}) is None
