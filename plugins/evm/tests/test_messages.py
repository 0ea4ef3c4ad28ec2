"""EIP-191 personal_sign and EIP-712 typed data signed through the chainsig signer.

Known answer: the signature equals eth-account's for the same secret key (RFC 6979, low s).
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from chainsig_core import InvalidInputError, SignatureVerificationError
from chainsig_evm.messages import (
    message_digest,
    personal_sign_message,
    recover_signer,
    sign_message,
    typed_data_message,
    wallet_signature,
)

TYPED = {
    "types": {
        "EIP712Domain": [
            {"name": "name", "type": "string"}, {"name": "version", "type": "string"},
            {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"},
        ],
        "Person": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}],
        "Mail": [{"name": "from", "type": "Person"}, {"name": "to", "type": "Person"}, {"name": "contents", "type": "string"}],
    },
    "primaryType": "Mail",
    "domain": {"name": "Ether Mail", "version": "1", "chainId": 1, "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},
    "message": {
        "from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
        "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
        "contents": "Hello, Bob!",
    },
}


def test_eip712_digest_is_the_spec_example() -> None:
    # EIP-712's own example: the digest of the "Ether Mail" message.
    assert message_digest(typed_data_message(TYPED)).hex() == "be609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2"


def test_personal_sign_matches_eth_account(chainsig_dev_signer) -> None:
    from eth_account import Account

    signable = personal_sign_message("hello chainsig")
    signed = sign_message(chainsig_dev_signer, "dev.near", "msg", signable)
    key = chainsig_dev_signer.derived_secret("dev.near", "msg", 0).to_bytes(32, "big")
    reference = Account.sign_message(signable, key)
    assert signed.signature == bytes(reference.signature)
    assert signed.address == Account.from_key(key).address
    assert recover_signer(signable, signed.signature) == signed.address
    assert signed.signature[64] in (27, 28)


def test_personal_sign_of_bytes(chainsig_dev_signer) -> None:
    signable = personal_sign_message(bytes.fromhex("00ff10"))
    signed = sign_message(chainsig_dev_signer, "dev.near", "msg", signable)
    assert recover_signer(signable, signed.signature) == signed.address


def test_typed_data_matches_eth_account(chainsig_dev_signer) -> None:
    from eth_account import Account

    signed = sign_message(chainsig_dev_signer, "dev.near", "712", typed_data_message(TYPED), "eip712")
    key = chainsig_dev_signer.derived_secret("dev.near", "712", 0).to_bytes(32, "big")
    assert signed.signature == bytes(Account.sign_typed_data(key, full_message=TYPED).signature)
    assert signed.to_json()["kind"] == "eip712"


@pytest.mark.parametrize(
    "document",
    [{}, {"types": {}, "primaryType": "Mail", "domain": {}}, {**TYPED, "primaryType": "Nope"},
     {**TYPED, "message": {"from": {"name": "Cow", "wallet": "not an address"}, "to": TYPED["message"]["to"], "contents": "x"}},
     []],
)
def test_bad_typed_data(document) -> None:
    with pytest.raises(InvalidInputError):
        typed_data_message(document)


def test_a_signature_that_does_not_recover_is_refused(chainsig_dev_signer) -> None:
    class Liar:
        """A signer whose answers verify for another key."""

        def derived_public_key(self, account, path, domain):
            return chainsig_dev_signer.derived_public_key(account, "someone-else", domain)

        def sign(self, request):
            return chainsig_dev_signer.sign(request)

    with pytest.raises(SignatureVerificationError):
        sign_message(Liar(), "dev.near", "msg", personal_sign_message("x"))  # type: ignore[arg-type]


def test_wallet_signature_layout(chainsig_dev_signer) -> None:
    from chainsig_core.signers import SignRequest

    result = chainsig_dev_signer.sign(SignRequest("dev.near", "p", 0, b"\x01" * 32))
    raw = wallet_signature(result.signature)
    assert raw[:32] == result.signature.r.to_bytes(32, "big") and raw[64] == 27 + (result.signature.recovery_id & 1)


def test_cli_sign_message_and_typed_data(chainsig_config, tmp_path) -> None:
    from eth_account import Account
    from chainsig_core.cli import cli

    runner = CliRunner()
    out = runner.invoke(cli, ["evm", "sign-message", "--network", "dev", "--account", "dev.near", "--path", "m",
                              "--message", "hi", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert Account.recover_message(personal_sign_message("hi"), signature=data["signature"]) == data["address"]

    file = tmp_path / "typed.json"
    file.write_text(json.dumps(TYPED))
    out = runner.invoke(cli, ["evm", "sign-typed-data", "--network", "dev", "--account", "dev.near", "--path", "m",
                              str(file), "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["address"] == data["address"]

    bad = runner.invoke(cli, ["evm", "sign-message", "--network", "dev", "--account", "dev.near", "--path", "m"])
    assert bad.exit_code == 2 and "exactly one of" in bad.stderr and "Traceback" not in bad.output
    file.write_text("{}")
    bad = runner.invoke(cli, ["evm", "sign-typed-data", "--network", "dev", "--account", "dev.near", "--path", "m", str(file)])
    assert bad.exit_code == 2 and "EIP-712" in bad.stderr
