"""Against the project's devnet host: a key in ``NEAR_PRIVATE_KEY`` (with or without
``NEAR_ACCOUNT_ID``) signs for the account its rules name, whatever near-kit would read from the
environment; and a contract view that panics is the contract's own text — for an unknown domain
the message ``dev`` gives — never the node's "Server error"."""

from __future__ import annotations

import asyncio
import json

import pytest
from click.testing import CliRunner

from chainsig_core.cli import cli
from chainsig_core.config import register_network
from chainsig_core.errors import SigningError
from chainsig_core.signers import get_signer

PAYLOAD = "00" * 31 + "01"
NEAR_KIT_WORDS = ("account_id=", "private_key=", "rpc_url=", "Server error", "Traceback")


def cli_sign(account: str, *extra: str):
    return CliRunner().invoke(cli, ["sign", "--network", "devnet", "--account", account, "--path", "env",
                                    "--payload", PAYLOAD, *extra])


def assert_one_clean_line(result, exit_code: int, message: str) -> None:
    assert result.exit_code == exit_code, result.output
    assert result.output.strip().splitlines() == [f"error: {message}"]
    assert not any(word in result.output for word in NEAR_KIT_WORDS)


@pytest.fixture
def no_credentials_files(devnet_host, tmp_path):
    """The devnet registered with an empty credentials directory: a key can only come from the
    environment."""
    empty = tmp_path / "no-credentials"
    empty.mkdir()
    register_network("devnet", rpc_url=devnet_host.url, contract_id=devnet_host.contract_id,
                     credentials_dir=empty, family="local")
    return empty


@pytest.fixture
def near_env(monkeypatch):
    """Sets NEAR_* variables for one test; near-kit's own (network, RPC URL) point elsewhere, to
    show that chainsig's clients never read them."""
    for name in ("NEAR_PRIVATE_KEY", "NEAR_ACCOUNT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NEAR_NETWORK", "mainnet")
    monkeypatch.setenv("NEAR_RPC_URL", "http://127.0.0.1:9")
    return monkeypatch.setenv


def test_private_key_without_account_id_signs_for_the_given_account(devnet_host, no_credentials_files, near_env):
    alice = devnet_host.key("alice.devnet")
    near_env("NEAR_PRIVATE_KEY", alice.to_near_secret_string())
    devnet_host.calls.clear()
    result = cli_sign("alice.devnet", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["account"] == "alice.devnet" and out["domain_id"] == 0 and out["signature"]["r"]
    assert devnet_host.calls.count("send_tx", account_id="alice.devnet") >= 1
    assert alice.to_near_secret_string() not in result.output

    # the same key for an account it is no key of: the chain says so, naming the variable
    result = cli_sign("bob.devnet")
    assert_one_clean_line(result, 1, f"the key {alice.public_key} (NEAR_PRIVATE_KEY) is not an access key of "
                                     f"bob.devnet on devnet ({devnet_host.url})")


def test_private_key_belongs_to_near_account_id_only(devnet_host, no_credentials_files, near_env):
    near_env("NEAR_PRIVATE_KEY", devnet_host.key("alice.devnet").to_near_secret_string())
    near_env("NEAR_ACCOUNT_ID", "alice.devnet")
    result = cli_sign("bob.devnet")
    path = no_credentials_files / "devnet" / "bob.devnet.json"
    assert_one_clean_line(result, 1, f"no key for bob.devnet on devnet: {path} does not exist "
                                     "(NEAR_PRIVATE_KEY is the key of NEAR_ACCOUNT_ID=alice.devnet, not of bob.devnet)")
    assert cli_sign("alice.devnet").exit_code == 0


def test_another_accounts_variable_leaves_the_credentials_file_in_charge(devnet_host, near_env):
    # NEAR_PRIVATE_KEY is for bob (and malformed): alice signs with her file, and the secret is
    # never echoed (near-kit's own parsing quoted an unsupported key whole)
    secret = "ed25519-ish:do-not-print-me"
    near_env("NEAR_PRIVATE_KEY", secret)
    near_env("NEAR_ACCOUNT_ID", "bob.devnet")
    result = cli_sign("alice.devnet", "--json")
    assert result.exit_code == 0, result.output
    assert secret not in result.output
    result = cli_sign("bob.devnet")
    assert_one_clean_line(result, 1, "NEAR_PRIVATE_KEY: a NEAR secret key must start with 'ed25519:'")
    assert secret not in result.output


def test_sign_in_a_domain_the_contract_lacks_is_the_dev_message(devnet_host):
    devnet_host.calls.clear()
    result = cli_sign("alice.devnet", "--domain", "5")
    assert_one_clean_line(result, 2, "network 'devnet' has no domain 5: it has domains 0 (secp256k1) and 1 (ed25519)")
    assert devnet_host.calls.count("send_tx") == 0


def test_other_view_panics_carry_the_contracts_text(devnet_host):
    signer = get_signer("devnet", rpc_retries=0)

    async def views() -> list[str]:
        messages = []
        for call in (signer.contract_derived_public_key("alice.devnet", "p", 5),
                     signer._view("no_such_view", {})):
            with pytest.raises(SigningError) as info:
                await call
            messages.append(str(info.value))
        await signer.aclose()
        return messages

    panic, missing = asyncio.run(views())
    assert panic == (f"{devnet_host.contract_id} on devnet refused the derived_public_key view: "
                     "The provided domain was not found.")
    assert missing == (f"{devnet_host.contract_id} on devnet has no no_such_view view: is it a v1.signer "
                       "contract? (check the network's contract_id)")
