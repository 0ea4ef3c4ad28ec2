"""The command line: derive, send --dry-run, prepare/finalize with PSBT, and bad input —
one clear line, the right exit status, and nothing signed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from chainsig_core.cli import cli
from chainsig_core.signers.dev import DevSigner

RECIPIENT = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"
SENDER = ["--network", "dev", "--account", "alice.near", "--path", "bitcoin-1"]


@pytest.fixture
def signing_calls(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Records every payload the dev signer is asked to sign."""
    calls: list[Any] = []
    original = DevSigner._request_signature

    async def recording(self: DevSigner, request: Any) -> Any:
        calls.append(request)
        return await original(self, request)

    monkeypatch.setattr(DevSigner, "_request_signature", recording)
    return calls


def _run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def test_derive_json(vectors: Any) -> None:
    row = next(r for r in vectors("derivation.json")["derived"] if r["network"] == "testnet")
    result = _run("derive", "--network", "testnet", "--chain", "bitcoin", "--account", row["account"],
                  "--path", row["path"], "--address-type", "p2pkh", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["address"] == row["btc_p2pkh"] and out["chain_network"] == "testnet" and out["address_type"] == "p2pkh"
    result = _run("derive", "--network", "testnet", "--chain", "bitcoin", "--chain-network", "signet",
                  "--account", row["account"], "--path", row["path"], "--json")
    assert json.loads(result.stdout)["address"] == row["btc_p2wpkh"]


@pytest.mark.parametrize("kind", ["p2wpkh", "p2pkh"])
def test_send_dry_run_prints_verified_raw(kind: str, utxo_file: Callable[..., Path], signing_calls: list[Any]) -> None:
    from btclib.tx.tx import Tx

    path = utxo_file(30_000, 40_000)
    result = _run("send", *SENDER, "--chain", "bitcoin", "--to", RECIPIENT, "--amount", "0.0006",
                  "--address-type", kind, "--utxos", str(path), "--fee-rate", "2", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["status"] == "signed" and out["amount"] == "0.0006" and out["chain_network"] == "regtest"
    assert Tx.parse(bytes.fromhex(out["raw"])).id.hex() == out["tx_hash"]
    assert len(signing_calls) == 2


def test_prepare_finalize_and_psbt_commands(tmp_path: Path, utxo_file: Callable[..., Path]) -> None:
    bundle, signed, psbt_file = tmp_path / "bundle.json", tmp_path / "signed.json", tmp_path / "tx.psbt"
    result = _run("prepare", *SENDER, "--chain", "bitcoin", "--to", RECIPIENT, "--amount", "25000sat",
                  "--utxos", str(utxo_file(100_000)), "--fee-rate", "3", "--no-rbf", "-o", str(bundle))
    assert result.exit_code == 0, result.output
    data = json.loads(bundle.read_text())
    assert data["summary"]["rbf"] is False and data["summary"]["amount_sats"] == 25_000
    assert _run("bitcoin", "psbt-export", str(bundle), "-o", str(psbt_file)).exit_code == 0
    # another wallet's PSBT becomes a bundle for the same key, with the same payloads
    imported = _run("bitcoin", "psbt-import", str(psbt_file), *SENDER)
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.stdout)["payloads"] == data["payloads"]
    result = _run("finalize", str(bundle), "--sign", "-o", str(signed))
    assert result.exit_code == 0, result.output
    signed_psbt = _run("bitcoin", "psbt-export", str(signed))
    assert signed_psbt.exit_code == 0 and signed_psbt.stdout.strip().startswith("cHNidP")
    # wrong sender for the PSBT
    other = _run("bitcoin", "psbt-import", str(psbt_file), "--network", "dev", "--account", "bob.near", "--path", "x")
    assert other.exit_code == 2 and "not locked to the derived key" in other.output


def _one_line_error(result: Any, code: int, fragment: str) -> None:
    assert result.exit_code == code, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and fragment in lines[0], result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args,code,fragment",
    [
        (("--to", "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt081", "--amount", "0.0001"), 2, "checksum"),
        (("--to", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "--amount", "0.0001"), 2, "not bitcoin regtest"),
        (("--to", "0x1234", "--amount", "0.0001"), 2, "not a bitcoin address"),
        (("--to", RECIPIENT, "--amount", "200sat"), 2, "dust"),
        (("--to", RECIPIENT, "--amount", "0"), 2, "dust"),
        (("--to", RECIPIENT, "--amount", "0.000000001"), 2, "decimals"),
        (("--to", RECIPIENT, "--amount", "-1"), 2, "negative"),
        (("--to", RECIPIENT, "--amount", "1"), 3, "insufficient funds"),
        (("--to", RECIPIENT, "--amount", "0.0001", "--fee-rate", "5000"), 2, "guard"),
        (("--to", RECIPIENT, "--amount", "0.0001", "--fee-rate", "0.5"), 2, "minimum relay"),
        (("--to", RECIPIENT, "--amount", "0.0001", "--fee-rate", "abc"), 2, "not a number"),
        (("--to", RECIPIENT, "--amount", "0.0001", "--fee-rate", "1e3"), 2, "no exponent"),
        (("--to", RECIPIENT, "--amount", "0.0001", "--fee-rate", "1000.001"), 2, "at most 1000 sat/vB"),
        (("--to", RECIPIENT, "--amount", "0.0001", "--fee-rate", "2", "--conf-target", "3"), 2, "give one of them"),
        (("--to", RECIPIENT, "--amount", "0.0001", "--token", "USDT"), 2, "no tokens"),
        (("--to", RECIPIENT, "--amount", "0.0001", "--address-type", "p2tr"), 2, "unknown address type"),
        (("--to", RECIPIENT, "--amount", "0.0001", "--chain-network", "litecoin"), 2, "unknown chain network"),
    ],
)
def test_bad_send_input(args: tuple[str, ...], code: int, fragment: str, utxo_file: Callable[..., Path], signing_calls: list[Any]) -> None:
    base = ["send", *SENDER, "--chain", "bitcoin", "--utxos", str(utxo_file(50_000)), "--dry-run"]
    if "--fee-rate" not in args:
        base += ["--fee-rate", "2"]
    _one_line_error(_run(*base, *args), code, fragment)
    assert signing_calls == []


@pytest.mark.parametrize(
    "args,unknown",
    [
        (("--data", "0x00"), "data"),
        (("--memo", "hi"), "memo"),
        (("--nonce", "5"), "nonce"),
        (("--gas", "5"), "gas"),
        (("--blockhash", "abc"), "blockhash"),
        (("--v0",), "v0"),
        (("--max-fee", "5"), "max_fee"),
        (("--account-number", "1", "--sequence", "0"), "account_number, sequence"),
        (("--blockhash", "abc", "--max-fee", "5", "--memo", "hi", "--v0", "--data", "0x00", "--gas", "5", "--nonce", "5"),
         "blockhash, data, gas, max_fee, memo, nonce, v0"),
    ],
)
def test_other_chains_options_are_refused(
    args: tuple[str, ...], unknown: str, utxo_file: Callable[..., Path], signing_calls: list[Any]
) -> None:
    """An option of another chain is never silently dropped (review s3 item 4)."""
    for command in ("send", "prepare"):
        result = _run(command, *SENDER, "--chain", "bitcoin", "--to", RECIPIENT, "--amount", "0.0001",
                      "--utxos", str(utxo_file(50_000)), "--fee-rate", "2", *args)
        flags = ", ".join("--" + name.replace("_", "-") for name in unknown.split(", "))
        _one_line_error(result, 2, f"unknown bitcoin option(s): {flags} (bitcoin takes: --conf-target, --fee-rate, "
                                   "--no-rbf, --utxos)")
    assert signing_calls == []


@pytest.mark.parametrize("target", ["0", "-3", "1009"])
def test_conf_target_out_of_range_is_refused_before_any_backend(target: str, signing_calls: list[Any]) -> None:
    result = _run("send", *SENDER, "--chain", "bitcoin", "--to", RECIPIENT, "--amount", "0.0001",
                  "--conf-target", target, "--rpc-url", "http://127.0.0.1:9", "--dry-run")
    _one_line_error(result, 2, "--conf-target must be a whole number of blocks from 1 to 1008")
    assert signing_calls == []


@pytest.mark.parametrize(
    "content,fragment",
    [
        ("not json", "not valid JSON"),
        ('{"txid": "00"}', "JSON list"),
        ('[{"txid": "zz", "vout": 0, "value": 1000}]', "txid"),
        ('[{"txid": "' + "ab" * 32 + '", "vout": -1, "value": 1000}]', "vout"),
        ('[{"txid": "' + "ab" * 32 + '", "vout": 0, "value": 0.001}]', "integer number of satoshis"),
        ('[{"txid": "' + "ab" * 32 + '", "vout": 0, "value": 1000, "amount": 1}]', "unknown field"),
        ('[{"txid": "' + "ab" * 32 + '", "vout": 0, "value": 1000}, {"txid": "' + "ab" * 32 + '", "vout": 0, "value": 1000}]', "twice"),
        ('[{"txid": "' + "ab" * 32 + '", "vout": 0, "value": 100000, "scriptPubKey": "0014' + "00" * 20 + '"}]', "not locked to the sender"),
    ],
)
def test_malformed_utxo_file(content: str, fragment: str, tmp_path: Path, signing_calls: list[Any]) -> None:
    path = tmp_path / "utxos.json"
    path.write_text(content)
    result = _run("send", *SENDER, "--chain", "bitcoin", "--to", RECIPIENT, "--amount", "0.0001",
                  "--utxos", str(path), "--fee-rate", "2", "--dry-run")
    _one_line_error(result, 2, fragment)
    assert signing_calls == []


def test_missing_utxo_file_and_no_endpoint(tmp_path: Path, signing_calls: list[Any]) -> None:
    base = ["send", *SENDER, "--chain", "bitcoin", "--to", RECIPIENT, "--amount", "0.0001", "--dry-run"]
    _one_line_error(_run(*base, "--utxos", str(tmp_path / "nope.json"), "--fee-rate", "2"), 2, "cannot read UTXO file")
    _one_line_error(_run(*base, "--fee-rate", "2"), 2, "no bitcoin regtest endpoint")
    assert signing_calls == []


def test_balance_through_esplora(esplora: Any, ledger: Any) -> None:
    from chainsig_bitcoin.addresses import decode_address

    ledger.fund(decode_address(RECIPIENT, "regtest"), 123_456)
    result = _run("balance", "--chain", "bitcoin", "--chain-network", "regtest", "--address", RECIPIENT,
                  "--rpc-url", esplora.url, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["amount"] == "0.00123456"
    _one_line_error(_run("balance", "--chain", "bitcoin", "--chain-network", "regtest", "--address", "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
                         "--rpc-url", esplora.url), 2, "not bitcoin regtest")


def test_a_sender_in_an_added_domain_prepares_imports_bumps_and_finalizes(
    tmp_path: Path, utxo_file: Callable[..., Path], chainsig_config: Path
) -> None:
    """Network ``added`` has a secp256k1 domain 2 of its own (as after ``vote add-domains``):
    ``--domain 2`` spends from domain 2's address, every input's payload is for domain 2, PSBT
    import and fee bumping keep it, and only domain 2's derived key finalizes the bundle."""
    from chainsig_core.config import register_network
    from chainsig_core.derive import derive_address
    from chainsig_core.kdf import derive_secret_key
    from chainsig_core.keys import Curve
    from chainsig_core.signers.dev import dev_root_public_key, dev_root_secret, ecdsa_sign_with_scalar

    seed = "bitcoin-domain-2"
    register_network("added", rpc_url="http://127.0.0.1:9", contract_id="v1.signer.added", credentials_dir=tmp_path,
                     root_public_keys={0: dev_root_public_key(Curve.SECP256K1), 2: dev_root_public_key(Curve.SECP256K1, seed)})
    sender = ["--network", "added", "--account", "alice.near", "--path", "bitcoin-1"]
    bundle, psbt_file, bumped = tmp_path / "bundle.json", tmp_path / "tx.psbt", tmp_path / "bumped.json"
    result = _run("prepare", *sender, "--chain", "bitcoin", "--to", RECIPIENT, "--amount", "40000sat",
                  "--utxos", str(utxo_file(20_000, 30_000)), "--fee-rate", "3", "--domain", "2", "-o", str(bundle))
    assert result.exit_code == 0, result.output
    data = json.loads(bundle.read_text())
    second = derive_address(chain="bitcoin", account="alice.near", path="bitcoin-1", network="added", domain_id=2)
    assert data["from"] == second.address and data["sender"]["domain_id"] == 2
    assert len(data["payloads"]) == 2 and {p["domain_id"] for p in data["payloads"]} == {2}

    assert _run("bitcoin", "psbt-export", str(bundle), "-o", str(psbt_file)).exit_code == 0
    imported = _run("bitcoin", "psbt-import", str(psbt_file), *sender, "--domain", "2")
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.stdout)["payloads"] == data["payloads"]
    assert json.loads(imported.stdout)["sender"] == data["sender"]
    default = _run("bitcoin", "psbt-import", str(psbt_file), *sender)  # domain 0's key does not own the inputs
    assert default.exit_code == 2 and "not locked to the derived key" in default.output

    bump = _run("bitcoin", "bump-fee", str(bundle), "--fee-rate", "20", "-o", str(bumped))
    assert bump.exit_code == 0, bump.output
    replacement = json.loads(bumped.read_text())
    assert replacement["sender"] == data["sender"] and {p["domain_id"] for p in replacement["payloads"]} == {2}
    mixed = _run("bitcoin", "bump-fee", str(bundle), "--fee-rate", "20", "--domain", "2")
    assert mixed.exit_code == 2 and "--domain goes with --txid" in mixed.stderr

    secret = derive_secret_key(Curve.SECP256K1, dev_root_secret(Curve.SECP256K1, seed), "alice.near", "bitcoin-1")
    signatures = [ecdsa_sign_with_scalar(secret, bytes.fromhex(p["payload"])).to_json() for p in replacement["payloads"]]
    (tmp_path / "sigs.json").write_text(json.dumps(signatures))
    final = _run("finalize", str(bumped), "--signatures", str(tmp_path / "sigs.json"))
    assert final.exit_code == 0, final.output
