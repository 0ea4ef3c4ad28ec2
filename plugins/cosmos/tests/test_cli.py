"""chainsig's own commands with the Cosmos plugin installed like any other distribution:
listing, blocking, derive, offline prepare/finalize, and send against the REST stand-in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from chainsig_core.cli import cli

TO = "cosmos1w508d6qejxtdg4y5r3zarvary0c5xw7k6ah60c"


@pytest.fixture
def run(chainsig_config: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CHAINSIG_LOAD_PLUGINS", "cosmos")

    def invoke(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        cli._prepared = False
        return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)

    return invoke


def chainsig(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The installed ``chainsig`` entry point in a fresh process (real plugin discovery)."""
    return subprocess.run(
        [sys.executable, "-m", "chainsig_core", *args], capture_output=True, text=True, timeout=120,
        env={**os.environ, **env},
    )


def test_chains_and_plugins_list_cosmos_and_block_hides_it() -> None:
    shown = chainsig("chains", "--json")
    assert shown.returncode == 0, shown.stderr
    cosmos = next(row for row in json.loads(shown.stdout) if row["chain"] == "cosmos")
    assert cosmos == {"chain": "cosmos", "domain_id": 0, "curve": "secp256k1", "symbol": "ATOM",
                      "chain_networks": ["mainnet", "testnet", "local"], "address_types": []}
    plugins = json.loads(chainsig("plugins", "--json").stdout)
    assert {"name": "cosmos", "module": "chainsig_cosmos", "distribution": "chainsig-cosmos",
            "version": "0.1.0", "loaded": True, "error": None} in plugins
    blocked = chainsig("chains", "--json", CHAINSIG_BLOCK_PLUGINS="cosmos")
    assert blocked.returncode == 0, blocked.stderr
    assert "cosmos" not in {row["chain"] for row in json.loads(blocked.stdout)}
    assert "cosmos" not in {p["name"] for p in json.loads(chainsig("plugins", "--json", CHAINSIG_BLOCK_PLUGINS="cosmos").stdout)}
    refused = chainsig("derive", "--chain", "cosmos", "--account", "a.near", "--path", "p", CHAINSIG_BLOCK_PLUGINS="cosmos")
    assert refused.returncode != 0 and "unknown chain 'cosmos'" in refused.stderr and "Traceback" not in refused.stderr


def test_derive_shows_the_cosmos_address(run) -> None:  # type: ignore[no-untyped-def]
    result = run("derive", "--chain", "cosmos", "--network", "dev", "--account", "alice.near", "--path", "x", "--json")
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)
    assert (row["chain_network"], row["address"]) == ("local", "cosmos1m05euq6cf3rhdsdmcgynwspvrhdwhxu4q5m539")
    mainnet = json.loads(run("derive", "--chain", "cosmos", "--account", "alice.near", "--path", "x", "--json").stdout)
    assert mainnet["chain_network"] == "mainnet" and mainnet["address"].startswith("cosmos1")


def test_send_through_the_cli_against_rest(run, cosmos_node, chainsig_config) -> None:  # type: ignore[no-untyped-def]
    chainsig_config.write_text('[chains.cosmos.local]\npoll_interval = 0.01\nconfirm_timeout = 1\n')
    sender = json.loads(run("derive", "--chain", "cosmos", "--network", "dev", "--account", "alice.near",
                            "--path", "cosmos-1", "--json").stdout)["address"]
    cosmos_node.fund(sender, 3_000_000)
    result = run("send", "--network", "dev", "--chain", "cosmos", "--account", "alice.near", "--path", "cosmos-1",
                 "--to", TO, "--amount", "1.5", "--memo", "hi", "--rpc-url", cosmos_node.url, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["status"] == "confirmed" and out["from"] == sender and out["to"] == TO and out["amount"] == "1.5"
    assert len(cosmos_node.submitted) == 1
    balance = run("balance", "--chain", "cosmos", "--chain-network", "local", "--address", sender,
                  "--rpc-url", cosmos_node.url, "--json")
    assert json.loads(balance.stdout)["base_units"] == "3000000"


def test_offline_prepare_then_finalize(run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bundle = tmp_path / "bundle.json"
    prepared = run("prepare", "--network", "dev", "--chain", "cosmos", "--account", "alice.near", "--path", "p",
                   "--to", TO, "--amount", "0.25", "--account-number", "5", "--sequence", "0", "--output", str(bundle))
    assert prepared.exit_code == 0, prepared.output
    assert json.loads(bundle.read_text())["summary"]["base_units"] == "250000"
    finalized = run("finalize", str(bundle), "--sign")
    assert finalized.exit_code == 0, finalized.output
    out = json.loads(finalized.stdout)
    assert out["chain"] == "cosmos" and len(out["tx_hash"]) == 64 and out["tx_hash"].isupper()
    assert out["details"]["sequence"] == "0" and out["details"]["account_number"] == "5"


@pytest.mark.parametrize(("args", "message"), [
    (["--to", "osmo1w508d6qejxtdg4y5r3zarvary0c5xw7kjxy2e2"], "has prefix 'osmo', expected 'cosmos'"),
    (["--to", TO, "--amount", "0.0000001"], "more than 6 decimals"),
    (["--to", TO, "--sequence", "1"], "both --account-number and --sequence"),
    (["--to", TO, "--account-number", "1", "--sequence", "1", "--memo", "m" * 300], "memo is longer"),
])
def test_errors_are_one_line(run, args, message) -> None:  # type: ignore[no-untyped-def]
    base = ["send", "--network", "dev", "--chain", "cosmos", "--account", "alice.near", "--path", "p", "--dry-run"]
    if "--amount" not in args:
        args = [*args, "--amount", "1"]
    result = run(*base, *args)
    assert result.exit_code != 0
    assert message in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(("args", "message"), [
    (["--account-number", "1", "--sequence", "0", "--nonce", "3", "--utxos", "x"],
     "unknown cosmos option(s): --nonce, --utxos (cosmos takes: --account-number, --fee, --gas-limit, --memo, --sequence)"),
    (["--account-number", "1", "--sequence", "0", "--data", "0x00", "--fee-rate", "2", "--v0"],
     "unknown cosmos option(s): --data, --fee-rate, --v0 (cosmos takes: "),
    (["--gas", "5", "--blockhash", "abc", "--max-fee", "1", "--conf-target", "2"],
     "unknown cosmos option(s): --blockhash, --conf-target, --gas, --max-fee (cosmos takes: "),
])
def test_other_chains_options_are_refused(chainsig_config: Path, monkeypatch: pytest.MonkeyPatch, args, message) -> None:  # type: ignore[no-untyped-def]
    """With every chain installed, the other chains' flags exist on ``send``/``prepare``: Cosmos
    refuses them with one line instead of dropping them (review s3 item 4)."""
    monkeypatch.delenv("CHAINSIG_LOAD_PLUGINS", raising=False)
    for command in ("send", "prepare"):
        result = CliRunner().invoke(cli, [
            command, "--network", "dev", "--chain", "cosmos", "--account", "alice.near", "--path", "p",
            "--to", TO, "--amount", "1", *args,
        ])
        assert result.exit_code == 2, result.output
        assert message in result.stderr and "Traceback" not in result.output
        assert len(result.stderr.strip().splitlines()) == 1
