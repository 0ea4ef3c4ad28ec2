"""Building, checking and finalizing bank sends (SIGN_MODE_DIRECT), offline."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainsig_core import (
    CallRequest,
    ChainEndpoint,
    InvalidAmountError,
    InvalidInputError,
    Payload,
    Prepared,
    SignatureVerificationError,
    TransferRequest,
    sign_prepared,
)

TO = "cosmos1w508d6qejxtdg4y5r3zarvary0c5xw7k6ah60c"
OFFLINE = {"account_number": 7, "sequence": 12}


@pytest.fixture
def sender(chainsig_derived_account):  # type: ignore[no-untyped-def]
    return chainsig_derived_account("alice.near", "cosmos-1", 0)


@pytest.fixture
def prepare(cosmos_chain, sender):  # type: ignore[no-untyped-def]
    def run(amount="0.5", network="local", settings=None, **options):  # type: ignore[no-untyped-def]
        request = TransferRequest(sender, TO, amount, options={**OFFLINE, **options})
        return cosmos_chain.prepare(request, network, ChainEndpoint(None, settings or {}))

    return run


def decode_signed(raw_b64: str):  # type: ignore[no-untyped-def]
    from cosmpy.protos.cosmos.bank.v1beta1.tx_pb2 import MsgSend
    from cosmpy.protos.cosmos.tx.v1beta1.tx_pb2 import Tx

    tx = Tx.FromString(base64.b64decode(raw_b64))
    return tx, MsgSend.FromString(tx.body.messages[0].value)


def test_prepared_transaction_says_what_was_asked(prepare, cosmos_chain, sender, chainsig_dev_signer) -> None:  # type: ignore[no-untyped-def]
    prepared = prepare(memo="invoice 7")
    assert prepared.summary == {
        "to": TO, "amount": "0.5", "denom": "uatom", "base_units": "500000", "fee": "1000",
        "gas_limit": 200000, "chain_id": "localcosmos", "memo": "invoice 7",
    }
    signed = cosmos_chain.finalize(prepared, sign_prepared(chainsig_dev_signer, prepared))
    tx, msg = decode_signed(signed.raw)
    assert (msg.from_address, msg.to_address) == (prepared.from_address, TO)
    assert [(c.denom, c.amount) for c in msg.amount] == [("uatom", "500000")]
    assert tx.body.memo == "invoice 7" and tx.body.messages[0].type_url == "/cosmos.bank.v1beta1.MsgSend"
    info = tx.auth_info.signer_infos[0]
    assert info.sequence == 12 and info.mode_info.single.mode == 1  # SIGN_MODE_DIRECT
    assert info.public_key.type_url == "/cosmos.crypto.secp256k1.PubKey"
    assert [(c.denom, c.amount) for c in tx.auth_info.fee.amount] == [("uatom", "1000")]
    assert tx.auth_info.fee.gas_limit == 200000
    assert len(tx.signatures[0]) == 64
    assert signed.tx_hash == hashlib.sha256(base64.b64decode(signed.raw)).hexdigest().upper()
    assert signed.details["chain_id"] == "localcosmos" and signed.details["sequence"] == "12"


def test_chain_id_gas_price_and_fee_settings(prepare) -> None:  # type: ignore[no-untyped-def]
    assert prepare(network="mainnet").summary["chain_id"] == "cosmoshub-4"
    assert prepare(network="testnet").summary["chain_id"] == "provider"
    custom = prepare(settings={"chain_id": "my-hub-1", "gas_price": "0.0251"}, gas_limit=100001)
    assert custom.summary["chain_id"] == "my-hub-1"
    assert custom.summary["fee"] == "2511"  # ceil(100001 × 0.0251) = ceil(2510.0251)
    assert prepare(fee=0).summary["fee"] == "0"


def test_other_denom_in_base_units(prepare, cosmos_chain, sender) -> None:  # type: ignore[no-untyped-def]
    denom = "ibc/27394FB092D2ECCD56123C74F36E4C1F926001CEADA9CA97EA622B25F41E5EB2"
    request = TransferRequest(sender, TO, 1500, token=denom, options=OFFLINE)
    prepared = cosmos_chain.prepare(request, "local", ChainEndpoint())
    assert prepared.summary["denom"] == denom and prepared.summary["amount"] == "1500"
    with pytest.raises(InvalidAmountError):
        cosmos_chain.prepare(replace(request, amount="1.5"), "local", ChainEndpoint())


@pytest.mark.parametrize(("options", "error", "match"), [
    ({"sequence": None, "account_number": 3}, InvalidInputError, "both"),
    ({"gas_limit": 0}, InvalidInputError, "gas limit"),
    ({"fee": -1}, InvalidInputError, "fee"),
    ({"sequence": 2**64}, InvalidInputError, "sequence"),
    ({"memo": "m" * 257}, InvalidInputError, "memo"),
])
def test_bad_options(prepare, options, error, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=match):
        prepare(**options)


def test_zero_amount_and_calls_refused(prepare, cosmos_chain, sender) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidAmountError, match="positive"):
        prepare(amount="0")
    with pytest.raises(InvalidInputError, match="transfers only"):
        cosmos_chain.prepare(CallRequest(sender, TO, b"\x01"), "local", ChainEndpoint())


def test_offline_without_account_data_needs_a_url(cosmos_chain, sender) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInputError, match="--account-number and --sequence"):
        cosmos_chain.prepare(TransferRequest(sender, TO, "1"), "local", ChainEndpoint())


def test_tampered_bundles_refused(prepare, cosmos_chain, chainsig_dev_signer, chainsig_derived_account) -> None:  # type: ignore[no-untyped-def]
    prepared = prepare()
    signatures = sign_prepared(chainsig_dev_signer, prepared)
    other = prepare(amount="9")
    # The payload no longer matches the transaction bytes (someone edited the amount).
    swapped = replace(prepared, tx=other.tx)
    with pytest.raises(InvalidInputError, match="payload is not the hash"):
        cosmos_chain.finalize(swapped, signatures)
    # A bundle whose sender key is not the key in the transaction.
    mallory = chainsig_derived_account("mallory.near", "x", 0)
    with pytest.raises(InvalidInputError, match="sender key"):
        cosmos_chain.finalize(replace(prepared, sender=mallory), signatures)
    with pytest.raises(InvalidInputError, match="one signature"):
        cosmos_chain.finalize(prepared, signatures * 2)
    bad_tx = dict(prepared.tx, body_bytes="not base64!")
    with pytest.raises(InvalidInputError, match="base64"):
        cosmos_chain.finalize(replace(prepared, tx=bad_tx), signatures)
    # Bytes that are not a transaction, with a payload that matches them.
    from chainsig_cosmos.tx import UnsignedTx

    garbage = dict(prepared.tx, body_bytes=base64.b64encode(b"\xff\xff\xff").decode())
    digest = UnsignedTx.from_json(garbage).sign_digest()
    with pytest.raises(InvalidInputError, match="not a valid transaction"):
        cosmos_chain.finalize(replace(prepared, tx=garbage, payloads=(Payload(digest, 0),)), signatures)


def test_ed25519_signature_refused(prepare, cosmos_chain) -> None:  # type: ignore[no-untyped-def]
    from chainsig_core import Ed25519Signature

    with pytest.raises(SignatureVerificationError, match="secp256k1"):
        cosmos_chain.finalize(prepare(), [Ed25519Signature(bytes(64))])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    amount=st.integers(min_value=1, max_value=2**63),
    sequence=st.integers(min_value=0, max_value=2**64 - 1),
    number=st.integers(min_value=0, max_value=2**64 - 1),
    memo=st.text(max_size=40),
)
def test_any_transfer_finalizes_and_verifies_like_a_node(
    prepare, cosmos_chain, chainsig_dev_signer, amount, sequence, number, memo,  # type: ignore[no-untyped-def]
) -> None:
    from cosmpy.crypto.keypairs import PublicKey
    from cosmpy.protos.cosmos.tx.v1beta1.tx_pb2 import SignDoc, TxRaw

    prepared = prepare(amount=amount, sequence=sequence, account_number=number, memo=memo)
    reread = Prepared.from_json(json.loads(json.dumps(prepared.to_json())))
    signed = cosmos_chain.finalize(reread, sign_prepared(chainsig_dev_signer, reread))
    raw = TxRaw.FromString(base64.b64decode(signed.raw))
    doc = SignDoc(body_bytes=raw.body_bytes, auth_info_bytes=raw.auth_info_bytes,
                  chain_id="localcosmos", account_number=number).SerializeToString()
    key = PublicKey(prepared.sender.public_key.compressed)
    assert key.verify(doc, raw.signatures[0])
    assert int.from_bytes(raw.signatures[0][32:], "big") <= 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0


def test_bad_gas_price_setting_is_a_config_error(prepare) -> None:  # type: ignore[no-untyped-def]
    from chainsig_core import ConfigError

    with pytest.raises(ConfigError, match=r"\[chains.cosmos.local\]: gas_price"):
        prepare(settings={"gas_price": "cheap"})
