"""Nodes that misbehave: HTTP errors, garbage, JSON-RPC errors — one clear error, nothing signed."""

from __future__ import annotations

import pytest

from chainsig_core import ChainEndpoint, ChainError, RpcError, TransferRequest, derive_address
from chainsig_core.plugins import get_chain
from chainsig_core.testing.http_server import CannedResponse

RECIPIENT = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def _prepare(url: str, chain_network: str = "local", settings: dict | None = None, options: dict | None = None):
    sender = derive_address(chain="ethereum", account="dev.near", path="rpc", network="dev").derived_account
    request = TransferRequest(sender, RECIPIENT, "0.01", options=options or {})
    return get_chain("ethereum").prepare(request, chain_network, ChainEndpoint(url=url, settings=settings or {}))


def test_http_error_status(chainsig_config, chainsig_http_server) -> None:
    chainsig_http_server.add("POST", "/", status=503, body=b"overloaded")
    with pytest.raises(RpcError, match="HTTP 503") as info:
        _prepare(chainsig_http_server.url + "/")
    assert "\n" not in str(info.value)


def test_garbage_answer(chainsig_config, chainsig_http_server) -> None:
    chainsig_http_server.add("POST", "/", body=b"<html>not json</html>")
    with pytest.raises(RpcError, match="unexpected answer"):
        _prepare(chainsig_http_server.url + "/")


def test_json_rpc_error(chainsig_config, chainsig_http_server) -> None:
    def answer(request):
        return CannedResponse(json={"jsonrpc": "2.0", "id": request.json()["id"], "error": {"code": -32000, "message": "rate limited"}})

    chainsig_http_server.add("POST", "/", handler=answer)
    with pytest.raises(ChainError, match="rate limited"):
        _prepare(chainsig_http_server.url + "/")


def test_configured_chain_id_lets_local_prepare_offline(chainsig_config) -> None:
    options = {"nonce": 0, "gas": 21000, "max_fee": "1", "priority_fee": "1"}
    prepared = _prepare("http://127.0.0.1:9", settings={"chain_id": 1337}, options=options)
    assert prepared.tx["chainId"] == 1337


def test_node_of_the_wrong_chain(chainsig_config, chainsig_http_server) -> None:
    def answer(request):
        return CannedResponse(json={"jsonrpc": "2.0", "id": request.json()["id"], "result": "0x1"})

    chainsig_http_server.add("POST", "/", handler=answer)
    with pytest.raises(ChainError, match="chain id 1, but"):
        _prepare(chainsig_http_server.url + "/", "sepolia")
    assert [r.json()["method"] for r in chainsig_http_server.requests] == ["eth_chainId"]


@pytest.mark.parametrize(
    ("to", "amount", "token", "error"),
    [
        ("0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0.01", None, "checksum"),
        (RECIPIENT, "-1", None, "negative"),
        (RECIPIENT, "0.0000000000000000001", None, "18 decimals"),
        (RECIPIENT, "-1", RECIPIENT, "negative"),
        (RECIPIENT, "1", "0xabc", "token"),
    ],
)
def test_user_mistakes_come_before_node_errors(chainsig_config, to, amount, token, error) -> None:
    """Even with the node down, a bad address or amount is what the user is told about."""
    from chainsig_core import InvalidInputError

    sender = derive_address(chain="ethereum", account="dev.near", path="rpc", network="dev").derived_account
    request = TransferRequest(sender, to, amount, token=token)
    with pytest.raises(InvalidInputError, match=error):
        get_chain("ethereum").prepare(request, "sepolia", ChainEndpoint(url="http://127.0.0.1:9"))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("notaurl", "the EVM RPC URL is not a URL: it does not start with http:// or https://"),
        ("localhost:8545", "the EVM RPC URL is not a URL: it does not start with http:// or https://"),
        ("alice:s3cret@node.example", "the EVM RPC URL is not a URL: it does not start with http:// or https://"),
        ("ftp://x", "the EVM RPC URL has scheme 'ftp': it must be http:// or https://"),
        ("ws://alice:s3cret@node.example/v3/KEY123", "the EVM RPC URL has scheme 'ws': "),
        ("http://", "the EVM RPC URL names no host after http://"),
        ("https://alice:s3cret@[::1/v3/KEY123", "the EVM RPC URL is not a valid URL"),
        ("http://node.example:99999/KEY123", "the EVM RPC URL is not a valid URL"),
    ],
)
def test_invalid_rpc_urls_are_named_as_such(chainsig_config, url: str, message: str) -> None:
    """Not 'cannot reach … MissingSchema': the URL itself is wrong. Credentials, paths and keys
    in it are never echoed (review s3 item 13)."""
    from chainsig_core import InvalidInputError

    chain = get_chain("ethereum")
    address = "0x8c1b89208cf2d35cd59c2820b5cb22ca5937a130"
    for attempt in (
        lambda: _prepare(url),
        lambda: chain.balance(address, "mainnet", ChainEndpoint(url=url)),
    ):
        with pytest.raises(InvalidInputError) as info:
            attempt()
        text = str(info.value)
        assert text.startswith(message) and text.endswith("(--rpc-url, or rpc_url in the config)")
        assert not any(secret in text for secret in ("alice", "s3cret", "KEY123", "notaurl", "localhost"))


def test_invalid_rpc_url_on_the_command_line(chainsig_config) -> None:
    """Core checks --rpc-url itself now; whichever layer answers, it is one line about the URL."""
    from click.testing import CliRunner

    from chainsig_core.cli import cli

    for url in ("notaurl", "ftp://x", "ftp://alice:s3cret@x/KEY123"):
        result = CliRunner().invoke(cli, [
            "balance", "--chain", "ethereum", "--address", "0x8c1b89208cf2d35cd59c2820b5cb22ca5937a130", "--rpc-url", url,
        ])
        assert result.exit_code == 2, result.output
        (line,) = result.stderr.splitlines()
        assert "--rpc-url" in line and "http:// or https://" in line
        assert not any(bad in line for bad in ("cannot reach", "Schema", "alice", "s3cret", "KEY123", "notaurl"))
