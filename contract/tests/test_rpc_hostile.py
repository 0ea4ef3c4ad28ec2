"""Hostile input never crashes the host: every bad request gets one JSON-RPC error."""

from __future__ import annotations

import base64
import functools
import json
import logging

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainsig_core.jsonlimits import MAX_JSON_CONTAINERS, MAX_JSON_DEPTH, loads_bounded, nesting_exceeds
from chainsig_contract.rpc.methods import RpcMethods
from chainsig_contract.rpc.server import MAX_BODY_BYTES


@functools.cache
def http() -> httpx.Client:
    """One HTTP client for the module (``httpx.post`` builds a client, TLS context included, per call)."""
    return httpx.Client(timeout=15)


def post(host, body, **kw):
    return http().post(host.url, content=body, headers={"content-type": "application/json"}, **kw)


def assert_alive(host):
    """The host still answers a good request."""
    response = post(host, b'{"jsonrpc":"2.0","id":"alive","method":"status","params":[]}')
    assert response.status_code == 200 and response.json()["result"]["chain_id"] == "devnet"


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
    response = http().post(live_host.url, json={"jsonrpc": "2.0", "id": "x", "method": method, "params": params})
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
        response = http().post(live_host.url, json={"jsonrpc": "2.0", "id": 1, "method": "query", "params": {
            "request_type": "call_function", "finality": "optimistic", "account_id": live_host.contract_id,
            "method_name": method, "args_base64": base64.b64encode(str(args).encode()).decode()}})
        assert response.json()["error"]["cause"]["name"] == "CONTRACT_EXECUTION_ERROR"
    assert near.view(live_host.contract_id, "version") == "3.14.0"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400))
def test_random_transaction_bytes(live_host, raw):
    response = http().post(live_host.url, json={"jsonrpc": "2.0", "id": 1, "method": "broadcast_tx_async",
                                               "params": [base64.b64encode(raw).decode()]})
    error = response.json()["error"]
    assert error["cause"]["name"] in ("PARSE_ERROR", "INVALID_TRANSACTION")


def rpc_raw(host, method, params):
    """POST one request; the body is built here (``ensure_ascii``) so lone surrogates travel."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    return post(host, body.encode())


def assert_near_error(response, cause=None):
    """A NEAR-shaped JSON-RPC error (nearcore's verror form), never a server failure."""
    assert response.status_code < 500, response.text[:300]
    body = response.json()
    assert body["jsonrpc"] == "2.0" and "result" not in body, body
    error = body["error"]
    assert set(error) >= {"name", "cause", "code", "message", "data"}, error
    assert error["name"] in ("REQUEST_VALIDATION_ERROR", "HANDLER_ERROR"), error
    assert error["cause"]["name"] != "INTERNAL_ERROR"
    if cause is not None:
        assert error["cause"]["name"] == cause, error
    return error


def host_errors(caplog):
    return [r for r in caplog.records if r.name.startswith("chainsig_contract") and r.levelno >= logging.WARNING]


BIG = 99999999999999999999999999


# (method, params, expected cause): integers out of u64 (or SQLite's) range, negatives, values of
# the wrong type where ints are expected, strings SQLite cannot encode (lone surrogates).
OUT_OF_RANGE = [
    ("block", {"block_id": BIG}, "PARSE_ERROR"),
    ("block", {"block_id": 2**64}, "PARSE_ERROR"),
    ("block", {"block_id": -1}, "PARSE_ERROR"),
    ("block", [BIG], "PARSE_ERROR"),
    ("block", {"block_id": 2**63}, "UNKNOWN_BLOCK"),       # a valid u64 height, beyond SQLite's range
    ("block", {"block_id": 2**64 - 1}, "UNKNOWN_BLOCK"),
    ("block", {"block_id": 2**63 - 1}, "UNKNOWN_BLOCK"),
    ("block", {"block_id": str(BIG)}, "PARSE_ERROR"),
    ("block", {"block_id": "\ud800"}, "PARSE_ERROR"),
    ("block", {"block_id": True}, "PARSE_ERROR"),
    ("block", {"block_id": 1.5}, "PARSE_ERROR"),
    ("block", {"finality": []}, "PARSE_ERROR"),
    ("block", {"finality": {"a": 1}}, "PARSE_ERROR"),
    ("block", {"sync_checkpoint": []}, "PARSE_ERROR"),
    ("chunk", {"block_id": BIG, "shard_id": 0}, "PARSE_ERROR"),
    ("chunk", {"block_id": 2**63, "shard_id": 0}, "UNKNOWN_BLOCK"),
    ("chunk", {"block_id": 1, "shard_id": BIG}, "PARSE_ERROR"),
    ("chunk", {"block_id": 1, "shard_id": -1}, "PARSE_ERROR"),
    ("chunk", {"block_id": 1, "shard_id": True}, "PARSE_ERROR"),
    ("chunk", {"block_id": 1, "shard_id": 2**64 - 1}, "INVALID_SHARD_ID"),
    ("chunk", {"chunk_id": "\ud800"}, "PARSE_ERROR"),
    ("chunk", {"chunk_id": "x" * 10_000}, "PARSE_ERROR"),
    ("gas_price", [BIG], "PARSE_ERROR"),
    ("gas_price", [-5], "PARSE_ERROR"),
    ("gas_price", {"block_id": 2**63}, "UNKNOWN_BLOCK"),
    ("query", {"request_type": "view_account", "block_id": BIG, "account_id": "alice.devnet"}, "PARSE_ERROR"),
    ("query", {"request_type": "view_account", "block_id": -3, "account_id": "alice.devnet"}, "PARSE_ERROR"),
    ("query", {"request_type": "view_account", "finality": ["final"], "account_id": "alice.devnet"}, "PARSE_ERROR"),
    ("query", {"request_type": "view_access_key", "finality": "final", "account_id": "alice.devnet",
               "public_key": "\ud800"}, "UNKNOWN_ACCESS_KEY"),
    ("query", {"request_type": "view_account", "finality": "final", "account_id": "\ud800"}, "INVALID_ACCOUNT"),
    ("query", {"request_type": "\ud800", "finality": "final", "account_id": "alice.devnet"}, "PARSE_ERROR"),
    ("tx", {"tx_hash": "\ud800", "sender_account_id": "alice.devnet"}, "PARSE_ERROR"),
    ("tx", [BIG, BIG], "PARSE_ERROR"),
    ("EXPERIMENTAL_receipt", {"receipt_id": "\ud800"}, "PARSE_ERROR"),
    ("EXPERIMENTAL_receipt", {"receipt_id": BIG}, "PARSE_ERROR"),
    ("EXPERIMENTAL_receipt", {"receipt_id": "11111111111111111111111111111111"}, "UNKNOWN_RECEIPT"),
    ("send_tx", {"signed_tx_base64": "\ud800"}, "PARSE_ERROR"),
    ("send_tx", {"signed_tx_base64": "AAAA", "wait_until": BIG}, "PARSE_ERROR"),
]


def test_out_of_range_and_unencodable_values_get_near_errors(live_host, caplog):
    """Review s3 #7: ``block_id`` 10**26 was HTTP 500 (OverflowError in SQLite) with a traceback."""
    caplog.set_level(logging.DEBUG)
    for method, params, cause in OUT_OF_RANGE:
        response = rpc_raw(live_host, method, params)
        error = assert_near_error(response, cause)
        if cause == "PARSE_ERROR":
            assert response.status_code == 400 and error["code"] == -32700
        assert_alive(live_host)
    assert host_errors(caplog) == []


def test_block_id_error_reads_like_nearcore(live_host):
    error = assert_near_error(rpc_raw(live_host, "block", {"block_id": BIG}), "PARSE_ERROR")
    assert error["cause"]["info"]["error_message"] == (
        "Failed parsing args: data did not match any variant of untagged enum BlockId")
    assert error["data"] == error["cause"]["info"]["error_message"]


def test_unknown_query_request_type_is_an_unknown_variant(live_host):
    """Review s3 #7: it answered "query needs account_id"."""
    error = assert_near_error(rpc_raw(live_host, "query", {"request_type": "view_everything", "finality": "final"}),
                              "PARSE_ERROR")
    message = error["cause"]["info"]["error_message"]
    assert message.startswith("Failed parsing args: unknown variant `view_everything`, expected one of "
                              "`view_account`, `view_code`, `view_state`, `view_access_key`"), message
    error = assert_near_error(rpc_raw(live_host, "query", {"finality": "final", "account_id": "alice.devnet"}))
    assert error["cause"]["info"]["error_message"] == "Failed parsing args: missing field `request_type`"
    error = assert_near_error(rpc_raw(live_host, "query", {"request_type": "view_code", "finality": "final",
                                                           "account_id": "alice.devnet"}), "PARSE_ERROR")
    assert "not served by the devnet host" in error["cause"]["info"]["error_message"]
    error = assert_near_error(rpc_raw(live_host, "query", {"request_type": "view_account", "finality": "final"}))
    assert error["cause"]["info"]["error_message"] == "Failed parsing args: missing field `account_id`"
    assert_alive(live_host)


DEEP = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 100_000 + "1" + "}" * 100_000


@pytest.mark.parametrize("body", [
    DEEP,
    DEEP_OBJECT,
    "[" * 100_000,                                                     # never closed
    "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1),
    '{"jsonrpc":"2.0","id":1,"method":"block","params":' + DEEP + "}",
    '{"jsonrpc":"2.0","id":' + DEEP + ',"method":"status","params":[]}',
    "[" + ",".join(["[]"] * (MAX_JSON_CONTAINERS + 1)) + "]",           # too many containers to check
    '{"jsonrpc":"2.0","id":1,"method":"status","params":[NaN]}',
], ids=["arrays", "objects", "unclosed", "129", "in-params", "in-id", "many", "nan"])
def test_deeply_nested_json_is_a_parse_error(live_host, caplog, body):
    """Review s3 #7: 100 000 nested arrays gave HTTP 500 RecursionError and a traceback."""
    caplog.set_level(logging.DEBUG)
    response = post(live_host, body.encode())
    error = assert_near_error(response, "PARSE_ERROR")
    assert response.status_code == 400 and error["code"] == -32700 and error["message"] == "Parse error"
    assert response.json()["id"] is None
    assert host_errors(caplog) == []
    assert_alive(live_host)


def test_nesting_up_to_the_limit_is_accepted(live_host):
    nested = json.loads("[" * (MAX_JSON_DEPTH - 2) + "]" * (MAX_JSON_DEPTH - 2))  # + request object + params list
    response = rpc_raw(live_host, "status", [nested])
    assert response.status_code == 200 and response.json()["result"]["chain_id"] == "devnet"
    # brackets inside strings are not nesting
    response = rpc_raw(live_host, "status", ["[" * 10_000, "\\\"[" * 1000])
    assert response.status_code == 200 and "result" in response.json()


def test_deeply_nested_call_arguments_panic_like_near_sdk(live_host, caplog, build_tx):
    caplog.set_level(logging.DEBUG)
    deep_args = b'{"request":' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = rpc_raw(live_host, "query", {
        "request_type": "call_function", "finality": "optimistic", "account_id": live_host.contract_id,
        "method_name": "get_pending_request", "args_base64": base64.b64encode(deep_args).decode()})
    error = assert_near_error(response, "CONTRACT_EXECUTION_ERROR")
    assert "Failed to deserialize input from JSON." in error["cause"]["info"]["vm_error"]
    # the same arguments in a transaction: the receipt fails with the contract's panic
    from near import actions

    key = live_host.key("alice.devnet")
    head = live_host.client().rpc("block", {"finality": "final"})["header"]["hash"]
    nonce = live_host.client().rpc("query", {"request_type": "view_access_key", "finality": "final",
                                             "account_id": "alice.devnet",
                                             "public_key": key.public_key.to_near_string()})["nonce"]
    tx = build_tx(key, live_host.contract_id, [actions.function_call("sign", deep_args, deposit="1 yocto")],
                  nonce + 1, head)
    result = live_host.client().rpc("send_tx", {"signed_tx_base64": tx, "wait_until": "EXECUTED_OPTIMISTIC"})
    failure = json.dumps(result["status"]["Failure"])
    assert "Failed to deserialize input from JSON." in failure
    assert host_errors(caplog) == []
    assert_alive(live_host)


@pytest.mark.parametrize(("raw", "deep"), [
    (b"", False), (b"[]", False), (b"]]]]" * 100, False),
    (b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH, False),
    (b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1), True),
    (b"{" * 200, True), (b"[" * 130 + b"]" * 129, True), (b"[" * 100 + b"}" * 99 + b"]]", False),
    (json.dumps(["[" * 500, "{" * 500]).encode(), False),
    (json.dumps(["\\\"[[" * 500, [[["x"]]]]).encode(), False),
    (json.dumps({"k": "a\\\\"}).encode() + b"[" * 200, True),
    (b"[" + b",".join([b"[[]]"] * 1000) + b"]", False),
])
def test_nesting_check(raw, deep):
    assert nesting_exceeds(raw) is deep


@settings(max_examples=80, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=30))
def test_bounded_loads_agrees_with_json(value):
    raw = json.dumps(value).encode()
    assert loads_bounded(raw) == json.loads(raw)


# -- random JSON thrown at every method ---------------------------------------------------------

PARAM_KEYS = ["block_id", "finality", "sync_checkpoint", "chunk_id", "shard_id", "request_type", "account_id",
              "public_key", "method_name", "args_base64", "signed_tx_base64", "wait_until", "tx_hash",
              "sender_account_id", "receipt_id"]
SCALARS = (st.none() | st.booleans() | st.text(max_size=20)
           | st.integers(min_value=-(2**70), max_value=2**70)
           | st.sampled_from([0, 1, -1, 2**63 - 1, 2**63, 2**64 - 1, 2**64, 10**26, "final", "optimistic",
                              "view_account", "call_function", "alice.devnet", "v1.signer.devnet",
                              "11111111111111111111111111111111", "\ud800", "NONE", "FINAL", "genesis"])
           | st.floats(allow_nan=False, allow_infinity=False))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=8) | st.sampled_from(PARAM_KEYS), inner, max_size=5),
                    max_leaves=12)
PARAMS = JSON | st.dictionaries(st.sampled_from(PARAM_KEYS), JSON, max_size=6) | st.lists(SCALARS, max_size=3)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_random_params_never_crash(live_host, caplog, data):
    caplog.set_level(logging.DEBUG)
    method = data.draw(st.sampled_from(sorted(live_host_methods(live_host))))
    params = data.draw(PARAMS)
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    response = post(live_host, body.encode())
    assert response.status_code < 500, (method, params, response.text[:300])
    answer = response.json()
    assert answer["jsonrpc"] == "2.0" and answer["id"] in (1, None)
    if "error" in answer:
        assert_near_error(response)
    else:
        assert "result" in answer
    assert host_errors(caplog) == []


def live_host_methods(host):
    """Every method the host serves (so a method added later is fuzzed too)."""
    return RpcMethods(host.chain).table
