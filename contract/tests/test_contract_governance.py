"""Governance: init, thresholds, domains and key generation, resharing, cancel and abort votes."""

from __future__ import annotations

import copy

import pytest

from chainsig_contract.contract.rules import min_governance_threshold
from chainsig_core.credentials import generate_access_key
from chainsig_core.keys import Curve
from chainsig_core.signers.dev import dev_root_public_key

SECP = dev_root_public_key(Curve.SECP256K1).to_near_string()
ED = dev_root_public_key(Curve.ED25519).to_near_string()


@pytest.fixture
def make_params():
    def build(n, threshold, start=0):
        return {"participants": {"next_id": start + n, "participants": [
            [f"node{i}.test", i, {"url": f"https://node{i}.test",
                                  "tls_public_key": generate_access_key(f"node{i}.test").public_key.to_near_string()}]
            for i in range(start, start + n)]}, "threshold": threshold}
    return build


@pytest.mark.parametrize("n,expected", [(1, 2), (2, 2), (3, 2), (4, 3), (5, 3), (7, 5), (10, 6)])
def test_governance_threshold_rule(n, expected):
    assert min_governance_threshold(n) == expected


@pytest.mark.parametrize("n,threshold,message", [
    (5, 1, "Threshold does not meet the minimum absolute requirement"),
    (5, 2, "Threshold does not meet the minimum relative requirement: require at least 3, found 2"),
    (3, 4, "Threshold must not exceed number of participants: max 3, found 4"),
])
def test_init_threshold_errors(harness, panics, make_params, n, threshold, message):
    assert panics(harness.call, "init", {"parameters": make_params(n, threshold)}, "v1.signer.test") == message


def test_init_then_running_without_domains(harness, panics, make_params):
    harness.call("init", {"parameters": make_params(3, 2), "init_config": {"key_event_timeout_blocks": 50}},
                 "v1.signer.test")
    state = harness.view("state")["Running"]
    assert state["domains"] == {"domains": [], "next_domain_id": 0}
    assert harness.view("config")["key_event_timeout_blocks"] == 50
    assert panics(harness.call, "init", {"parameters": make_params(3, 2)}, "v1.signer.test") == (
        "The contract has already been initialized")


def test_init_running_is_private(harness, panics, make_params):
    assert panics(harness.call, "init_running", {}, "alice.test") == "Method init_running is private"


def test_init_running_keyset_must_match_domains(harness, panics, make_params):
    args = {"domains": [{"id": 0, "protocol": "DamgardEtAl", "reconstruction_threshold": 2, "purpose": "Sign"}],
            "next_domain_id": 1, "keyset": {"epoch_id": 0, "domains": [{"domain_id": 0, "key": ED, "attempt": 0}]},
            "parameters": make_params(3, 2)}
    assert panics(harness.call, "init_running", args, "v1.signer.test") == (
        "Domains from keyset do not match the provided domains")


@pytest.mark.parametrize("domain,n,message", [
    ({"protocol": "CaitSith", "reconstruction_threshold": 2}, 3, "Protocol CaitSith is not supported"),
    ({"protocol": "DamgardEtAl", "reconstruction_threshold": 1}, 3, "Reconstruction threshold must be at least 2."),
    ({"protocol": "Frost", "reconstruction_threshold": 4}, 3, "Reconstruction threshold 4 exceeds participant count 3."),
    ({"protocol": "DamgardEtAl", "reconstruction_threshold": 3}, 4,
     "Protocol DamgardEtAl requires at least 5 participants, found 4."),
])
def test_domain_rules(harness, panics, make_params, domain, n, message):
    harness.call("init", {"parameters": make_params(n, min_governance_threshold(n))}, "v1.signer.test")
    proposal = [dict(domain, id=0, purpose="Sign")]
    assert panics(harness.call, "vote_add_domains", {"domains": proposal}, "node0.test").startswith(message)


def test_frost_needs_only_k_nodes(harness, make_params):
    harness.call("init", {"parameters": make_params(3, 2)}, "v1.signer.test")
    for voter in ("node0.test", "node1.test"):
        harness.call("vote_add_domains", {"domains": [
            {"id": 0, "protocol": "Frost", "reconstruction_threshold": 3, "purpose": "Sign"}]}, voter)
    assert "Initializing" in harness.view("state")


@pytest.fixture
def initialized(harness, make_params):
    harness.call("init", {"parameters": make_params(3, 2)}, "v1.signer.test")
    return harness


DOMAINS = [{"id": 0, "protocol": "DamgardEtAl", "reconstruction_threshold": 2, "purpose": "Sign"},
           {"id": 1, "protocol": "Frost", "reconstruction_threshold": 2, "purpose": "Sign"}]


def test_vote_add_domains_rules(initialized, panics):
    assert panics(initialized.call, "vote_add_domains", {"domains": DOMAINS}, "eve.test") == "Not a participant: eve.test"
    assert panics(initialized.call, "vote_add_domains", {"domains": []}, "node0.test") == (
        "vote_add_domains must add at least one domain")
    assert panics(initialized.call, "vote_add_domains", {"domains": [dict(DOMAINS[0], id=3)]}, "node0.test") == (
        "Newly proposed domain IDs are not contiguous. Expected id: 0")
    assert panics(initialized.call, "vote_add_domains", {"domains": DOMAINS}, "node0.test",
                  signer="node1.test") == "Caller is not the signer account."


def keygen(h, n=3):
    """Drive Initializing → Running for every pending domain with the dev keys."""
    while "Initializing" in h.view("state"):
        event = h.view("state")["Initializing"]["generating_key"]
        key_event_id = {"epoch_id": event["epoch_id"], "domain_id": event["domain"]["id"],
                        "attempt_id": event["next_attempt_id"]}
        h.call("start_keygen_instance", {"key_event_id": key_event_id}, "node0.test")
        key = SECP if event["domain"]["curve"] == "Secp256k1" else ED
        for i in range(n):
            h.call("vote_pk", {"key_event_id": key_event_id, "public_key": key}, f"node{i}.test")


def test_add_domains_then_keygen_to_running(initialized):
    initialized.call("vote_add_domains", {"domains": DOMAINS}, "node0.test")
    assert "Running" in initialized.view("state")  # one vote is below the threshold
    initialized.call("vote_add_domains", {"domains": DOMAINS}, "node2.test")
    state = initialized.view("state")["Initializing"]
    assert state["generating_key"]["domain"]["id"] == 0 and state["domains"]["next_domain_id"] == 2
    keygen(initialized)
    assert initialized.view("public_key", {"domain_id": 0}) == SECP
    assert initialized.view("public_key", {"domain_id": 1}) == ED


def test_keygen_rules(initialized, panics):
    for voter in ("node0.test", "node1.test"):
        initialized.call("vote_add_domains", {"domains": DOMAINS}, voter)
    kid = {"epoch_id": 0, "domain_id": 0, "attempt_id": 0}
    assert panics(initialized.call, "start_keygen_instance", {"key_event_id": kid}, "node1.test") == (
        "Voting account is not the leader of the current reshare or keygen instance.")
    assert panics(initialized.call, "start_keygen_instance", {"key_event_id": dict(kid, attempt_id=3)},
                  "node0.test") == "Key event Id mismatch"
    assert panics(initialized.call, "vote_pk", {"key_event_id": kid, "public_key": SECP}, "node1.test") == (
        "Expected ongoing reshare")
    initialized.call("start_keygen_instance", {"key_event_id": kid}, "node0.test")
    assert panics(initialized.call, "start_keygen_instance", {"key_event_id": dict(kid, attempt_id=1)},
                  "node0.test") == ("Can not start a new reshare or keygen instance while the current "
                                    "instance is still active.")
    initialized.call("vote_pk", {"key_event_id": kid, "public_key": SECP}, "node1.test")
    assert panics(initialized.call, "vote_pk", {"key_event_id": kid, "public_key": SECP}, "node1.test") == (
        "Vote already casted.")
    # a disagreeing key aborts the attempt
    other = dev_root_public_key(Curve.SECP256K1, "other").to_near_string()
    initialized.call("vote_pk", {"key_event_id": kid, "public_key": {"Secp256k1": other}}, "node2.test")
    assert initialized.view("state")["Initializing"]["generating_key"]["instance"] is None
    # an expired attempt can be replaced
    initialized.call("start_keygen_instance", {"key_event_id": dict(kid, attempt_id=1)}, "node0.test")
    initialized.height += 1000
    assert panics(initialized.call, "vote_pk", {"key_event_id": dict(kid, attempt_id=1), "public_key": SECP},
                  "node0.test") == "Expected ongoing reshare"
    initialized.call("start_keygen_instance", {"key_event_id": dict(kid, attempt_id=2)}, "node0.test")


def test_abort_and_cancel_keygen(initialized, panics):
    for voter in ("node0.test", "node1.test"):
        initialized.call("vote_add_domains", {"domains": DOMAINS}, voter)
    kid = {"epoch_id": 0, "domain_id": 0, "attempt_id": 0}
    initialized.call("start_keygen_instance", {"key_event_id": kid}, "node0.test")
    initialized.call("vote_abort_key_event_instance", {"key_event_id": kid}, "node2.test")
    assert initialized.view("state")["Initializing"]["generating_key"]["instance"] is None
    kid1 = dict(kid, attempt_id=1)
    initialized.call("start_keygen_instance", {"key_event_id": kid1}, "node0.test")
    for i in range(3):
        initialized.call("vote_pk", {"key_event_id": kid1, "public_key": SECP}, f"node{i}.test")
    assert panics(initialized.call, "vote_cancel_keygen", {"next_domain_id": 1}, "node0.test") == (
        "Next domain ID mismatch")
    initialized.call("vote_cancel_keygen", {"next_domain_id": 2}, "node0.test")
    initialized.call("vote_cancel_keygen", {"next_domain_id": 2}, "node1.test")
    running = initialized.view("state")["Running"]
    assert [d["id"] for d in running["domains"]["domains"]] == [0]
    assert running["domains"]["next_domain_id"] == 2  # a cancelled id is never reused


@pytest.fixture
def live(running):
    return running


def new_params(h, n_new, threshold):
    old = h.view("state")["Running"]["parameters"]
    entries = copy.deepcopy(old["participants"]["participants"])
    start = old["participants"]["next_id"]
    for i in range(start, start + n_new):
        entries.append([f"node{i}.test", i, {"url": f"https://node{i}.test",
                                             "tls_public_key": generate_access_key("x.test").public_key.to_near_string()}])
    return {"parameters": {"participants": {"next_id": start + n_new, "participants": entries},
                           "threshold": threshold}, "per_domain_thresholds": {}}


def test_resharing_to_a_larger_set_keeps_the_keys(live, panics):
    proposal = new_params(live, 2, 3)  # 3 → 5 participants
    proposal["per_domain_thresholds"] = {"1": 3}
    assert panics(live.call, "vote_new_parameters", {"prospective_epoch_id": 5, "proposal": proposal},
                  "node0.test") == "Provided Epoch Id, 5, does not match expected, 1."
    assert panics(live.call, "vote_new_parameters", {"prospective_epoch_id": 1, "proposal": proposal},
                  "node3.test").startswith("Candidates can only cast a vote")
    live.call("vote_new_parameters", {"prospective_epoch_id": 1, "proposal": proposal}, "node0.test")
    live.call("vote_new_parameters", {"prospective_epoch_id": 1, "proposal": proposal}, "node1.test")
    assert "Running" in live.view("state")  # the new participants have not voted yet
    live.call("vote_new_parameters", {"prospective_epoch_id": 1, "proposal": proposal}, "node3.test")
    live.call("vote_new_parameters", {"prospective_epoch_id": 1, "proposal": proposal}, "node4.test")
    resharing = live.view("state")["Resharing"]
    assert resharing["resharing_key"]["epoch_id"] == 1
    # signing keeps working while resharing
    assert live.view("public_key") == SECP
    assert live.call("sign", {"request": {"path": "p", "payload_v2": {"Ecdsa": "11" * 32}, "domain_id": 0}},
                     "alice.test", deposit=1).yields
    for domain_id in (0, 1):
        kid = {"epoch_id": 1, "domain_id": domain_id, "attempt_id": 0}
        assert panics(live.call, "start_reshare_instance", {"key_event_id": kid}, "node1.test").startswith(
            "Voting account is not the leader")
        live.call("start_reshare_instance", {"key_event_id": kid}, "node0.test")
        assert panics(live.call, "vote_reshared", {"key_event_id": kid}, "eve.test") == "Not a participant: eve.test"
        for i in range(5):
            live.call("vote_reshared", {"key_event_id": kid}, f"node{i}.test")
    running = live.view("state")["Running"]
    assert running["keyset"]["epoch_id"] == 1
    assert len(running["parameters"]["participants"]["participants"]) == 5
    assert running["domains"]["domains"][1]["reconstruction_threshold"] == 3
    assert live.view("public_key", {"domain_id": 1}) == ED


@pytest.mark.parametrize("mutate,message", [
    ("drop_two", "Set of proposed participants must contain at least `threshold` old participants."),
    ("change_id", "Participant ID 7 is not less than next_id 4."),
    ("skip_id", "New Participant ids need to be unique and contiguous."),
    ("bad_threshold", "Threshold does not meet the minimum relative requirement"),
    ("unknown_domain", "Resharing proposal references domain ID 9"),
])
def test_candidate_set_rules(live, panics, mutate, message):
    proposal = new_params(live, 1, 3)
    entries = proposal["parameters"]["participants"]["participants"]
    if mutate == "drop_two":
        proposal = new_params(live, 0, 2)
        del proposal["parameters"]["participants"]["participants"][1:]
        proposal["parameters"]["participants"]["participants"].append(
            ["node3.test", 3, {"url": "u", "tls_public_key": ED}])
        proposal["parameters"]["participants"]["next_id"] = 4
    elif mutate == "change_id":
        entries[0][1] = 7
    elif mutate == "skip_id":
        entries[-1][1] = 4
        proposal["parameters"]["participants"]["next_id"] = 5
    elif mutate == "bad_threshold":
        proposal["parameters"]["threshold"] = 2
    else:
        proposal["per_domain_thresholds"] = {"9": 2}
    assert panics(live.call, "vote_new_parameters", {"prospective_epoch_id": 1, "proposal": proposal},
                  "node0.test").startswith(message)


def test_cancel_resharing_returns_to_running(live, panics):
    proposal = new_params(live, 1, 3)  # 3 → 4 participants
    for voter in ("node0.test", "node1.test", "node3.test"):
        live.call("vote_new_parameters", {"prospective_epoch_id": 1, "proposal": proposal}, voter)
    assert "Resharing" in live.view("state")
    assert panics(live.call, "vote_cancel_resharing", {}, "eve.test") == "Not a participant: eve.test"
    live.call("vote_cancel_resharing", {}, "node2.test")
    live.call("vote_cancel_resharing", {}, "node2.test")  # idempotent
    assert "Resharing" in live.view("state")
    live.call("vote_cancel_resharing", {}, "node0.test")
    running = live.view("state")["Running"]
    assert running["previously_cancelled_resharing_epoch_id"] == 1
    assert panics(live.call, "vote_new_parameters", {"prospective_epoch_id": 1, "proposal": proposal},
                  "node0.test") == "Provided Epoch Id, 1, does not match expected, 2."


def test_wrong_state_errors(live, panics):
    assert panics(live.call, "vote_pk", {"key_event_id": {}, "public_key": SECP}, "node0.test") == (
        "Protocol state is not initializing.")
    assert panics(live.call, "vote_reshared", {"key_event_id": {}}, "node0.test") == (
        "Protocol state is not resharing.")
    assert panics(live.call, "vote_abort_key_event_instance", {"key_event_id": {}}, "node0.test").startswith(
        "Unexpected protocol state")
