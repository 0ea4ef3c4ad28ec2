"""Hostile input never crashes the host: every bad request gets one JSON-RPC error."""

from __future__ import annotations

import base64

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainsig_contract.rpc.server import MAX_BODY_BYTES


def post(host, body, **kw):
    return httpx.post(host.url, content=body, headers={"content-type": "application/json"}, timeout=10, **kw)


def assert_alive(host):
    assert host.client().rpc("status", [])["chain_id"] == "devnet"


@pytest.mark.parametrize("body,cause", [
    (b"{not json", "PARSE_ERROR"),
    (b"\xff\xfe", "PARSE_ERROR"),
    (b"[]", "PARSE_ERROR"),
    (b'[{"jsonrpc":"2.0","id":1,"method":"status","params":[]}]', "PARSE_ERROR"),
    (b'{"jsonrpc":"2.0","id":1}', "PARSE_ERROR"),
    (b'{"jsonrpc":"2.0","id":1,"method":"no_such_method","params":[]}', "METHOD_NOT_FOUND"),
    (b'{"jsonrpc":"2.0","id":1,"method":7,"params":[]}', "PARSE_ERROR"),
])
def test_malformed_requests(live_host, body, cause):
    response = post(live_host, body)
    error = response.json()["error"]
    assert error["cause"]["name"] == cause and response.status_code == 400
    assert_alive(live_host)


def test_oversized_body(live_host):
    response = post(live_host, b"{" + b" " * (MAX_BODY_BYTES + 10) + b"}")
    assert response.status_code == 413
    assert response.json()["error"]["name"] == "REQUEST_VALIDATION_ERROR"
    assert_alive(live_host)


@pytest.mark.parametrize("method,params", [
    ("send_tx", {"signed_tx_base64": "!!not base64!!"}),
    ("send_tx", {"signed_tx_base64": base64.b64encode(b"\x05\x00\x00\x00hello").decode()}),
    ("send_tx", {"signed_tx_base64": base64.b64encode(b"\x01" * 40).decode()}),
    ("send_tx", {"signed_tx_base64": ""}),
    ("broadcast_tx_async", [base64.b64encode(b"\xff" * 3000).decode()]),
    ("broadcast_tx_commit", ["AAAA"]),
    ("send_tx", []),
    ("send_tx", {"signed_tx_base64": 5}),
    ("block", {"block_id": {"x": 1}}),
    ("block", "final"),
    ("block", {"finality": "soon"}),
    ("chunk", {"chunk_id": 5}),
    ("chunk", {"block_id": 1, "shard_id": 3}),
    ("query", {"request_type": "call_function", "finality": "final", "account_id": "v1.signer.devnet",
               "method_name": "state", "args_base64": "%%%"}),
    ("query", {"request_type": "view_everything", "finality": "final", "account_id": "alice.devnet"}),
    ("query", {"request_type": "view_account", "finality": "final"}),
    ("query", None),
    ("tx", {"tx_hash": "not-base58!", "sender_account_id": "a"}),
    ("tx", {"tx_hash": "11111111111111111111111111111111", "wait_until": "WHENEVER"}),
    ("EXPERIMENTAL_tx_status", 42),
    ("EXPERIMENTAL_receipt", {"receipt_id": ["x"]}),
    ("gas_price", {"block_id": "nope"}),
])
def test_bad_params_get_an_error(live_host, method, params):
    response = httpx.post(live_host.url, json={"jsonrpc": "2.0", "id": "x", "method": method, "params": params})
    body = response.json()
    assert "error" in body and body["error"]["name"] in ("REQUEST_VALIDATION_ERROR", "HANDLER_ERROR")
    assert body["error"]["cause"]["name"] != "INTERNAL_ERROR"
    assert_alive(live_host)


def test_contract_calls_with_hostile_arguments(live_host):
    near = live_host.client()
    for method, args in [("derived_public_key", {"path": "x", "predecessor": "BAD ID"}),
                         ("get_pending_request", {"request": {"domain_id": -1}}),
                         ("public_key", {"domain_id": 2**70}),
                         ("latest_key_version", {"signature_scheme": []})]:
        response = httpx.post(live_host.url, json={"jsonrpc": "2.0", "id": 1, "method": "query", "params": {
            "request_type": "call_function", "finality": "optimistic", "account_id": live_host.contract_id,
            "method_name": method, "args_base64": base64.b64encode(str(args).encode()).decode()}})
        assert response.json()["error"]["cause"]["name"] == "CONTRACT_EXECUTION_ERROR"
    assert near.view(live_host.contract_id, "version") == "3.14.0"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400))
def test_random_transaction_bytes(live_host, raw):
    response = httpx.post(live_host.url, json={"jsonrpc": "2.0", "id": 1, "method": "broadcast_tx_async",
                                               "params": [base64.b64encode(raw).decode()]})
    error = response.json()["error"]
    assert error["cause"]["name"] in ("PARSE_ERROR", "INVALID_TRANSACTION")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12),
       st.sampled_from(["block", "chunk", "query", "send_tx", "tx", "EXPERIMENTAL_tx_status", "gas_price",
                        "broadcast_tx_async", "broadcast_tx_commit", "status", "EXPERIMENTAL_receipt"]))
def test_random_params_never_crash(live_host, params, method):
    response = httpx.post(live_host.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params},
                          timeout=15)
    body = response.json()
    assert "result" in body or body["error"]["cause"]["name"] != "INTERNAL_ERROR"
