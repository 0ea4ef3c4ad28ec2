"""The Esplora and Bitcoin Core adapters against loopback servers with the documented bodies."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from chainsig_core.errors import ConfigError, InvalidInputError, RpcError
from chainsig_core.flow import sign_prepared
from chainsig_core.signers.dev import DevSigner
from chainsig_core.types import ChainEndpoint, DerivedAccount, TransferRequest

from chainsig_bitcoin.backends import get_backend

RECIPIENT = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"


def _core_endpoint(server: Any, **extra: Any) -> ChainEndpoint:
    return ChainEndpoint(server.url + "/", {"backend": "core", "rpc_user": "rpcuser", "rpc_password": "rpcpass", **extra})


def _own_spk(btc: Any, sender: DerivedAccount, kind: str) -> bytes:
    from chainsig_bitcoin.addresses import script_pubkey

    return script_pubkey(sender.public_key.compressed, kind)


# -- Esplora ------------------------------------------------------------------------------------


def test_esplora_reads(esplora: Any, ledger: Any, btc: Any, sender: DerivedAccount) -> None:
    spk = _own_spk(btc, sender, "p2wpkh")
    funding = ledger.fund(spk, 50_000, 70_000)
    ledger.fund(spk, 1_000, confirmed=False)
    address = btc.address(sender.public_key, "regtest")
    backend = get_backend(ChainEndpoint(esplora.url), "regtest")
    utxos = backend.utxos(address)
    assert sorted((u.value, u.confirmed) for u in utxos) == [(1_000, False), (50_000, True), (70_000, True)]
    assert backend.balance(address) == 121_000
    assert backend.fee_rate(6) == Decimal("68.285")
    assert backend.fee_rate(10) == Decimal("1.027")  # next target the server estimates: 144
    assert backend.raw_transaction(funding) == ledger.txs[funding]
    status = backend.tx_status(funding)
    assert status.known and status.confirmed
    assert not backend.tx_status("ab" * 32).known
    assert esplora.requests_to(f"/address/{address}/utxo", "GET")


def test_esplora_errors_are_one_line(esplora: Any) -> None:
    backend = get_backend(ChainEndpoint(esplora.url), "regtest")
    with pytest.raises(RpcError, match="Invalid Bitcoin address"):
        backend.utxos("bcrt1-nonsense")
    with pytest.raises(RpcError, match="bad-txns-inputs-missingorspent"):
        backend.broadcast("0200000001" + "ab" * 32 + "00000000" + "00" + "ffffffff" + "00" + "00000000")
    with pytest.raises(RpcError, match="TX decode failed"):
        backend.broadcast("00")
    with pytest.raises(RpcError, match="Transaction not found"):
        backend.raw_transaction("cd" * 32)
    esplora.fee_estimates = {}
    with pytest.raises(RpcError, match="--fee-rate"):
        backend.fee_rate()
    esplora.add("GET", "/fee-estimates", body=b"<html>bad gateway</html>", status=502)
    with pytest.raises(RpcError, match="HTTP 502"):
        backend.fee_rate()


def test_unreachable_backend() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    backend = get_backend(ChainEndpoint(f"http://user:secret@127.0.0.1:{port}", {"timeout": 2}), "regtest")
    with pytest.raises(RpcError) as err:
        backend.balance(RECIPIENT)
    assert "secret" not in str(err.value)


@pytest.mark.parametrize("kind", ["p2wpkh", "p2pkh"])
def test_send_through_esplora(
    kind: str, esplora: Any, ledger: Any, btc: Any, sender: DerivedAccount, chainsig_dev_signer: DevSigner
) -> None:
    spk = _own_spk(btc, sender, kind)
    ledger.fund(spk, 200_000, 300_000, 250_000)
    endpoint = ChainEndpoint(esplora.url)
    request = TransferRequest(sender, RECIPIENT, "0.005", address_type=kind, options={"conf_target": 1})
    prepared = btc.prepare(request, "regtest", endpoint)
    assert prepared.summary["fee_rate"] == "87.882"
    assert len(prepared.payloads) == 2
    if kind == "p2pkh":  # the PSBT carries the previous transactions fetched from Esplora
        from embit.psbt import PSBT

        assert all(i.non_witness_utxo is not None for i in PSBT.from_string(prepared.tx["psbt"]).inputs)
    signed = btc.finalize(prepared, sign_prepared(chainsig_dev_signer, prepared))
    receipt = btc.broadcast(signed, endpoint)
    assert receipt.tx_hash == signed.tx_hash and receipt.status == "broadcast"
    (post,) = esplora.requests_to("/tx", "POST")
    assert post.body.decode() == signed.raw
    assert ledger.mempool == [signed.tx_hash]
    # the change is back at the sender, unconfirmed
    assert btc.balance(prepared.from_address, "regtest", endpoint).amount == 750_000 - 500_000 - prepared.summary["fee"]
    with pytest.raises(RpcError, match="missingorspent"):  # the same outputs cannot be spent twice
        btc.broadcast(signed, endpoint)


# -- Bitcoin Core -------------------------------------------------------------------------------


def test_core_reads(core_node: Any, ledger: Any, btc: Any, sender: DerivedAccount) -> None:
    spk = _own_spk(btc, sender, "p2wpkh")
    funding = ledger.fund(spk, 12_345_678, 1)
    address = btc.address(sender.public_key, "regtest")
    backend = get_backend(_core_endpoint(core_node), "regtest")
    assert sorted(u.value for u in backend.utxos(address)) == [1, 12_345_678]
    assert all(u.script_pubkey == spk for u in backend.utxos(address))
    assert backend.balance(address) == 12_345_679
    assert backend.fee_rate(6) == Decimal("12.345")  # 0.00012345 BTC/kvB
    assert backend.raw_transaction(funding) == ledger.txs[funding]
    assert backend.tx_status(funding).confirmed
    assert not backend.tx_status("ef" * 32).known
    call = core_node.requests_to("/", "POST")[0].json()
    assert call["jsonrpc"] == "1.0" and call["method"] == "scantxoutset"
    assert call["params"] == ["start", [f"addr({address})"]]


def test_core_errors(core_node: Any, btc: Any, sender: DerivedAccount, tmp_path: Any) -> None:
    backend = get_backend(_core_endpoint(core_node), "regtest")
    with pytest.raises(RpcError, match=r"\(-5\): No such mempool"):
        backend.raw_transaction("ef" * 32)
    with pytest.raises(RpcError, match=r"\(-22\): TX decode failed"):
        backend.broadcast("00")
    core_node.fee_result = {"errors": ["Insufficient data or no feerate found"], "blocks": 0}
    with pytest.raises(RpcError, match="Insufficient data"):
        backend.fee_rate()
    wrong = get_backend(_core_endpoint(core_node, rpc_password="nope"), "regtest")
    with pytest.raises(RpcError, match="401") as err:
        wrong.balance(RECIPIENT)
    assert "nope" not in str(err.value)
    cookie = tmp_path / ".cookie"
    cookie.write_text("rpcuser:rpcpass")
    via_cookie = get_backend(ChainEndpoint(core_node.url, {"backend": "core", "rpc_cookie_file": str(cookie)}), "regtest")
    assert via_cookie.balance(RECIPIENT) == 0
    with pytest.raises(ConfigError):
        get_backend(ChainEndpoint(core_node.url, {"backend": "core", "rpc_cookie_file": str(tmp_path / "missing")}), "regtest")
    with pytest.raises(ConfigError):
        get_backend(ChainEndpoint(core_node.url, {"backend": "electrum"}), "regtest")
    with pytest.raises(InvalidInputError, match="--utxos"):
        get_backend(ChainEndpoint(None), "regtest")


def test_send_through_core(
    core_node: Any, ledger: Any, btc: Any, sender: DerivedAccount, chainsig_dev_signer: DevSigner
) -> None:
    ledger.fund(_own_spk(btc, sender, "p2wpkh"), 100_000)
    endpoint = _core_endpoint(core_node)
    prepared = btc.prepare(TransferRequest(sender, RECIPIENT, "0.0004"), "regtest", endpoint)
    assert prepared.summary["fee_rate"] == "12.345"
    signed = btc.finalize(prepared, sign_prepared(chainsig_dev_signer, prepared))
    receipt = btc.broadcast(signed, endpoint)
    assert receipt.status == "broadcast" and receipt.tx_hash == signed.tx_hash
    methods = [r.json()["method"] for r in core_node.requests_to("/", "POST")]
    assert methods == ["estimatesmartfee", "scantxoutset", "sendrawtransaction", "getrawtransaction"]


def test_offline_prepare_needs_no_network(
    btc: Any, sender: DerivedAccount, utxo_file: Callable[..., Any]
) -> None:
    """--utxos and --fee-rate: an endpoint that does not exist is never contacted."""
    endpoint = ChainEndpoint("http://127.0.0.1:9", {"backend": "core"})
    request = TransferRequest(sender, RECIPIENT, "0.0001", options={"utxos": str(utxo_file(50_000)), "fee_rate": "1.5"})
    prepared = btc.prepare(request, "regtest", endpoint)
    assert prepared.summary["fee_rate"] == "1.5"


def test_core_listunspent_and_immature_coinbase(core_node: Any, ledger: Any, btc: Any, sender: DerivedAccount) -> None:
    from decimal import Decimal as D

    from chainsig_core.testing import CannedResponse

    address = btc.address(sender.public_key, "regtest")
    spk = _own_spk(btc, sender, "p2wpkh").hex()

    def rpc(request: Any) -> Any:
        call = request.json()
        if call["method"] == "listunspent":
            assert call["params"] == [0, 9999999, [address]]
            result: Any = [
                {"txid": "aa" * 32, "vout": 0, "address": address, "scriptPubKey": spk, "amount": 0.5,
                 "confirmations": 3, "spendable": False, "solvable": True, "safe": True},
                {"txid": "bb" * 32, "vout": 1, "address": address, "scriptPubKey": spk, "amount": 0.00001,
                 "confirmations": 0, "spendable": False, "solvable": True, "safe": False},
            ]
        else:  # scantxoutset at height 150: a coinbase from height 100 is immature (51 confs)
            result = {"success": True, "txouts": 9, "height": 150, "bestblock": "00" * 32, "total_amount": 75.0,
                      "unspents": [
                          {"txid": "cc" * 32, "vout": 0, "scriptPubKey": spk, "desc": "addr(x)", "amount": 50.0,
                           "coinbase": True, "height": 100, "blockhash": "00" * 32},
                          {"txid": "dd" * 32, "vout": 0, "scriptPubKey": spk, "desc": "addr(x)", "amount": 25.0,
                           "coinbase": True, "height": 20, "blockhash": "00" * 32},
                      ]}
        return CannedResponse(json={"result": result, "error": None, "id": call["id"]})

    core_node.add("POST", "/", handler=rpc)
    listing = get_backend(_core_endpoint(core_node, utxo_source="listunspent"), "regtest")
    assert [(u.value, u.confirmed) for u in listing.utxos(address)] == [(50_000_000, True), (1_000, False)]
    assert listing.balance(address) == 50_001_000
    scanning = get_backend(_core_endpoint(core_node), "regtest")
    assert [u.txid for u in scanning.utxos(address)] == ["dd" * 32]
    assert scanning.balance(address) == int(D("75") * 100_000_000)


@pytest.mark.parametrize(
    "body,fragment",
    [
        (b"not json", "not JSON"),
        (b'{"foo": 1}', "malformed JSON-RPC"),
        (b'{"result": {"success": true, "height": 1, "unspents": [{"txid": "zz", "vout": 0, "amount": 1}]}, "error": null, "id": "x"}',
         "malformed bitcoin core answer"),
        (b'{"result": {"success": true, "height": 1, "unspents": [{"txid": "' + b"ab" * 32 + b'", "vout": 0, "amount": 1e-9}]}, "error": null, "id": "x"}',
         "not whole satoshis"),
    ],
)
def test_core_malformed_answers(core_node: Any, body: bytes, fragment: str) -> None:
    core_node.add("POST", "/", body=body, status=200)
    with pytest.raises(RpcError, match=fragment):
        get_backend(_core_endpoint(core_node), "regtest").utxos(RECIPIENT)


@pytest.mark.parametrize(
    "path,body,fragment",
    [
        ("/address/{a}/utxo", b'{"not": "a list"}', "not a list"),
        ("/address/{a}/utxo", b'[{"txid": "' + b"ab" * 32 + b'", "vout": 0, "value": 1.5, "status": {"confirmed": true}}]', "malformed esplora"),
        ("/address/{a}/utxo", b"<html>", "not JSON"),
        ("/address/{a}", b'{"chain_stats": {}}', "malformed esplora /address"),
    ],
)
def test_esplora_malformed_answers(chainsig_http_server: Any, path: str, body: bytes, fragment: str) -> None:
    chainsig_http_server.add("GET", path.format(a=RECIPIENT), body=body)
    backend = get_backend(ChainEndpoint(chainsig_http_server.url), "regtest")
    with pytest.raises(RpcError, match=fragment):
        backend.balance(RECIPIENT) if path.endswith("}") else backend.utxos(RECIPIENT)


def test_cli_send_and_broadcast_through_esplora(
    esplora: Any, ledger: Any, btc: Any, sender: DerivedAccount, tmp_path: Any
) -> None:
    import json

    from click.testing import CliRunner

    from chainsig_core.cli import cli

    ledger.fund(_own_spk(btc, sender, "p2wpkh"), 1_000_000)
    who = ["--network", "dev", "--account", sender.account_id, "--path", sender.path]
    runner = CliRunner()
    sent = runner.invoke(cli, ["send", *who, "--chain", "bitcoin", "--to", RECIPIENT, "--amount", "0.001",
                               "--rpc-url", esplora.url, "--json"])
    assert sent.exit_code == 0, sent.output
    out = json.loads(sent.stdout)
    assert out["status"] == "broadcast" and out["tx_hash"] in ledger.mempool
    # prepare → finalize --sign → broadcast, spending the change
    bundle, signed = tmp_path / "b.json", tmp_path / "s.json"
    assert runner.invoke(cli, ["prepare", *who, "--chain", "bitcoin", "--to", RECIPIENT, "--amount", "0.002",
                               "--rpc-url", esplora.url, "-o", str(bundle)]).exit_code == 0
    assert runner.invoke(cli, ["finalize", str(bundle), "--sign", "-o", str(signed)]).exit_code == 0
    result = runner.invoke(cli, ["broadcast", str(signed), "--rpc-url", esplora.url, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["tx_hash"] == ledger.mempool[-1]
    again = runner.invoke(cli, ["broadcast", str(signed), "--rpc-url", esplora.url])
    assert again.exit_code == 1 and "missingorspent" in again.stderr and "Traceback" not in again.output


def test_an_estimate_above_the_guard_is_named_as_the_estimate(
    esplora: Any, ledger: Any, btc: Any, sender: DerivedAccount
) -> None:
    """The back end's estimate (87.882 sat/vB for 1 block) over a configured 50 sat/vB guard:
    the message says the estimate, not a --fee-rate the user never gave, and which limit applies."""
    ledger.fund(_own_spk(btc, sender, "p2wpkh"), 200_000)
    endpoint = ChainEndpoint(esplora.url, {"max_fee_rate": 50})
    request = TransferRequest(sender, RECIPIENT, "0.001", options={"conf_target": 1})
    with pytest.raises(InvalidInputError) as info:
        btc.prepare(request, "regtest", endpoint)
    assert str(info.value) == (
        "the back end's fee estimate for a 1-block target 87.882 sat/vB is above the guard against absurd fees, "
        "at most 50 sat/vB (max_fee_rate in [chains.bitcoin.regtest]; raise it there if you mean this rate)"
    )


@pytest.mark.parametrize(("url", "message"), [
    ("notaurl", "the bitcoin back-end URL is not a URL: it does not start with http:// or https://"),
    ("ftp://alice:s3cret@node.example/KEY123", "the bitcoin back-end URL has scheme 'ftp': it must be http:// or https://"),
    ("http://", "the bitcoin back-end URL names no host after http://"),
    ("http://alice:s3cret@node.example:99999/KEY123", "the bitcoin back-end URL is not a valid URL"),
])
def test_invalid_backend_urls_never_echo_credentials(btc: Any, url: str, message: str) -> None:
    """Was 'cannot reach esplora at ftp://x/KEY123: UnsupportedProtocol' (path echoed)."""
    for kind in ("esplora", "core"):
        with pytest.raises(InvalidInputError) as info:
            btc.balance(RECIPIENT, "regtest", ChainEndpoint(url, {"backend": kind}))
        assert str(info.value) == f"{message} (--rpc-url, or rpc_url in [chains.bitcoin.regtest])"
