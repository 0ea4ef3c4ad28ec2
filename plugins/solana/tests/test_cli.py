"""``chainsig send/prepare/finalize/broadcast/balance --chain solana`` against the local RPC."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from chainsig_core.cli import cli


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Any:
    from chainsig_core import plugins

    monkeypatch.setenv("CHAINSIG_LOAD_PLUGINS", "solana")
    plugins.reset()

    def invoke(*args: str) -> Any:
        cli._prepared = False
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    yield invoke
    plugins.reset()


@pytest.fixture
def funded(local_rpc: Any, sender: Any) -> Any:
    from solders.pubkey import Pubkey

    local_rpc.node.airdrop(Pubkey.from_string(sender.address), 5 * 10**9)
    return sender


BASE = ("--network", "dev", "--chain", "solana", "--account", "alice.near", "--path", "solana-1")


def test_derive_and_chains_list_solana(run) -> None:
    result = run("derive", "--chain", "solana", "--account", "example.near", "--path", "ethereum-1", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["address"] == "GLLMegupbxhukwpfExph4xU2yRRyJJeeHf7kGkEE32mE" and out["chain_network"] == "mainnet-beta"
    assert "solana" in run("chains").output


def test_send_dry_run_then_send_and_balance(run, local_rpc, funded, new_keypair) -> None:
    to = str(new_keypair().pubkey())
    dry = run("send", *BASE, "--to", to, "--amount", "0.5", "--rpc-url", local_rpc.url, "--dry-run", "--json", "--v0")
    assert dry.exit_code == 0, dry.output
    out = json.loads(dry.stdout)
    assert out["status"] == "signed" and out["from"] == funded.address and out["amount"] == "0.5"
    from solders.transaction import VersionedTransaction

    tx = VersionedTransaction.from_bytes(base64.b64decode(out["raw"]))
    assert str(tx.signatures[0]) == out["tx_hash"] and all(tx.verify_with_results())
    sent = run("send", *BASE, "--to", to, "--amount", "500000000lamports", "--rpc-url", local_rpc.url, "--json", "--priority-fee", "10")
    assert sent.exit_code == 0, sent.output
    assert json.loads(sent.stdout)["status"] == "confirmed"
    balance = run("balance", "--chain", "solana", "--network", "dev", "--address", to, "--rpc-url", local_rpc.url, "--json")
    assert balance.exit_code == 0, balance.output
    assert json.loads(balance.stdout)["amount"] == "0.5" and json.loads(balance.stdout)["base_units"] == "500000000"
    mine = run("balance", "--chain", "solana", "--network", "dev", "--account", "alice.near", "--path", "solana-1", "--rpc-url", local_rpc.url)
    assert mine.exit_code == 0 and funded.address in mine.output


def test_prepare_finalize_broadcast_files(run, local_rpc, funded, new_keypair, tmp_path: Path) -> None:
    to = str(new_keypair().pubkey())
    bundle, signed = tmp_path / "bundle.json", tmp_path / "signed.json"
    result = run("prepare", *BASE, "--to", to, "--amount", "0.125", "--rpc-url", local_rpc.url, "-o", str(bundle))
    assert result.exit_code == 0, result.output
    data = json.loads(bundle.read_text())
    assert data["chain"] == "solana" and data["payloads"][0]["domain_id"] == 1
    assert bytes.fromhex(data["payloads"][0]["payload"]) == base64.b64decode(data["tx"]["message"])
    result = run("finalize", str(bundle), "--sign", "-o", str(signed))
    assert result.exit_code == 0, result.output
    result = run("broadcast", str(signed), "--rpc-url", local_rpc.url, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "confirmed"
    balance = run("balance", "--chain", "solana", "--network", "dev", "--address", to, "--rpc-url", local_rpc.url, "--json")
    assert json.loads(balance.stdout)["amount"] == "0.125"


def test_offline_prepare_needs_no_rpc(run, tmp_path: Path, new_keypair) -> None:
    bundle = tmp_path / "b.json"
    result = run("prepare", *BASE, "--to", str(new_keypair().pubkey()), "--amount", "1",
                 "--blockhash", "CmpNeggWJ4JaWJeJ8YKN1Zypmk7uvQq3PECGUCAEMbky", "--rpc-url", "http://127.0.0.1:9", "-o", str(bundle))
    assert result.exit_code == 0, result.output
    assert json.loads(bundle.read_text())["tx"]["recent_blockhash"] == "CmpNeggWJ4JaWJeJ8YKN1Zypmk7uvQq3PECGUCAEMbky"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--to", "0OIl0OIl", "--amount", "1"), "not valid base58"),
        (("--to", "11111111111111111111111111111112", "--amount", "-1"), "negative"),
        (("--to", "11111111111111111111111111111112", "--amount", "0.0000000001"), "decimals"),
        (("--to", "11111111111111111111111111111112", "--amount", "1", "--token", "11111111111111111111111111111113"), "unknown mint"),
        (("--to", "11111111111111111111111111111112", "--amount", "1000"), "needs"),
        (("--to", "11111111111111111111111111111112", "--amount", "1", "--priority-fee", "-3"), "--priority-fee"),
        (("--to", "11111111111111111111111111111112", "--amount", "1", "--instructions", "/does/not/exist.json"), "cannot read"),
    ],
)
def test_bad_input_is_one_line(run, local_rpc, funded, args, needle) -> None:
    result = run("send", *BASE, *args, "--rpc-url", local_rpc.url, "--dry-run")
    assert result.exit_code != 0
    assert needle in result.stderr and "Traceback" not in result.output + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 or all("warning" in line.lower() for line in result.stderr.strip().splitlines()[:-1])
