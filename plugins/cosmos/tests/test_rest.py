"""Online paths against the local REST stand-in: account lookup, balance, broadcast and
inclusion, and every failure mode giving one clear error."""

from __future__ import annotations

import pytest

from chainsig_core import (
    ChainEndpoint,
    ChainError,
    InsufficientFundsError,
    InvalidAddressError,
    RpcError,
    TransferRequest,
    sign_prepared,
)
from chainsig_cosmos.rest import CosmosRest

TO = "cosmos1w508d6qejxtdg4y5r3zarvary0c5xw7k6ah60c"


@pytest.fixture
def sender(chainsig_derived_account):  # type: ignore[no-untyped-def]
    return chainsig_derived_account("alice.near", "cosmos-1", 0)


@pytest.fixture
def sender_address(cosmos_chain, sender) -> str:  # type: ignore[no-untyped-def]
    return cosmos_chain.address(sender.public_key, "local")


@pytest.fixture
def endpoint(cosmos_node) -> ChainEndpoint:  # type: ignore[no-untyped-def]
    return ChainEndpoint(cosmos_node.url, {"poll_interval": 0.01, "confirm_timeout": 0.2})


@pytest.fixture
def signed_tx(cosmos_chain, cosmos_node, sender, sender_address, endpoint, chainsig_dev_signer):  # type: ignore[no-untyped-def]
    cosmos_node.fund(sender_address, 5_000_000, number=42, sequence=3)
    prepared = cosmos_chain.prepare(TransferRequest(sender, TO, "2"), "local", endpoint)
    return cosmos_chain.finalize(prepared, sign_prepared(chainsig_dev_signer, prepared))


def test_prepare_reads_account_number_and_sequence(cosmos_chain, cosmos_node, sender, sender_address, endpoint) -> None:  # type: ignore[no-untyped-def]
    cosmos_node.fund(sender_address, 5_000_000, number=42, sequence=3)
    prepared = cosmos_chain.prepare(TransferRequest(sender, TO, "2"), "local", endpoint)
    assert prepared.tx["account_number"] == "42" and prepared.tx["sequence"] == "3"
    paths = [(r.method, r.path, r.query) for r in cosmos_node.server.requests]
    assert paths == [
        ("GET", f"/cosmos/auth/v1beta1/accounts/{sender_address}", {}),
        ("GET", f"/cosmos/bank/v1beta1/balances/{sender_address}/by_denom", {"denom": ["uatom"]}),
    ]


def test_prepare_refuses_what_the_balance_cannot_pay(cosmos_chain, cosmos_node, sender, sender_address, endpoint) -> None:  # type: ignore[no-untyped-def]
    cosmos_node.fund(sender_address, 2_000_999)  # amount 2 ATOM + fee 1000 uatom = 2_001_000
    with pytest.raises(InsufficientFundsError, match="needs 2001000uatom"):
        cosmos_chain.prepare(TransferRequest(sender, TO, "2"), "local", endpoint)


def test_unfunded_account_is_insufficient_funds(cosmos_chain, sender, endpoint) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InsufficientFundsError, match="does not exist on chain"):
        cosmos_chain.prepare(TransferRequest(sender, TO, "2"), "local", endpoint)


def test_broadcast_confirms_and_node_verified_the_signature(cosmos_chain, cosmos_node, signed_tx, endpoint) -> None:  # type: ignore[no-untyped-def]
    receipt = cosmos_chain.broadcast(signed_tx, endpoint)
    assert (receipt.status, receipt.tx_hash) == ("confirmed", signed_tx.tx_hash)
    assert receipt.details["height"] == "1234"
    assert len(cosmos_node.submitted) == 1  # the stand-in verified the signature like CheckTx
    post = cosmos_node.server.requests_to("/cosmos/tx/v1beta1/txs", "POST")[0]
    assert post.json() == {"tx_bytes": signed_tx.raw, "mode": "BROADCAST_MODE_SYNC"}
    assert post.headers["Content-Type"] == "application/json"


def test_broadcast_not_yet_included_reports_broadcast(cosmos_chain, cosmos_node, signed_tx, endpoint) -> None:  # type: ignore[no-untyped-def]
    cosmos_node.auto_include = False
    receipt = cosmos_chain.broadcast(signed_tx, endpoint)
    assert receipt.status == "broadcast"
    assert len(cosmos_node.server.requests_to(f"/cosmos/tx/v1beta1/txs/{signed_tx.tx_hash}")) >= 2


def test_failed_in_block_reports_failed(cosmos_chain, cosmos_node, signed_tx, endpoint) -> None:  # type: ignore[no-untyped-def]

    cosmos_node.auto_include = False
    cosmos_node.server.add("GET", f"/cosmos/tx/v1beta1/txs/{signed_tx.tx_hash}", json={
        "tx": {}, "tx_response": {"height": "77", "txhash": signed_tx.tx_hash, "codespace": "sdk", "code": 11,
                                  "raw_log": "out of gas in location: WriteFlat; gasWanted: 200000, gasUsed: 200312: out of gas",
                                  "gas_wanted": "200000", "gas_used": "200312"},
    })
    receipt = cosmos_chain.broadcast(signed_tx, endpoint)
    assert receipt.status == "failed" and "out of gas" in receipt.details["raw_log"]


@pytest.mark.parametrize(("code", "codespace", "error", "match"), [
    (5, "sdk", InsufficientFundsError, "insufficient funds"),
    (13, "sdk", InsufficientFundsError, "insufficient fee"),
    (19, "sdk", ChainError, "tx already in mempool"),
])
def test_check_tx_refusals(cosmos_chain, cosmos_node, signed_tx, endpoint, code, codespace, error, match) -> None:  # type: ignore[no-untyped-def]
    cosmos_node.check_tx_code = (code, codespace, f"{match}: refused")
    with pytest.raises(error, match=match):
        cosmos_chain.broadcast(signed_tx, endpoint)


def test_sequence_mismatch_is_a_chain_error(cosmos_chain, cosmos_node, signed_tx, endpoint, sender_address) -> None:  # type: ignore[no-untyped-def]
    cosmos_node.accounts[sender_address] = (42, 4)  # another tx went first
    with pytest.raises(ChainError, match="account sequence mismatch"):
        cosmos_chain.broadcast(signed_tx, endpoint)


def test_balance(cosmos_chain, cosmos_node) -> None:  # type: ignore[no-untyped-def]
    cosmos_node.balances[(TO, "uatom")] = 1_234_500
    balance = cosmos_chain.balance(TO.upper(), "local", ChainEndpoint(cosmos_node.url))
    assert (balance.amount, balance.formatted, balance.symbol, balance.address) == (1_234_500, "1.2345", "ATOM", TO)
    token = cosmos_chain.balance(TO, "local", ChainEndpoint(cosmos_node.url), token="uosmo")
    assert (token.amount, token.decimals, token.token) == (0, 0, "uosmo")
    with pytest.raises(InvalidAddressError):
        cosmos_chain.balance("osmo1w508d6qejxtdg4y5r3zarvary0c5xw7kjxy2e2", "local", ChainEndpoint(cosmos_node.url))


def test_vesting_account_shape(chainsig_http_server) -> None:  # type: ignore[no-untyped-def]
    chainsig_http_server.add("GET", f"/cosmos/auth/v1beta1/accounts/{TO}", json={"account": {
        "@type": "/cosmos.vesting.v1beta1.ContinuousVestingAccount",
        "base_vesting_account": {
            "base_account": {"address": TO, "pub_key": {"@type": "/cosmos.crypto.secp256k1.PubKey", "key": "A" * 44},
                             "account_number": "9001", "sequence": "17"},
            "original_vesting": [{"denom": "uatom", "amount": "100"}], "delegated_free": [],
            "delegated_vesting": [], "end_time": "1700000000",
        },
        "start_time": "1600000000",
    }})
    info = CosmosRest(chainsig_http_server.url).account(TO)
    assert (info.account_number, info.sequence) == (9001, 17)


@pytest.mark.parametrize(("status", "body", "match"), [
    (500, {"code": 13, "message": "internal error\nwith details", "details": []}, "HTTP 500 internal error$"),
    (200, None, "not a JSON object"),
    (200, {"account": {"@type": "/some.Unknown"}}, "unsupported type"),
    (200, {"account": {"account_number": "x", "sequence": "1"}}, "non-numeric"),
    (503, None, "HTTP 503"),
])
def test_bad_answers_are_one_line_rpc_errors(chainsig_http_server, status, body, match) -> None:  # type: ignore[no-untyped-def]
    if body is None:
        chainsig_http_server.add("GET", f"/cosmos/auth/v1beta1/accounts/{TO}", status=status, body=b"<html>busy</html>")
    else:
        chainsig_http_server.add("GET", f"/cosmos/auth/v1beta1/accounts/{TO}", status=status, json=body)
    with pytest.raises(RpcError, match=match) as info:
        CosmosRest(chainsig_http_server.url).account(TO)
    assert "\n" not in str(info.value)


def test_unreachable_node(cosmos_chain) -> None:  # type: ignore[no-untyped-def]
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(RpcError, match="unreachable"):
        cosmos_chain.balance(TO, "local", ChainEndpoint(f"http://127.0.0.1:{port}"))
    from chainsig_core import InvalidInputError

    with pytest.raises(InvalidInputError, match="scheme 'ftp'"):  # the user's URL, not the node, is wrong
        CosmosRest("ftp://example")


@pytest.mark.parametrize("settings", [{"confirm_timeout": "soon"}, {"poll_interval": -1}, {"confirm_timeout": True}])
def test_bad_wait_settings_are_config_errors(cosmos_chain, signed_tx, cosmos_node, settings) -> None:  # type: ignore[no-untyped-def]
    from chainsig_core import ConfigError

    with pytest.raises(ConfigError, match=r"\[chains.cosmos.local\]"):
        cosmos_chain.broadcast(signed_tx, ChainEndpoint(cosmos_node.url, settings))
    assert cosmos_node.submitted == []  # nothing was sent


@pytest.mark.parametrize("options", [{"nonce": 3}, {"feerate": "2", "memo": "m"}, {"utxos": "u.json"}])
def test_unknown_options_are_refused_before_the_node_is_asked(  # type: ignore[no-untyped-def]
    cosmos_chain, cosmos_node, sender, sender_address, endpoint, options
) -> None:
    from chainsig_core import InvalidInputError

    cosmos_node.fund(sender_address, 5_000_000)
    with pytest.raises(InvalidInputError, match=r"^unknown Cosmos option\(s\): ") as info:
        cosmos_chain.prepare(TransferRequest(sender, TO, "2", options=options), "local", endpoint)
    unknown = sorted(k for k in options if k != "memo")
    assert str(info.value).startswith(f"unknown Cosmos option(s): {', '.join(unknown)} (Cosmos takes:")
    assert cosmos_node.server.requests == []


@pytest.mark.parametrize(("url", "message"), [
    ("notaurl", "the Cosmos REST URL is not a URL: it does not start with http:// or https://"),
    ("ftp://alice:s3cret@node.example/KEY123", "the Cosmos REST URL has scheme 'ftp': it must be http:// or https://"),
    ("https://", "the Cosmos REST URL names no host after https://"),
    ("http://alice:s3cret@node.example:99999/KEY123", "the Cosmos REST URL is not a valid URL"),
])
def test_invalid_rest_urls_never_echo_credentials(cosmos_chain, url: str, message: str) -> None:  # type: ignore[no-untyped-def]
    from chainsig_core import InvalidInputError

    with pytest.raises(InvalidInputError) as info:
        cosmos_chain.balance(TO, "local", ChainEndpoint(url))
    assert str(info.value) == f"{message} (--rpc-url, or rpc_url in the config)"
