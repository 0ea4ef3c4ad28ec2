"""The core commands (send, balance, prepare/finalize/broadcast) with the EVM chains, on anvil."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from chainsig_core.cli import cli

pytestmark = pytest.mark.anvil

RECIPIENT = "0x000000000000000000000000000000000000dEaD"


def _run(*args: str) -> object:
    return CliRunner().invoke(cli, list(args))


def test_send_and_balance_json(evm_config, anvil_base, derived, unique_path) -> None:
    sender = derived(unique_path)
    anvil_base.set_balance(sender, 10**18)
    out = _run("send", "--chain", "base", "--network", "dev", "--account", "dev.near", "--path", unique_path,
               "--to", RECIPIENT, "--amount", "0.25", "--json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data == {**data, "network": "dev", "chain": "base", "chain_network": "local", "from": sender,
                    "to": RECIPIENT, "amount": "0.25", "status": "confirmed"}
    assert anvil_base.rpc("eth_getTransactionReceipt", data["tx_hash"])["status"] == "0x1"

    out = _run("balance", "--chain", "base", "--network", "dev", "--account", "dev.near", "--path", unique_path, "--json")
    assert out.exit_code == 0, out.output
    balance = json.loads(out.stdout)
    assert balance["address"] == sender and int(balance["base_units"]) == anvil_base.balance(sender)
    assert balance["symbol"] == "ETH" and balance["decimals"] == 18


def test_prepare_finalize_broadcast_files(evm_config, anvil_eth, derived, unique_path, tmp_path) -> None:
    sender = derived(unique_path, "ethereum")
    anvil_eth.set_balance(sender, 10**18)
    bundle, signed = tmp_path / "bundle.json", tmp_path / "signed.json"
    out = _run("prepare", "--chain", "ethereum", "--network", "dev", "--account", "dev.near", "--path", unique_path,
               "--to", RECIPIENT, "--amount", "1000wei", "--legacy", "-o", str(bundle))
    assert out.exit_code == 0, out.output
    data = json.loads(bundle.read_text())
    assert data["tx"]["type"] == 0 and data["tx"]["chainId"] == 1 and len(data["payloads"]) == 1

    # sign on "another machine": the signatures file holds the sign --json output
    sig = _run("sign", "--network", "dev", "--account", "dev.near", "--path", unique_path,
               "--payload", data["payloads"][0]["payload"], "--json")
    assert sig.exit_code == 0, sig.output
    sigs = tmp_path / "sigs.json"
    sigs.write_text(json.dumps([json.loads(sig.stdout)]))
    out = _run("finalize", str(bundle), "--signatures", str(sigs), "-o", str(signed))
    assert out.exit_code == 0, out.output
    out = _run("broadcast", str(signed), "--json")
    assert out.exit_code == 0, out.output
    receipt = json.loads(out.stdout)
    assert receipt["status"] == "confirmed" and receipt["details"]["from"] == sender
    # the same transaction again: the node refuses the used nonce with one line
    again = _run("broadcast", str(signed))
    assert again.exit_code != 0 and again.stderr.startswith("error: ") and "Traceback" not in again.output


def test_offline_prepare_needs_no_node(chainsig_config) -> None:
    out = _run("prepare", "--chain", "base", "--network", "mainnet", "--account", "alice.near", "--path", "evm-1",
               "--to", RECIPIENT, "--amount", "0.5", "--nonce", "4", "--gas", "21000", "--max-fee", "0.05",
               "--priority-fee", "0.001", "--rpc-url", "http://127.0.0.1:9")
    assert out.exit_code == 0, out.output
    tx = json.loads(out.stdout)["tx"]
    assert tx["chainId"] == 8453 and tx["maxFeePerGas"] == 50_000_000 and tx["maxPriorityFeePerGas"] == 1_000_000


@pytest.mark.parametrize(
    ("args", "needle", "code"),
    [
        (["--to", "0x000000000000000000000000000000000000DEAd"], "checksum", 2),
        (["--to", "alice.near"], "not an EVM address", 2),
        (["--amount", "-1"], "negative", 2),
        (["--amount", "0.0000000000000000001"], "18 decimals", 2),
        (["--token", "0x000000000000000000000000000000000000dEaD"], "unknown token", 2),
        (["--amount", "5000"], "needs 5000 ETH", 3),
        (["--rpc-url", "http://127.0.0.1:9"], "cannot reach", 1),
        (["--max-fee", "1.5.5"], "--max-fee", 2),
    ],
)
def test_bad_input_is_one_line(evm_config, anvil_base, derived, unique_path, args, needle, code) -> None:
    anvil_base.set_balance(derived(unique_path), 10**18)
    base = {"--to": RECIPIENT, "--amount": "0.01"}
    pairs = dict(zip(args[::2], args[1::2], strict=True))
    argv = ["send", "--chain", "base", "--network", "dev", "--account", "dev.near", "--path", unique_path]
    for flag, value in {**base, **pairs}.items():
        argv += [flag, value]
    out = _run(*argv)
    assert out.exit_code == code, out.output
    lines = [line for line in out.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and needle in lines[0], out.stderr
    assert "Traceback" not in out.output and out.stdout == ""


def test_token_send_dry_run_and_token_balance(evm_config, anvil_base, derived, unique_path, deploy_token) -> None:
    sender = derived(unique_path)
    anvil_base.set_balance(sender, 10**17)
    token = deploy_token(anvil_base, sender, decimals=2, supply=1000, symbol="CENT")
    common = ["--chain", "base", "--network", "dev", "--account", "dev.near", "--path", unique_path]
    out = _run("send", *common, "--to", RECIPIENT, "--amount", "2.5", "--token", token, "--dry-run", "--json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["status"] == "signed" and data["raw"].startswith("0x02") and data["amount"] == "2.5"
    assert anvil_base.rpc("eth_getTransactionByHash", data["tx_hash"]) is None

    out = _run("send", *common, "--to", RECIPIENT, "--amount", "2.5", "--token", token, "--json")
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["status"] == "confirmed"
    out = _run("balance", *common, "--token", token, "--json")
    assert out.exit_code == 0, out.output
    balance = json.loads(out.stdout)
    assert (balance["amount"], balance["symbol"], balance["decimals"], balance["token"]) == ("7.5", "CENT", 2, token)
