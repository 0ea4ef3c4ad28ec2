"""Spends signed through the dev signer: multi-input P2WPKH and P2PKH, known answers, and
every way a wrong signature, amount or key must fail verification."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from chainsig_core.errors import InvalidInputError, SignatureVerificationError
from chainsig_core.flow import finalize_bundle, sign_prepared
from chainsig_core.keys import SECP256K1_N
from chainsig_core.signatures import EcdsaSignature
from chainsig_core.signers.dev import DevSigner, ecdsa_sign_with_scalar
from chainsig_core.types import Prepared

from chainsig_bitcoin.finalize import finalize_spend, verify_with_btclib
from chainsig_bitcoin.spend import UnsignedSpend
from chainsig_bitcoin.utxos import Utxo


def _check_with_btclib(raw_hex: str, prepared: Prepared) -> Any:
    from btclib.script.engine import verify_transaction
    from btclib.tx.tx import Tx
    from btclib.tx.tx_out import TxOut

    tx = Tx.parse(bytes.fromhex(raw_hex))
    spk = bytes.fromhex(prepared.tx["inputs"][0]["scriptPubKey"])
    verify_transaction([TxOut(u["value"], spk) for u in prepared.tx["inputs"]], tx)
    return tx


@pytest.mark.parametrize("kind", ["p2wpkh", "p2pkh"])
def test_multi_input_spend_signed_by_dev_signer(
    kind: str, prepare_spend: Callable[..., Prepared], sign_and_finalize: Callable[..., Any]
) -> None:
    prepared = prepare_spend(values=(30_000, 40_000, 5_000), amount="0.0006", address_type=kind, fee_rate="2")
    assert len(prepared.payloads) == 2 == prepared.summary["inputs"]  # 40k + 30k needed
    assert all(p.domain_id == 0 and len(p.data) == 32 for p in prepared.payloads)
    signed = sign_and_finalize(prepared)
    tx = _check_with_btclib(signed.raw, prepared)  # an independent re-check of what finalize did
    assert tx.id.hex() == signed.tx_hash
    assert [o.value for o in tx.vout][0] == 60_000
    fee = 70_000 - sum(o.value for o in tx.vout)
    assert fee == signed.details["fee"] == prepared.summary["fee"]
    assert signed.details["vsize"] == tx.vsize <= prepared.summary["estimated_vsize"]
    assert fee >= 2 * tx.vsize  # the requested rate is met by the real size
    assert prepared.summary["estimated_vsize"] - tx.vsize <= len(tx.vin)  # estimate is tight
    if kind == "p2wpkh":
        assert all(len(i.script_witness.stack) == 2 and not i.script_sig for i in tx.vin)
    else:
        assert all(i.script_sig and not i.script_witness.stack for i in tx.vin)
    # change goes back to the sender's own script
    assert tx.vout[1].script_pub_key.script.hex() == prepared.tx["inputs"][0]["scriptPubKey"]
    assert all(i.sequence == 0xFFFFFFFD for i in tx.vin)


def test_bip143_native_p2wpkh_sighash_known_answer() -> None:
    """BIP143's "Native P2WPKH" example: input 1's digest."""
    unsigned = (
        "0100000002fff7f7881a8099afa6940d42d1e7f6362bec38171ea3edf433541db4e4ad969f0000000000eeffffff"
        "ef51e1b804cc89d182d279655c3aa89e815b1b309fe287d9b2b55d57b90ec68a0100000000ffffffff02202cb206"
        "000000001976a9148280b37df378db99f66f85c95a783a76ac7a6d5988ac9093510d000000001976a9143bde42db"
        "ee7e4dbe6a21b2d50ce2f0167faa815988ac11000000"
    )
    txid0 = bytes.fromhex("fff7f7881a8099afa6940d42d1e7f6362bec38171ea3edf433541db4e4ad969f")[::-1].hex()
    txid1 = bytes.fromhex("ef51e1b804cc89d182d279655c3aa89e815b1b309fe287d9b2b55d57b90ec68a")[::-1].hex()
    spend = UnsignedSpend(
        address_type="p2wpkh",
        public_key=bytes.fromhex("025476c2e83188368da1ff3e292e7acafcdb3566bb0ad253f62fc70f07aeee6357"),
        inputs=(Utxo(txid0, 0, 625_000_000), Utxo(txid1, 1, 600_000_000)),
        sequences=(0xFFFFFFEE, 0xFFFFFFFF),
        outputs=(
            (bytes.fromhex("76a9148280b37df378db99f66f85c95a783a76ac7a6d5988ac"), 112_340_000),
            (bytes.fromhex("76a9143bde42dbee7e4dbe6a21b2d50ce2f0167faa815988ac"), 223_450_000),
        ),
        version=1,
        locktime=0x11,
    )
    assert spend.embit_tx().serialize().hex() == unsigned
    assert spend.sighashes()[1].hex() == "c37af31116d1b27caf68aae9e3ac82f1477929014d5b917657d0eb49478cb670"


def test_bundle_survives_json_round_trip(
    prepare_spend: Callable[..., Prepared], sign_and_finalize: Callable[..., Any]
) -> None:
    prepared = prepare_spend()
    again = Prepared.from_json(json.loads(json.dumps(prepared.to_json())))
    assert again == prepared or again.to_json() == prepared.to_json()
    assert sign_and_finalize(again).raw == sign_and_finalize(prepared).raw  # RFC 6979: deterministic


def test_finalize_through_core_air_gapped_path(
    prepare_spend: Callable[..., Prepared], chainsig_dev_signer: DevSigner
) -> None:
    prepared = prepare_spend(address_type="p2pkh")
    signatures = sign_prepared(chainsig_dev_signer, prepared)
    signed = finalize_bundle(prepared, signatures)
    assert signed.chain == "bitcoin" and signed.chain_network == "regtest"


# -- adversarial -------------------------------------------------------------------------------


def _flip_s(sig: EcdsaSignature) -> EcdsaSignature:
    return replace(sig, s=sig.s - 1)


@pytest.mark.parametrize("kind", ["p2wpkh", "p2pkh"])
def test_tampered_signature_fails(
    kind: str, btc: Any, prepare_spend: Callable[..., Prepared], chainsig_dev_signer: DevSigner
) -> None:
    prepared = prepare_spend(address_type=kind)
    signatures = sign_prepared(chainsig_dev_signer, prepared)
    with pytest.raises(SignatureVerificationError):
        btc.finalize(prepared, [_flip_s(signatures[0]), signatures[1]])
    with pytest.raises(SignatureVerificationError):  # right signatures, wrong inputs
        btc.finalize(prepared, list(reversed(signatures)))
    high_s = replace(signatures[0], s=SECP256K1_N - signatures[0].s, recovery_id=signatures[0].recovery_id ^ 1)
    with pytest.raises(SignatureVerificationError):
        btc.finalize(prepared, [high_s, signatures[1]])


@pytest.mark.parametrize("kind", ["p2wpkh", "p2pkh"])
def test_wrong_amount_fails(
    kind: str, btc: Any, prepare_spend: Callable[..., Prepared], chainsig_dev_signer: DevSigner
) -> None:
    prepared = prepare_spend(address_type=kind)
    signatures = sign_prepared(chainsig_dev_signer, prepared)
    # The input's value in the bundle is changed after signing: the BIP143 digest commits to
    # it (P2WPKH), so verification fails. The legacy digest (P2PKH) does not commit to input
    # values at all — which is why a P2PKH PSBT must carry the whole previous transaction — so
    # there the digests are unchanged and only the bundle's fee claim would be wrong.
    tx = json.loads(json.dumps(prepared.tx))
    tx["inputs"][0]["value"] += 1000
    altered = replace(prepared, tx=tx)
    if kind == "p2wpkh":
        with pytest.raises(SignatureVerificationError):
            btc.finalize(altered, signatures)
    else:
        spend = UnsignedSpend.from_json(tx)
        assert spend.sighashes() == [p.data for p in prepared.payloads]
    # An output amount changed: every digest changes.
    tx = json.loads(json.dumps(prepared.tx))
    tx["outputs"][0]["value"] += 1
    with pytest.raises(SignatureVerificationError, match="altered"):
        btc.finalize(replace(prepared, tx=tx), signatures)
    # Payloads re-computed to match the altered bundle: the signatures no longer verify.
    altered = replace(prepared, tx=tx, payloads=tuple(
        replace(p, data=d) for p, d in zip(prepared.payloads, UnsignedSpend.from_json(tx).sighashes(), strict=True)))
    with pytest.raises(SignatureVerificationError):
        btc.finalize(altered, signatures)


@pytest.mark.parametrize("kind", ["p2wpkh", "p2pkh"])
def test_wrong_key_fails(
    kind: str, btc: Any, prepare_spend: Callable[..., Prepared], chainsig_dev_signer: DevSigner,
    other_sender: Any,
) -> None:
    prepared = prepare_spend(address_type=kind)
    other = chainsig_dev_signer.derived_secret(other_sender.account_id, other_sender.path, 0)
    wrong = [ecdsa_sign_with_scalar(other, p.data) for p in prepared.payloads]
    with pytest.raises(SignatureVerificationError):
        btc.finalize(prepared, wrong)
    # A bundle claiming another sender than its key.
    with pytest.raises(SignatureVerificationError, match="not the sender"):
        btc.finalize(replace(prepared, sender=other_sender), wrong)


def test_btclib_interpreter_is_an_independent_check(
    prepare_spend: Callable[..., Prepared], chainsig_dev_signer: DevSigner, other_sender: Any
) -> None:
    """A transaction whose signature is valid for the payload but for the wrong key passes
    nothing: the interpreter alone (bypassing checks 1 and 2) rejects it."""
    from embit.script import Witness

    from chainsig_bitcoin.finalize import der_signature

    prepared = prepare_spend(values=(100_000,), amount="0.0005")
    spend = UnsignedSpend.from_json(prepared.tx)
    other = chainsig_dev_signer.derived_secret(other_sender.account_id, other_sender.path, 0)
    sig = ecdsa_sign_with_scalar(other, prepared.payloads[0].data)
    tx = spend.embit_tx()
    tx.vin[0].witness = Witness([der_signature(sig) + b"\x01", spend.public_key])
    with pytest.raises(SignatureVerificationError, match="btclib"):
        verify_with_btclib(tx.serialize(), spend)
    good = sign_prepared(chainsig_dev_signer, prepared)
    done = finalize_spend(spend, prepared.sender.public_key, [p.data for p in prepared.payloads], good)
    assert verify_with_btclib(done.raw, spend)[0] == done.vsize


def test_signature_count_must_match(btc: Any, prepare_spend: Callable[..., Prepared], chainsig_dev_signer: DevSigner) -> None:
    prepared = prepare_spend()
    signatures = sign_prepared(chainsig_dev_signer, prepared)
    with pytest.raises(InvalidInputError):
        btc.finalize(prepared, signatures[:1])


def test_malformed_bundle_tx_is_one_clear_error(btc: Any, prepare_spend: Callable[..., Prepared]) -> None:
    prepared = prepare_spend()
    for broken in ({}, {"format": "other"}, {**prepared.tx, "inputs": "x"}, {**prepared.tx, "public_key": "zz"},
                   {**prepared.tx, "sequences": [1]}, {**prepared.tx, "address_type": "p2tr"}):
        with pytest.raises(InvalidInputError):
            btc.finalize(replace(prepared, tx=broken), [])


def test_library_callers_may_pass_utxos_as_a_list(btc: Any, sender: Any, chainsig_dev_signer: DevSigner) -> None:
    from chainsig_core.types import ChainEndpoint, TransferRequest

    rows = [{"txid": "ef" * 32, "vout": 3, "value": 70_000}]
    for utxos in (rows, [Utxo("ef" * 32, 3, 70_000)]):
        request = TransferRequest(sender, "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", 50_000,
                                  options={"utxos": utxos, "fee_rate": 1})
        prepared = btc.prepare(request, "regtest", ChainEndpoint())
        assert prepared.tx["inputs"][0]["vout"] == 3
    with pytest.raises(InvalidInputError):
        btc.prepare(TransferRequest(sender, "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", 50_000,
                                    options={"utxos": 42, "fee_rate": 1}), "regtest", ChainEndpoint())


@pytest.mark.parametrize(
    "options,fragment",
    [
        ({"feerate": "2"}, "unknown Bitcoin option(s): feerate (Bitcoin takes: utxos, fee_rate, conf_target, no_rbf)"),
        ({"memo": "hi", "nonce": 1}, "unknown Bitcoin option(s): memo, nonce"),
        ({"conf_target": 2}, "give one of them"),
        ({"no_rbf": "yes"}, "no_rbf option must be true or false"),
    ],
)
def test_library_options_are_checked(prepare_spend: Any, options: dict[str, Any], fragment: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        prepare_spend(**options)
    assert fragment in str(info.value)


def test_conf_target_parsing() -> None:
    from chainsig_bitcoin.options import parse_conf_target, parse_spend_options

    assert parse_conf_target(1) == 1 and parse_conf_target("1008") == 1008  # text from a merged CLI option
    for bad in (0, -3, 1009, True, "x", "٣", 2.0):
        with pytest.raises(InvalidInputError, match="1 to 1008"):
            parse_conf_target(bad)
    assert parse_spend_options({"conf_target": 3, "no_rbf": True}).conf_target == 3
    assert parse_spend_options({}).rbf and parse_spend_options({}).fee_rate is None
