"""sign: argument forms, deposit and gas, payload rules, domains, fan-out, yield callback."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainsig_contract.contract.requests import MAX_PENDING_REQUEST_FAN_OUT
from chainsig_core import kdf
from chainsig_core.keys import SECP256K1_N

PAYLOAD = "2a" * 32


def sign_args(**request):
    base = {"path": "p", "payload_v2": {"Ecdsa": PAYLOAD}, "domain_id": 0}
    base.update(request)
    return {"request": {k: v for k, v in base.items() if v is not None}}


def test_sign_yields_and_stores_the_request(running):
    result = running.call("sign", sign_args(), "alice.test", deposit=1)
    assert len(result.yields) == 1 and not result.transfers
    request = {"domain_id": 0, "payload": {"Ecdsa": PAYLOAD}, "tweak": list(kdf.tweak("alice.test", "p"))}
    assert running.view("get_pending_request", {"request": request}) == {"data_id": list(result.yields[0])}
    assert running.yields[result.yields[0].hex()]["method"] == "return_signature_and_clean_state_on_success"
    assert result.logs and result.logs[0].startswith("sign: predecessor='alice.test'")


def test_excess_deposit_is_refunded(running):
    result = running.call("sign", sign_args(), "alice.test", deposit=10**24)
    assert result.transfers == [("alice.test", 10**24 - 1)]


def test_deposit_below_one_yocto_is_refused(running, panics):
    assert panics(running.call, "sign", sign_args(), "alice.test", deposit=0) == (
        "Attached deposit is lower than required. Attached: 0, required: 1")


def test_gas_below_requirement_is_refused(running, panics):
    message = panics(running.call, "sign", sign_args(), "alice.test", deposit=1, gas=10**12)
    assert message == f"Provided gas is lower than required. Provided: {10**12}, required: {15 * 10**12}"


def test_legacy_payload_and_key_version(running):
    legacy = {"request": {"path": "p", "payload": [0x2A] * 32, "key_version": 0}}
    first = running.call("sign", legacy, "alice.test", deposit=1)
    second = running.call("sign", sign_args(), "alice.test", deposit=1)
    assert len(running.contract.pending()) == 1  # the same request: fan-out, one key
    assert first.yields != second.yields


@pytest.mark.parametrize("request_", [
    {"path": "p", "payload": [1] * 32, "payload_v2": {"Ecdsa": PAYLOAD}},
    {"path": "p", "payload_v2": {"Ecdsa": PAYLOAD}, "domain_id": 0, "key_version": 0},
    {"path": "p"},
    {"payload_v2": {"Ecdsa": PAYLOAD}},
    {"path": 5, "payload_v2": {"Ecdsa": PAYLOAD}},
    {"path": "p", "payload_v2": {"Ecdsa": "zz" * 32}},
    {"path": "p", "payload_v2": {"Ecdsa": "2a" * 31}},
    {"path": "p", "payload_v2": {"Other": PAYLOAD}},
    {"path": "p", "payload": [256] * 32},
    {"path": "p", "payload_v2": {"Ecdsa": PAYLOAD}, "extra": 1},
])
def test_malformed_arguments_fail_to_deserialize(running, panics, request_):
    assert panics(running.call, "sign", {"request": request_}, "alice.test", deposit=1).startswith(
        "Failed to deserialize input from JSON.")


def test_arguments_that_are_not_json(running, panics):
    message = panics(running.contract.call, "sign", b"\xff{", running.env("alice.test", deposit=1))
    assert message.startswith("Failed to deserialize input from JSON.")


@pytest.mark.parametrize("payload,reason", [
    ("00" * 32, "must not be zero"),
    (f"{SECP256K1_N:064x}", "smaller than the secp256k1 order"),
    ("ff" * 32, "smaller than the secp256k1 order"),
])
def test_ecdsa_payload_rules(running, panics, payload, reason):
    message = panics(running.call, "sign", sign_args(payload_v2={"Ecdsa": payload}), "alice.test", deposit=1)
    assert message.startswith("Malformed payload: ") and reason in message


def test_eddsa_payload_up_to_1232_bytes(running, panics):
    ok = running.call("sign", sign_args(payload_v2={"Eddsa": "ab" * 1232}, domain_id=1), "alice.test", deposit=1)
    assert ok.yields
    empty = running.call("sign", sign_args(payload_v2={"Eddsa": ""}, domain_id=1), "alice.test", deposit=1)
    assert empty.yields
    assert "1232" in panics(running.call, "sign", sign_args(payload_v2={"Eddsa": "ab" * 1233}, domain_id=1),
                            "alice.test", deposit=1)


def test_payload_kind_must_match_the_domain(running, panics):
    assert panics(running.call, "sign", sign_args(domain_id=1), "alice.test", deposit=1).startswith(
        "Malformed payload: this domain signs Eddsa payloads")
    assert panics(running.call, "sign", sign_args(payload_v2={"Eddsa": "ab"}), "alice.test",
                  deposit=1).startswith("Malformed payload: this domain signs Ecdsa payloads")


def test_unknown_domain(running, panics):
    assert panics(running.call, "sign", sign_args(domain_id=7), "alice.test", deposit=1) == (
        "The provided domain ID, 7, was not found.")


def test_wrong_purpose(harness, panics):
    harness.init_running(domains=[{"id": 0, "protocol": "DamgardEtAl", "reconstruction_threshold": 2,
                                   "purpose": "ForeignTx"}])
    assert panics(harness.call, "sign", sign_args(), "alice.test", deposit=1) == (
        "Domain 0 has purpose ForeignTx, but this method requires Sign.")


def test_sign_needs_an_initialized_running_contract(harness, panics):
    assert panics(harness.call, "sign", sign_args(), "alice.test", deposit=1) == "The contract is not initialized"


def test_fan_out_is_capped_at_128(running, panics):
    for _ in range(MAX_PENDING_REQUEST_FAN_OUT):
        running.call("sign", sign_args(), "alice.test", deposit=1)
    message = panics(running.call, "sign", sign_args(), "alice.test", deposit=1)
    assert message.startswith("Pending-request queue is full for this request key (limit: 128).")
    # another path is another request key
    assert running.call("sign", sign_args(path="q"), "alice.test", deposit=1).yields


def test_non_payable_methods_refuse_deposit(running, panics):
    assert panics(running.call, "vote_add_domains", {"domains": []}, "node0.test", deposit=1) == (
        "Method vote_add_domains doesn't accept deposit")


def test_unknown_method(running, panics):
    assert panics(running.call, "steal", {}, "alice.test") == "MethodNotFound"


def test_callback_returns_the_resumed_signature(running):
    body = json.dumps({"scheme": "Ed25519", "signature": [1] * 64}).encode()
    result = running.call("return_signature_and_clean_state_on_success", {"request": {}},
                          "v1.signer.test", promise_result=body)
    assert result.value == {"scheme": "Ed25519", "signature": [1] * 64}


def test_callback_on_timeout_pops_the_oldest_yield_and_fails(running, panics):
    first = running.call("sign", sign_args(), "alice.test", deposit=1).yields[0]
    second = running.call("sign", sign_args(), "alice.test", deposit=1).yields[0]
    request = {"domain_id": 0, "payload": {"Ecdsa": PAYLOAD}, "tweak": list(kdf.tweak("alice.test", "p"))}
    result = running.call("return_signature_and_clean_state_on_success", {"request": request}, "v1.signer.test")
    assert result.self_calls == [("fail_on_timeout", {})]
    assert running.view("get_pending_request", {"request": request}) == {"data_id": list(second)}
    assert first != second
    assert panics(running.call, "fail_on_timeout", {}, "v1.signer.test") == "Request has timed out."


def test_private_methods(running, panics):
    assert panics(running.call, "fail_on_timeout", {}, "alice.test") == "Method fail_on_timeout is private"
    assert panics(running.call, "return_signature_and_clean_state_on_success", {"request": {}},
                  "alice.test") == "Method return_signature_and_clean_state_on_success is private"


def test_a_failed_call_leaves_the_state_unchanged(running, panics):
    before = json.dumps(running.contract.state, sort_keys=True)
    panics(running.call, "sign", sign_args(payload_v2={"Ecdsa": "00" * 32}), "alice.test", deposit=1)
    assert json.dumps(running.contract.state, sort_keys=True) == before


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=64).map(lambda b: b.hex()), st.text(max_size=30))
def test_random_payloads_never_crash(harness_class, payload_hex, path):
    from chainsig_contract.contract import ContractPanic

    h = harness_class()
    h.init_running()
    for kind, domain in (("Ecdsa", 0), ("Eddsa", 1)):
        try:
            h.call("sign", {"request": {"path": path, "payload_v2": {kind: payload_hex}, "domain_id": domain}},
                   "alice.test", deposit=1)
        except ContractPanic as panic:
            assert panic.message
