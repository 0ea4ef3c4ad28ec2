"""``send``/``prepare``/``finalize --sign`` from addresses derived in added domains, through
the NEAR contract signer and the fake contract (domain 2 secp256k1, 3 ed25519 — conftest.py).

The chains are real plugins offline (EVM with every online value given, Solana with a fixed
blockhash) and ``--dry-run``: the transaction is signed by the contract in the sender's domain,
verified against the key derived from that domain's root, and finalized — not broadcast.
"""

from __future__ import annotations

import base64
import json

import pytest
from click.testing import CliRunner

from chainsig_core.cli import cli
from chainsig_core.config import register_network
from chainsig_core.derive import derive_address
from chainsig_core.errors import UnknownNameError
from chainsig_core.flow import prepare, send
from chainsig_core.kdf import derive_public_key
from chainsig_core.types import Prepared

ACCOUNT = "alice.testnet"
EVM_RECIPIENT = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
SOLANA_RECIPIENT = "GLLMegupbxhukwpfExph4xU2yRRyJJeeHf7kGkEE32mE"
BLOCKHASH = "CmpNeggWJ4JaWJeJ8YKN1Zypmk7uvQq3PECGUCAEMbky"
EVM_OFFLINE = ["--chain-network", "local", "--nonce", "0", "--gas", "21000", "--max-fee", "20",
               "--priority-fee", "1", "--chain-id", "31337"]


@pytest.fixture
def neartest(fake_near, domain_root, tmp_path):
    """``neartest`` with the root keys of all four domains configured (derivation is offline)."""
    register_network("neartest", rpc_url=fake_near.url, contract_id="v1.signer-dev.testnet",
                     credentials_dir=tmp_path / "creds", family="testnet",
                     root_public_keys={d: domain_root(d) for d in range(4)})
    fake_near.near.pending_polls = 0
    return fake_near


def sign_calls(near) -> list[dict]:
    """The ``sign`` arguments the fake contract received, in order."""
    calls = []
    for record in near.txs.values():
        (action,) = record["transaction"]["actions"]
        calls.append(json.loads(base64.b64decode(action["FunctionCall"]["args"]))["request"])
    return calls


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_cli_send_from_a_domain_2_evm_address(neartest, domain_root):
    from eth_account import Account

    result = run("send", "--network", "neartest", "--chain", "ethereum", "--account", ACCOUNT, "--path", "eth-2",
                 "--to", EVM_RECIPIENT, "--amount", "0.01", *EVM_OFFLINE, "--domain", "2", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    second = derive_address(chain="ethereum", account=ACCOUNT, path="eth-2", network="neartest",
                            chain_network="local", domain_id=2)
    assert second.public_key == derive_public_key(domain_root(2), ACCOUNT, "eth-2")
    assert (out["status"], out["from"], out["domain_id"]) == ("signed", second.address, 2)
    assert Account.recover_transaction(out["raw"]) == second.address  # the chain sees domain 2's address
    (call,) = sign_calls(neartest.near)
    assert call["domain_id"] == 2 and call["path"] == "eth-2" and set(call["payload_v2"]) == {"Ecdsa"}

    default = run("send", "--network", "neartest", "--chain", "ethereum", "--account", ACCOUNT, "--path", "eth-2",
                  "--to", EVM_RECIPIENT, "--amount", "0.01", *EVM_OFFLINE, "--dry-run", "--json")
    assert default.exit_code == 0, default.output
    plain = json.loads(default.stdout)
    assert "domain_id" not in plain and plain["from"] != second.address
    assert Account.recover_transaction(plain["raw"]) == plain["from"]
    assert [c["domain_id"] for c in sign_calls(neartest.near)] == [2, 0]


def test_library_send_from_a_domain_3_solana_address(neartest, domain_root):
    from solders.transaction import VersionedTransaction

    result = send(chain="solana", account=ACCOUNT, path="sol-3", to=SOLANA_RECIPIENT, amount="0.5",
                  network="neartest", chain_network="local", options={"blockhash": BLOCKHASH},
                  dry_run=True, domain_id=3)
    key3 = derive_public_key(domain_root(3), ACCOUNT, "sol-3")
    assert result.prepared.sender.domain_id == 3 and result.prepared.sender.public_key == key3
    assert result.prepared.from_address == key3.base58 and result.to_json("neartest")["domain_id"] == 3
    tx = VersionedTransaction.from_bytes(base64.b64decode(result.signed.raw))
    assert str(tx.message.account_keys[0]) == key3.base58
    assert tx.verify_with_results() == [True]  # Ed25519 by domain 3's derived key
    (call,) = sign_calls(neartest.near)
    assert call["domain_id"] == 3 and set(call["payload_v2"]) == {"Eddsa"}


def test_prepare_then_finalize_sign_of_a_domain_2_bundle(neartest, tmp_path):
    from eth_account import Account

    bundle_file = tmp_path / "bundle.json"
    done = run("prepare", "--network", "neartest", "--chain", "ethereum", "--account", ACCOUNT, "--path", "eth-2",
               "--to", EVM_RECIPIENT, "--amount", "0.01", *EVM_OFFLINE, "--domain", "2", "-o", str(bundle_file))
    assert done.exit_code == 0, done.output
    bundle = json.loads(bundle_file.read_text())
    assert bundle["sender"]["domain_id"] == 2 and [p["domain_id"] for p in bundle["payloads"]] == [2]
    signed_file = tmp_path / "signed.json"
    final = run("finalize", str(bundle_file), "--sign", "-o", str(signed_file))
    assert final.exit_code == 0, final.output
    signed = json.loads(signed_file.read_text())
    assert Account.recover_transaction(signed["raw"]) == bundle["from"]
    assert [c["domain_id"] for c in sign_calls(neartest.near)] == [2]
    # the same bundle with its sender's domain dropped (as an altered or mis-edited file) is refused
    # before any request reaches the contract
    bundle["sender"].pop("domain_id")
    bundle_file.write_text(json.dumps(bundle))
    refused = run("finalize", str(bundle_file), "--sign")
    assert refused.exit_code != 0
    assert "payload 0 of the bundle is for domain 2, but its sender's key is derived in domain 0" in refused.stderr
    assert len(sign_calls(neartest.near)) == 1


def test_an_unconfigured_added_domain_is_one_clear_error_before_signing(fake_near):
    """``neartest`` as the fixture registers it: root keys of domains 0 and 1 only. Signing would
    read domain 2's key from the contract, but derivation is offline and needs it configured."""
    with pytest.raises(UnknownNameError, match=r"the root key of domain 2 on network 'neartest' is not known yet: set root_public_keys\.2"):
        prepare(chain="ethereum", account=ACCOUNT, path="eth-2", to=EVM_RECIPIENT, amount="0.01",
                network="neartest", chain_network="local", domain_id=2,
                options={"nonce": 0, "gas": 21000, "max_fee": "20", "priority_fee": "1", "chain_id": 31337})
    result = run("send", "--network", "neartest", "--chain", "ethereum", "--account", ACCOUNT, "--path", "eth-2",
                 "--to", EVM_RECIPIENT, "--amount", "0.01", *EVM_OFFLINE, "--domain", "2", "--dry-run")
    assert result.exit_code != 0 and "root key of domain 2 on network 'neartest' is not known yet" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and fake_near.near.sign_calls == 0
    solana = run("send", "--network", "neartest", "--chain", "solana", "--account", ACCOUNT, "--path", "p",
                 "--to", SOLANA_RECIPIENT, "--amount", "0.01", "--blockhash", BLOCKHASH, "--domain", "0", "--dry-run")
    assert solana.exit_code != 0 and "the root key of domain 0 on network 'neartest' is secp256k1" in solana.stderr
    assert fake_near.near.sign_calls == 0


def test_a_bundle_round_trip_keeps_the_domain(neartest):
    bundle = prepare(chain="ethereum", account=ACCOUNT, path="eth-2", to=EVM_RECIPIENT, amount="0.01",
                     network="neartest", chain_network="local", domain_id=2,
                     options={"nonce": 0, "gas": 21000, "max_fee": "20", "priority_fee": "1", "chain_id": 31337})
    reread = Prepared.from_json(json.loads(json.dumps(bundle.to_json())))
    assert reread.sender == bundle.sender and reread.sender.domain_id == 2
    assert reread.payloads == bundle.payloads


def test_evm_sign_message_with_a_domain_2_key(neartest, domain_root):
    from eth_account import Account
    from eth_account.messages import encode_defunct

    result = run("evm", "sign-message", "--network", "neartest", "--account", ACCOUNT, "--path", "eth-2",
                 "--message", "hello from domain 2", "--domain", "2", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    second = derive_address(chain="ethereum", account=ACCOUNT, path="eth-2", network="neartest", domain_id=2)
    assert out["address"] == second.address
    assert Account.recover_message(encode_defunct(text="hello from domain 2"), signature=out["signature"]) == second.address
    assert [c["domain_id"] for c in sign_calls(neartest.near)] == [2]
    ed = run("evm", "sign-message", "--network", "neartest", "--account", ACCOUNT, "--path", "eth-2",
             "--message", "x", "--domain", "3")
    assert ed.exit_code != 0 and "EVM addresses need a secp256k1 key" in ed.stderr
    assert len(sign_calls(neartest.near)) == 1  # refused before a request was sent


def test_evm_speed_up_derives_the_sender_in_its_domain(neartest):
    """speed-up/cancel derive the sender in ``--domain``: an unknown domain or one of another
    curve is one error before any node or contract is asked."""
    unknown = run("evm", "speed-up", "--network", "neartest", "--chain", "ethereum", "--account", ACCOUNT,
                  "--path", "eth-2", "--tx-hash", "0x" + "ab" * 32, "--domain", "9", "--rpc-url", "http://127.0.0.1:9")
    assert unknown.exit_code != 0 and "root key of domain 9 on network 'neartest' is not known yet" in unknown.stderr
    wrong_curve = run("evm", "cancel", "--network", "neartest", "--chain", "ethereum", "--account", ACCOUNT,
                      "--path", "eth-2", "--tx-hash", "0x" + "ab" * 32, "--domain", "3", "--rpc-url", "http://127.0.0.1:9")
    assert wrong_curve.exit_code != 0 and "ethereum needs a secp256k1 key, but the root key of domain 3" in wrong_curve.stderr
    assert neartest.near.sign_calls == 0
