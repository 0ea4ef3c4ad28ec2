"""Transfers built by the plugin, signed by the dev signer, executed by LiteSVM directly."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from chainsig_core import (
    Ed25519Signature,
    InsufficientFundsError,
    InvalidAddressError,
    InvalidAmountError,
    InvalidInputError,
    SignatureVerificationError,
    TransferRequest,
    sign_prepared,
)


def _pubkey(text: str) -> Any:
    from solders.pubkey import Pubkey

    return Pubkey.from_string(text)


@pytest.mark.parametrize("v0", [False, True])
def test_sol_transfer_changes_balances(svm, funded_sender, prepare_on_svm, sign_and_finalize, helpers, new_keypair, v0) -> None:
    to = str(new_keypair().pubkey())
    before = svm.get_balance(_pubkey(funded_sender.address))
    options = {"v0": True} if v0 else {}
    prepared = prepare_on_svm(TransferRequest(funded_sender.account, to, "0.25", options=options))
    assert prepared.tx["version"] == ("v0" if v0 else "legacy")
    assert prepared.payloads[0].data[:1] == (b"\x80" if v0 else b"\x01")
    assert prepared.summary["amount"] == "0.25" and prepared.summary["fee"] == "5000"
    signed = sign_and_finalize(prepared)
    result = helpers.submit(svm, signed)
    assert not hasattr(result, "err"), result
    assert str(result.signature()) == signed.tx_hash
    assert svm.get_balance(_pubkey(to)) == 250_000_000
    assert svm.get_balance(_pubkey(funded_sender.address)) == before - 250_000_000 - 5000


def test_integer_amount_is_lamports_and_priority_fee_is_charged(svm, funded_sender, prepare_on_svm, sign_and_finalize, helpers, new_keypair) -> None:
    to = str(new_keypair().pubkey())
    before = svm.get_balance(_pubkey(funded_sender.address))
    prepared = prepare_on_svm(
        TransferRequest(funded_sender.account, to, 1_000_000, options={"priority_fee": 1_000_000, "compute_units": 1000})
    )
    assert prepared.summary["fee"] == str(5000 + 1000)
    result = helpers.submit(svm, sign_and_finalize(prepared))
    assert not hasattr(result, "err"), result
    assert result.fee() == 6000
    assert svm.get_balance(_pubkey(to)) == 1_000_000
    assert svm.get_balance(_pubkey(funded_sender.address)) == before - 1_000_000 - 6000


def test_tampered_signature_is_rejected_by_the_runtime(svm, funded_sender, prepare_on_svm, sign_and_finalize, helpers, new_keypair) -> None:
    from solders.transaction import VersionedTransaction

    to = str(new_keypair().pubkey())
    signed = sign_and_finalize(prepare_on_svm(TransferRequest(funded_sender.account, to, "0.01")))
    raw = bytearray(base64.b64decode(signed.raw))
    raw[1 + 10] ^= 0x01  # inside the signature
    result = svm.send_transaction(VersionedTransaction.from_bytes(bytes(raw)))
    assert "SignatureFailure" in str(result.err())
    assert svm.get_balance(_pubkey(to)) is None or svm.get_balance(_pubkey(to)) == 0


def test_finalize_refuses_a_signature_that_does_not_verify(chain, funded_sender, prepare_on_svm, chainsig_dev_signer, new_keypair) -> None:
    prepared = prepare_on_svm(TransferRequest(funded_sender.account, str(new_keypair().pubkey()), "0.01"))
    (good,) = sign_prepared(chainsig_dev_signer, prepared)
    bad = Ed25519Signature(good.signature[:40] + bytes([good.signature[40] ^ 1]) + good.signature[41:])
    with pytest.raises(SignatureVerificationError):
        chain.finalize(prepared, [bad])
    with pytest.raises(InvalidInputError):
        chain.finalize(prepared, [good, good])


def test_finalize_refuses_an_altered_bundle(chain, funded_sender, prepare_on_svm, chainsig_dev_signer, new_keypair) -> None:
    from dataclasses import replace

    from chainsig_core import Payload

    prepared = prepare_on_svm(TransferRequest(funded_sender.account, str(new_keypair().pubkey()), "0.01"))
    other = prepare_on_svm(TransferRequest(funded_sender.account, str(new_keypair().pubkey()), "0.02"))
    signatures = sign_prepared(chainsig_dev_signer, other)
    altered = replace(prepared, payloads=(Payload(other.payloads[0].data, 1, "x"),))
    with pytest.raises(InvalidInputError, match="altered"):
        chain.finalize(altered, signatures)
    with pytest.raises(SignatureVerificationError):
        chain.finalize(prepared, signatures)


def test_spl_transfer_to_an_existing_token_account(svm, funded_sender, prepare_on_svm, sign_and_finalize, helpers, new_keypair) -> None:
    from spl.token.instructions import get_associated_token_address

    recipient = new_keypair().pubkey()
    mint = helpers.create_mint(svm, decimals=6, supply_to=funded_sender.address, amount=5_000_000)
    ata_prepared = prepare_on_svm(TransferRequest(funded_sender.account, str(recipient), "1.5", token=mint))
    assert ata_prepared.summary["creates_recipient_token_account"] is True
    result = helpers.submit(svm, sign_and_finalize(ata_prepared))
    assert not hasattr(result, "err"), result
    dest = str(get_associated_token_address(recipient, _pubkey(mint)))
    source = str(get_associated_token_address(_pubkey(funded_sender.address), _pubkey(mint)))
    assert helpers.token_balance(svm, dest) == 1_500_000
    assert helpers.token_balance(svm, source) == 3_500_000
    again = prepare_on_svm(TransferRequest(funded_sender.account, str(recipient), 500_000, token=mint, options={"v0": True}))
    assert again.summary["creates_recipient_token_account"] is False
    assert again.summary["amount"] == "0.5"
    result = helpers.submit(svm, sign_and_finalize(again))
    assert not hasattr(result, "err"), result
    assert helpers.token_balance(svm, dest) == 2_000_000
    # Sending to the token account itself (not its owner) works as well.
    direct = prepare_on_svm(TransferRequest(funded_sender.account, dest, "0.25", token=mint))
    assert direct.summary["recipient_token_account"] == dest
    assert not hasattr(helpers.submit(svm, sign_and_finalize(direct)), "err")
    assert helpers.token_balance(svm, dest) == 2_250_000


def test_create_associated_account_instruction(svm, funded_sender, prepare_on_svm, helpers, new_keypair) -> None:
    """The create path at the instruction level: program, accounts and order as the ATA
    program expects them, derived address equal to the program's own derivation."""
    from solders.message import from_bytes_versioned
    from spl.token.constants import ASSOCIATED_TOKEN_PROGRAM_ID, TOKEN_PROGRAM_ID

    recipient = new_keypair().pubkey()
    mint = helpers.create_mint(svm, decimals=2, supply_to=funded_sender.address, amount=1000)
    prepared = prepare_on_svm(TransferRequest(funded_sender.account, str(recipient), "1", token=mint))
    msg = from_bytes_versioned(prepared.payloads[0].data)
    keys = msg.account_keys
    create, transfer = msg.instructions
    assert keys[create.program_id_index] == ASSOCIATED_TOKEN_PROGRAM_ID
    assert bytes(create.data) == b""
    payer, ata, owner, mint_key, system, token_program = (keys[i] for i in bytes(create.accounts)[:6])
    expected, _ = type(recipient).find_program_address(
        [bytes(recipient), bytes(TOKEN_PROGRAM_ID), bytes(_pubkey(mint))], ASSOCIATED_TOKEN_PROGRAM_ID
    )
    assert (str(payer), ata, owner, str(mint_key), str(system), token_program) == (
        funded_sender.address, expected, recipient, mint, "11111111111111111111111111111111", TOKEN_PROGRAM_ID,
    )
    assert keys[transfer.program_id_index] == TOKEN_PROGRAM_ID
    assert bytes(transfer.data) == bytes([12]) + (100).to_bytes(8, "little") + bytes([2])  # TransferChecked


def test_offline_spl_uses_idempotent_create(chain, sender, new_keypair) -> None:
    from solders.message import from_bytes_versioned

    from chainsig_solana.builder import build_prepared

    def no_ledger() -> Any:
        raise AssertionError("offline preparation must not open a ledger")

    mint = str(new_keypair().pubkey())
    request = TransferRequest(sender.account, str(new_keypair().pubkey()), "2", token=mint,
                              options={"blockhash": "CmpNeggWJ4JaWJeJ8YKN1Zypmk7uvQq3PECGUCAEMbky", "token_decimals": 3})
    prepared = build_prepared(chain, request, "devnet", no_ledger)
    msg = from_bytes_versioned(prepared.payloads[0].data)
    assert bytes(msg.instructions[0].data) == b"\x01"  # CreateIdempotent
    assert prepared.summary["fee"] is None
    with pytest.raises(InvalidInputError, match="--token-decimals"):
        build_prepared(chain, TransferRequest(sender.account, str(new_keypair().pubkey()), "2", token=mint,
                                              options={"blockhash": "CmpNeggWJ4JaWJeJ8YKN1Zypmk7uvQq3PECGUCAEMbky"}), "devnet", no_ledger)


def test_arbitrary_instructions_from_json(svm, funded_sender, prepare_on_svm, sign_and_finalize, helpers, tmp_path: Path) -> None:
    memo = "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr"
    file = tmp_path / "ix.json"
    file.write_text(json.dumps([{
        "program_id": memo,
        "accounts": [{"pubkey": funded_sender.address, "is_signer": True, "is_writable": False}],
        "data": base64.b64encode(b"hello from chainsig").decode(),
    }]))
    prepared = prepare_on_svm(TransferRequest(funded_sender.account, funded_sender.address, "0", options={"instructions": str(file), "v0": True}))
    result = helpers.submit(svm, sign_and_finalize(prepared))
    assert not hasattr(result, "err"), result
    assert any("hello from chainsig" in line for line in result.logs())


def test_oversized_transaction_is_refused_before_signing(chain, funded_sender, prepare_on_svm, chainsig_dev_signer, monkeypatch) -> None:
    memo = "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr"
    calls: list[Any] = []
    monkeypatch.setattr(type(chainsig_dev_signer), "sign_all", lambda self, reqs: calls.append(reqs))
    big = [{"program_id": memo, "accounts": [], "data_hex": "61" * 1200}]
    with pytest.raises(InvalidInputError, match="1232-byte"):
        prepare_on_svm(TransferRequest(funded_sender.account, funded_sender.address, "0", options={"instructions": big}))
    assert calls == []
    # The largest message that fits is accepted.
    fits = [{"program_id": memo, "accounts": [], "data_hex": "61" * 1000}]
    prepared = prepare_on_svm(TransferRequest(funded_sender.account, funded_sender.address, "0", options={"instructions": fits}))
    assert prepared.summary["size"] <= 1232


@pytest.mark.parametrize(
    ("amount", "error"),
    [("-1", InvalidAmountError), ("0.0000000001", InvalidAmountError), (-5, InvalidAmountError),
     ("1e3", InvalidAmountError), (0.5, InvalidAmountError), ("0", InvalidAmountError), ("abc", InvalidAmountError)],
)
def test_bad_sol_amounts(funded_sender, prepare_on_svm, new_keypair, amount, error) -> None:
    with pytest.raises(error):
        prepare_on_svm(TransferRequest(funded_sender.account, str(new_keypair().pubkey()), amount))


def test_too_precise_token_amount(svm, funded_sender, prepare_on_svm, helpers, new_keypair) -> None:
    mint = helpers.create_mint(svm, decimals=2, supply_to=funded_sender.address, amount=1000)
    with pytest.raises(InvalidAmountError, match="decimals"):
        prepare_on_svm(TransferRequest(funded_sender.account, str(new_keypair().pubkey()), "0.001", token=mint))


@pytest.mark.parametrize("to", ["not-base58-0OIl", "abc", "1" * 50])
def test_bad_recipient(funded_sender, prepare_on_svm, to) -> None:
    with pytest.raises(InvalidAddressError):
        prepare_on_svm(TransferRequest(funded_sender.account, to, "0.1"))


def test_off_curve_recipient_refused_for_tokens_but_fine_for_sol(svm, funded_sender, prepare_on_svm, sign_and_finalize, helpers) -> None:
    from solders.pubkey import Pubkey

    pda, _ = Pubkey.find_program_address([b"vault"], Pubkey.from_string("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr"))
    assert not pda.is_on_curve()
    mint = helpers.create_mint(svm, decimals=0, supply_to=funded_sender.address, amount=10)
    with pytest.raises(InvalidAddressError, match="off the ed25519 curve"):
        prepare_on_svm(TransferRequest(funded_sender.account, str(pda), 1, token=mint))
    result = helpers.submit(svm, sign_and_finalize(prepare_on_svm(TransferRequest(funded_sender.account, str(pda), "0.01"))))
    assert not hasattr(result, "err"), result


def test_unknown_mint(svm, funded_sender, prepare_on_svm, new_keypair) -> None:
    with pytest.raises(InvalidInputError, match="unknown mint"):
        prepare_on_svm(TransferRequest(funded_sender.account, str(new_keypair().pubkey()), "1", token=str(new_keypair().pubkey())))
    # An account that exists but is not a mint (the sender's wallet).
    with pytest.raises(InvalidInputError, match="unknown mint"):
        prepare_on_svm(TransferRequest(funded_sender.account, str(new_keypair().pubkey()), "1", token=funded_sender.address))


def test_insufficient_lamports_for_fee_amount_or_rent(svm, sender, prepare_on_svm, new_keypair, helpers) -> None:
    from solders.pubkey import Pubkey

    to = str(new_keypair().pubkey())
    with pytest.raises(InsufficientFundsError, match="fee"):  # unfunded: cannot even pay the fee
        prepare_on_svm(TransferRequest(sender.account, to, "0.01"))
    svm.airdrop(Pubkey.from_string(sender.address), 10_000_000)
    with pytest.raises(InsufficientFundsError):
        prepare_on_svm(TransferRequest(sender.account, to, "0.02"))
    with pytest.raises(InsufficientFundsError, match="rent-exempt minimum"):  # new account below rent
        prepare_on_svm(TransferRequest(sender.account, to, 1000))
    with pytest.raises(InsufficientFundsError, match="rent-exempt minimum"):  # sender left below rent
        prepare_on_svm(TransferRequest(sender.account, to, 10_000_000 - 5000 - 1))
    mint = helpers.create_mint(svm, decimals=0, supply_to=sender.address, amount=5)
    with pytest.raises(InsufficientFundsError, match="holds 5"):
        prepare_on_svm(TransferRequest(sender.account, to, 6, token=mint))


@pytest.mark.parametrize(
    ("options", "match"),
    [({"priority_fee": -1}, "--priority-fee"), ({"compute_units": 0}, "--compute-units"),
     ({"compute_units": "many"}, "--compute-units"), ({"blockhash": "xyz0"}, "blockhash"),
     ({"colour": "red"}, r"unknown Solana option\(s\): colour \(Solana takes: blockhash, "),
     ({"instructions": [{"program_id": "11111111111111111111111111111111", "accounts": [{"pubkey": "11111111111111111111111111111112", "is_signer": True}]}]}, "only the derived account"),
     ({"instructions": [{"program_id": "11111111111111111111111111111111", "data": "***"}]}, "base64"),
     ({"instructions": "/nonexistent/file.json"}, "cannot read"),
     ({"instructions": []}, "non-empty")],
)
def test_bad_options(funded_sender, prepare_on_svm, new_keypair, options, match) -> None:
    with pytest.raises(InvalidInputError, match=match):
        prepare_on_svm(TransferRequest(funded_sender.account, str(new_keypair().pubkey()), "0.01", options=options))


def test_token_2022_mint(svm, funded_sender, prepare_on_svm, sign_and_finalize, helpers, new_keypair) -> None:
    from solders.keypair import Keypair
    from solders.message import MessageV0
    from solders.pubkey import Pubkey
    from solders.system_program import CreateAccountParams, create_account
    from solders.transaction import VersionedTransaction
    from spl.token.constants import MINT_LEN, TOKEN_2022_PROGRAM_ID
    from spl.token.instructions import create_associated_token_account, get_associated_token_address, initialize_mint2, mint_to_checked
    from spl.token.models import InitializeMint2Params, MintToCheckedParams

    authority, mint = Keypair(), Keypair()
    owner = Pubkey.from_string(funded_sender.address)
    svm.airdrop(authority.pubkey(), helpers.sol)
    source = get_associated_token_address(owner, mint.pubkey(), TOKEN_2022_PROGRAM_ID)
    ixs = [
        create_account(CreateAccountParams(from_pubkey=authority.pubkey(), to_pubkey=mint.pubkey(), lamports=svm.minimum_balance_for_rent_exemption(MINT_LEN), space=MINT_LEN, owner=TOKEN_2022_PROGRAM_ID)),
        initialize_mint2(InitializeMint2Params(decimals=4, mint=mint.pubkey(), mint_authority=authority.pubkey(), program_id=TOKEN_2022_PROGRAM_ID)),
        create_associated_token_account(authority.pubkey(), owner, mint.pubkey(), TOKEN_2022_PROGRAM_ID),
        mint_to_checked(MintToCheckedParams(program_id=TOKEN_2022_PROGRAM_ID, mint=mint.pubkey(), dest=source, mint_authority=authority.pubkey(), amount=50_000, decimals=4, signers=[])),
    ]
    result = svm.send_transaction(VersionedTransaction(MessageV0.try_compile(authority.pubkey(), ixs, [], svm.latest_blockhash()), [authority, mint]))
    assert not hasattr(result, "err"), result
    recipient = new_keypair().pubkey()
    prepared = prepare_on_svm(TransferRequest(funded_sender.account, str(recipient), "1.2345", token=str(mint.pubkey())))
    assert not hasattr(helpers.submit(svm, sign_and_finalize(prepared)), "err")
    dest = str(get_associated_token_address(recipient, mint.pubkey(), TOKEN_2022_PROGRAM_ID))
    assert helpers.token_balance(svm, dest) == 12_345


def test_recipient_account_set_up_at_the_derived_address(svm, funded_sender, prepare_on_svm, sign_and_finalize, helpers, new_keypair) -> None:
    """The recipient's associated token account written straight into the ledger at the
    address the ATA program derives: the transfer uses it and creates nothing."""
    from solders.account import Account
    from solders.pubkey import Pubkey
    from solders.token.state import TokenAccount, TokenAccountState
    from spl.token.constants import TOKEN_PROGRAM_ID

    from chainsig_solana.tokens import associated_token_address

    mint = helpers.create_mint(svm, decimals=1, supply_to=funded_sender.address, amount=100)
    recipient = str(new_keypair().pubkey())
    ata = associated_token_address(recipient, mint)
    state = TokenAccount(mint=Pubkey.from_string(mint), owner=Pubkey.from_string(recipient), amount=7, delegate=None,
                         state=TokenAccountState.Initialized, is_native=None, delegated_amount=0)
    svm.set_account(Pubkey.from_string(ata), Account(lamports=svm.minimum_balance_for_rent_exemption(165), data=bytes(state), owner=TOKEN_PROGRAM_ID))
    prepared = prepare_on_svm(TransferRequest(funded_sender.account, recipient, "2.5", token=mint))
    assert prepared.summary["creates_recipient_token_account"] is False
    assert prepared.summary["recipient_token_account"] == ata
    assert not hasattr(helpers.submit(svm, sign_and_finalize(prepared)), "err")
    assert helpers.token_balance(svm, ata) == 7 + 25
