"""Tampered bundles and signed transactions are refused before anything is signed or sent."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chainsig_core import (
    ChainEndpoint,
    InvalidInputError,
    SignatureVerificationError,
    SignedTx,
    TransferRequest,
    derive_address,
    sign_prepared,
)
from chainsig_core.plugins import get_chain
from chainsig_core.signatures import Ed25519Signature

RECIPIENT = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
OFFLINE = {"nonce": 0, "gas": 21000, "max_fee": "2", "priority_fee": "1"}
NOWHERE = ChainEndpoint(url="http://127.0.0.1:9")  # never reached: every case fails first


@pytest.fixture
def prepared(chainsig_config):
    sender = derive_address(chain="base", account="dev.near", path="adv", network="dev").derived_account
    return get_chain("base").prepare(TransferRequest(sender, RECIPIENT, "0.01", options=OFFLINE), "mainnet", ChainEndpoint())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"chainId": 0}, "chainId"),
        ({"type": 1}, "type"),
        ({"type": True}, "type"),
        ({"value": -1}, "value"),
        ({"nonce": "0"}, "nonce"),
        ({"gas": 2**256}, "gas"),
        ({"data": "0xzz"}, "hex"),
        ({"data": "abcd"}, "0x"),
        ({"to": "0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}, "checksum"),
        ({"maxPriorityFeePerGas": 10**12}, "priority"),
        ({"accessList": "none"}, "accessList"),
    ],
)
def test_malformed_bundle_tx(prepared, chainsig_dev_signer, change, message) -> None:
    signatures = sign_prepared(chainsig_dev_signer, prepared)
    with pytest.raises(InvalidInputError, match=message):
        get_chain("base").finalize(replace(prepared, tx={**prepared.tx, **change}), signatures)


def test_bundle_of_another_chain(prepared, chainsig_dev_signer) -> None:
    signatures = sign_prepared(chainsig_dev_signer, prepared)
    with pytest.raises(InvalidInputError, match="for chain 'base'"):
        get_chain("ethereum").finalize(prepared, signatures)


def test_ed25519_signature_refused(prepared) -> None:
    with pytest.raises(SignatureVerificationError, match="ECDSA"):
        get_chain("base").finalize(prepared, [Ed25519Signature(bytes(64))])


def test_signed_tx_checks_before_sending(prepared, chainsig_dev_signer) -> None:
    base = get_chain("base")
    signed = base.finalize(prepared, sign_prepared(chainsig_dev_signer, prepared))
    with pytest.raises(InvalidInputError, match="tx_hash"):
        base.broadcast(replace(signed, tx_hash="0x" + "00" * 32), NOWHERE)
    with pytest.raises(InvalidInputError, match="hex"):
        base.broadcast(replace(signed, raw=signed.raw[2:]), NOWHERE)
    with pytest.raises(InvalidInputError, match="not a signed EVM transaction"):
        base.broadcast(replace(signed, raw="0x02c0ffee"), NOWHERE)
    # what eth-account raises for each (TypeError, rlp errors …) never reaches the user as a class name
    for raw, message in [
        ("0x00", "it starts with 0x00, which is no EVM transaction type"),
        ("0x7f01", "it starts with 0x7f, which is no EVM transaction type"),
        ("0x", "the raw bytes are empty"),
        ("0x02c0ffee", "its 4-byte raw does not decode as a signed type-2 transaction"),
        (signed.raw[:-4], "raw does not decode as a signed type-2 transaction (truncated or altered raw"),
        ("0xc0", "its 1-byte raw does not decode as a signed legacy transaction"),
    ]:
        with pytest.raises(InvalidInputError) as info:
            base.broadcast(replace(signed, raw=raw), NOWHERE)
        assert str(info.value).startswith("not a signed EVM transaction: ") and message in str(info.value)
        assert "Error" not in str(info.value)
    with pytest.raises(InvalidInputError, match="for chain 'base'"):
        get_chain("ethereum").broadcast(signed, NOWHERE)
    with pytest.raises(InvalidInputError):
        SignedTx.from_json({"chain": "base"})
