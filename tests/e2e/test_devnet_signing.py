"""The user's main path on the devnet, end to end through real processes: the NEAR contract
signer → the host's signer contract → the dev responder's respond → verified signatures; then
funds moved on anvil (Ethereum, Base) and the local Solana RPC, and a Bitcoin spend verified."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from chainsig_core import derive_address, send, sign
from chainsig_core.cli import cli
from chainsig_core.devnet import status
from chainsig_core.devnet.faucet import fund
from chainsig_core.devnet.processes import DevnetError
from chainsig_core.signatures import verify_signature

ACCOUNT = "alice.devnet"


@pytest.mark.parametrize("domain_id, payload", [(0, hashlib.sha256(b"e2e").digest()), (1, b"an ed25519 message")])
def test_sign_through_the_contract(devnet, domain_id, payload):
    result = sign(account=ACCOUNT, path="e2e", payload=payload, domain_id=domain_id, network="devnet")
    derived = derive_address(chain="ethereum" if domain_id == 0 else "solana", account=ACCOUNT, path="e2e", network="devnet")
    assert result.public_key == derived.public_key
    verify_signature(derived.public_key, payload, result.signature)


@pytest.mark.parametrize("chain", ["ethereum", "base"])
def test_evm_transfer_confirmed_on_anvil(devnet, chain):
    sender = derive_address(chain=chain, account=ACCOUNT, path="e2e-evm", network="devnet")
    fund(devnet, chain, sender.address, "1")
    result = send(chain=chain, account=ACCOUNT, path="e2e-evm", to="0x000000000000000000000000000000000000dEaD",
                  amount="0.25", network="devnet")
    assert result.receipt is not None and result.receipt.status == "confirmed"
    assert result.to_json("devnet")["from"] == sender.address


def test_solana_transfer_on_local_rpc(devnet):
    sender = derive_address(chain="solana", account=ACCOUNT, path="e2e-sol", network="devnet")
    fund(devnet, "solana", sender.address, "2")
    recipient = derive_address(chain="solana", account="bob.devnet", path="e2e-sol", network="devnet").address
    result = send(chain="solana", account=ACCOUNT, path="e2e-sol", to=recipient, amount="0.5", network="devnet")
    assert result.receipt is not None and result.receipt.status == "confirmed"
    runner = CliRunner()
    out = runner.invoke(cli, ["balance", "--network", "devnet", "--chain", "solana", "--address", recipient, "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["amount"] == "0.5"


def test_bitcoin_spend_signed_and_verified(devnet, tmp_path: Path):
    sender = derive_address(chain="bitcoin", account=ACCOUNT, path="e2e-btc", network="devnet")
    utxos = tmp_path / "utxos.json"
    utxos.write_text(json.dumps([
        {"txid": hashlib.sha256(b"funding-1").hexdigest(), "vout": 0, "value": 60_000},
        {"txid": hashlib.sha256(b"funding-2").hexdigest(), "vout": 1, "value": 50_000},
    ]))
    to = derive_address(chain="bitcoin", account="bob.devnet", path="e2e-btc", network="devnet").address
    runner = CliRunner()
    out = runner.invoke(cli, ["send", "--network", "devnet", "--chain", "bitcoin", "--account", ACCOUNT, "--path", "e2e-btc",
                              "--to", to, "--amount", "0.001", "--utxos", str(utxos), "--fee-rate", "2", "--dry-run", "--json"])
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert result["status"] == "signed" and result["from"] == sender.address and result["raw"]


def test_cli_sign_json_contract(devnet):
    runner = CliRunner()
    out = runner.invoke(cli, ["sign", "--network", "devnet", "--account", ACCOUNT, "--path", "cli", "--payload", "42" * 32, "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert set(data) == {"network", "account", "path", "domain_id", "payload", "response", "signature"}


def test_devnet_status_and_faucet_errors(devnet):
    described = status(Path(devnet["root"]))
    assert described["running"] and {s["name"] for s in described["services"]} == {
        "host", "anvil-ethereum", "anvil-base", "solana-local-rpc"}
    with pytest.raises(DevnetError, match="no Bitcoin node"):
        fund(devnet, "bitcoin", "bcrt1qxyz", "1")
