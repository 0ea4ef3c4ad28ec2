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
    # a previous transaction that is not the input's is refused on export (a lying back end) …
    forged = Transaction(vin=prev.vin, vout=prev.vout, locktime=1)
    with pytest.raises(InvalidInputError, match="does not match"):
        export_psbt(spend, {utxo.txid: forged.serialize()})
    with pytest.raises(InvalidInputError, match="cannot be parsed"):
        export_psbt(spend, {utxo.txid: b"\x02\x00"})
    # … and on import (another wallet's PSBT)
    from embit.psbt import PSBT

    psbt = PSBT.from_string(text)
    psbt.inputs[0].non_witness_utxo = forged
    with pytest.raises(InvalidInputError, match="non_witness_utxo"):
        import_psbt(psbt.to_string(), spend.public_key)


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


from hypothesis import given, settings  # noqa: E402
from hypothesis import example, strategies as st  # noqa: E402


@settings(max_examples=200, deadline=None)
@given(junk=st.binary(max_size=300), cut=st.integers(min_value=0, max_value=400))
@example(junk=b"\xff\x00\x00\x00\x00\x00\x00\x00\x80", cut=0)  # a length no index fits (OverflowError)
def test_import_of_garbage_is_always_one_clear_error(junk: bytes, cut: int) -> None:
    """Random bytes after the magic, and truncations of a valid PSBT: InvalidInputError only."""
    valid = base64.b64decode(_VALID_PSBT)
    for raw in (b"psbt\xff" + junk, valid[:cut], valid[:cut] + junk):
        try:
            import_psbt(base64.b64encode(raw).decode(), bytes.fromhex(_KEY))
        except InvalidInputError:
            pass


_KEY = "02" + "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"


def _valid_psbt() -> str:
    from chainsig_bitcoin.spend import build_spend
    from chainsig_bitcoin.utxos import Utxo

    key = bytes.fromhex(_KEY)
    spend = build_spend("p2wpkh", key, [Utxo("ab" * 32, 0, 50_000)], [(bytes.fromhex("0014" + "22" * 20), 40_000)])
    return export_psbt(spend)


_VALID_PSBT = _valid_psbt()
