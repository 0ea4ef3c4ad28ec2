"""PSBT (BIP174): export, import, round trip, and the signed PSBT other wallets can finalize."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest

from chainsig_core.errors import InvalidInputError
from chainsig_core.flow import sign_prepared
from chainsig_core.signers.dev import DevSigner
from chainsig_core.types import Prepared

from chainsig_bitcoin.psbt import export_psbt, import_psbt
from chainsig_bitcoin.spend import UnsignedSpend


def test_psbt_round_trip_p2wpkh(prepare_spend: Callable[..., Prepared]) -> None:
    from embit.psbt import PSBT

    prepared = prepare_spend()
    spend = UnsignedSpend.from_json(prepared.tx)
    psbt_text = prepared.tx["psbt"]
    parsed = PSBT.from_string(psbt_text)
    assert parsed.tx.serialize().hex() == prepared.tx["unsigned_tx"]
    assert all(i.witness_utxo is not None and i.sighash_type == 1 for i in parsed.inputs)
    # embit's own PSBT sighash agrees with the payloads chainsig signs
    assert [parsed.sighash(i) for i in range(len(parsed.inputs))] == [p.data for p in prepared.payloads]
    back = import_psbt(psbt_text, spend.public_key)
    assert back == spend
    assert back.sighashes() == [p.data for p in prepared.payloads]


def test_psbt_round_trip_p2pkh_needs_previous_transactions(prepare_spend: Callable[..., Prepared]) -> None:
    from embit.script import Script
    from embit.transaction import Transaction, TransactionInput, TransactionOutput

    prepared = prepare_spend(address_type="p2pkh", values=(80_000,), amount="0.0005")
    spend = UnsignedSpend.from_json(prepared.tx)
    with pytest.raises(InvalidInputError, match="no UTXO"):  # offline: no previous tx known
        import_psbt(prepared.tx["psbt"], spend.public_key)
    # A previous transaction paying the sender, whose txid the spend then refers to.
    prev = Transaction(vin=[TransactionInput(b"\x07" * 32, 0)], vout=[
        TransactionOutput(1000, Script(b"\x6a")), TransactionOutput(80_000, Script(spend.own_script))])
    utxo = spend.inputs[0].__class__(prev.txid().hex(), 1, 80_000, spend.own_script)
    spend = UnsignedSpend(spend.address_type, spend.public_key, (utxo,), spend.sequences, spend.outputs)
    text = export_psbt(spend, {utxo.txid: prev.serialize()})
    assert import_psbt(text, spend.public_key) == spend
    # a non_witness_utxo that is not the input's transaction is refused
    forged = export_psbt(spend, {utxo.txid: Transaction(vin=prev.vin, vout=prev.vout, locktime=1).serialize()})
    with pytest.raises(InvalidInputError, match="non_witness_utxo"):
        import_psbt(forged, spend.public_key)


def test_signed_psbt_finalizes_in_embit_to_the_same_transaction(
    btc: Any, prepare_spend: Callable[..., Prepared], chainsig_dev_signer: DevSigner
) -> None:
    from embit.finalizer import finalize_psbt
    from embit.psbt import PSBT

    prepared = prepare_spend()
    signed = btc.finalize(prepared, sign_prepared(chainsig_dev_signer, prepared))
    psbt = PSBT.from_string(signed.details["psbt"])
    assert all(len(i.partial_sigs) == 1 for i in psbt.inputs)
    assert finalize_psbt(psbt).serialize().hex() == signed.raw


def test_import_refuses_foreign_or_malformed(prepare_spend: Callable[..., Prepared], other_sender: Any) -> None:
    prepared = prepare_spend()
    with pytest.raises(InvalidInputError, match="not locked to the derived key"):
        import_psbt(prepared.tx["psbt"], other_sender.public_key.compressed)
    for garbage in ("", "not base64!", base64.b64encode(b"psbt\xff\x00").decode(), base64.b64encode(b"hello").decode()):
        with pytest.raises(InvalidInputError):
            import_psbt(garbage, other_sender.public_key.compressed)


def test_import_refuses_other_sighash_types(prepare_spend: Callable[..., Prepared]) -> None:
    from embit.psbt import PSBT

    prepared = prepare_spend()
    psbt = PSBT.from_string(prepared.tx["psbt"])
    psbt.inputs[0].sighash_type = 0x83  # SINGLE|ANYONECANPAY
    with pytest.raises(InvalidInputError, match="SIGHASH_ALL"):
        import_psbt(psbt.to_string(), bytes.fromhex(prepared.tx["public_key"]))


def test_finalize_a_bundle_that_carries_only_the_psbt(
    btc: Any, prepare_spend: Callable[..., Prepared], chainsig_dev_signer: DevSigner
) -> None:
    from dataclasses import replace

    from chainsig_core.errors import SignatureVerificationError

    prepared = prepare_spend()
    signatures = sign_prepared(chainsig_dev_signer, prepared)
    expected = btc.finalize(prepared, signatures)
    psbt_only = replace(prepared, tx={"psbt": prepared.tx["psbt"]})
    assert btc.finalize(psbt_only, signatures).raw == expected.raw
    other = prepare_spend(amount="0.0005")  # same inputs, other outputs
    with pytest.raises(SignatureVerificationError, match="altered"):
        btc.finalize(replace(prepared, tx={"psbt": other.tx["psbt"]}), signatures)
