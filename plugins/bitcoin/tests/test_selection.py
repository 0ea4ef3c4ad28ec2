"""Coin selection and fee arithmetic: known answers and properties (hypothesis)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainsig_core.errors import InsufficientFundsError, InvalidAmountError, InvalidInputError

from chainsig_bitcoin.fees import check_fee_rate, dust_threshold, estimate_vsize, fee_for, parse_fee_rate
from chainsig_bitcoin.selection import select_coins
from chainsig_bitcoin.utxos import Utxo

P2WPKH = bytes.fromhex("0014751e76e8199196d454941c45d1b3a323f1433bd6")
P2PKH = bytes.fromhex("76a91477bff20c60e522dfaa3350c39b030a5d004e839a88ac")
P2SH = bytes.fromhex("a914b472a266d0bd89c13706a4132ccfb16f7c3b9fcb87")
P2TR = bytes.fromhex("5120" + "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
P2WSH = bytes.fromhex("0020" + "1863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262")
CHANGE = bytes.fromhex("0014" + "11" * 20)


def test_dust_thresholds_match_bitcoin_core() -> None:
    assert [dust_threshold(s) for s in (P2WPKH, P2WSH, P2TR, P2SH, P2PKH)] == [294, 330, 330, 540, 546]


def test_vsize_known_answers() -> None:
    # the textbook sizes: 1-in-2-out P2WPKH 141 vB, 1-in-1-out 110 vB, P2PKH 1-in-2-out 226 B
    assert estimate_vsize(["p2wpkh"], [P2WPKH, P2WPKH]) == 141
    assert estimate_vsize(["p2wpkh"], [P2WPKH]) == 110
    assert estimate_vsize(["p2pkh"], [P2PKH, P2PKH]) == 226


def test_fee_rate_parsing() -> None:
    assert parse_fee_rate("2.5") == Decimal("2.5") and parse_fee_rate(3) == Decimal(3)
    assert fee_for(141, Decimal("2.5")) == 353  # rounded up
    assert parse_fee_rate(" 2.5 ") == Decimal("2.5") and parse_fee_rate(".5") == Decimal("0.5")
    assert parse_fee_rate(Decimal("1E+3")) == 1000  # a Decimal from Python is exact already
    for bad in (2.5, True, "-1", "0", "abc", "1.0001", "NaN", "Infinity", None, "1e3", "1E3", "2.5e0",
                "+2", "1_000", "١٢", "０.５", "", "."):
        with pytest.raises(InvalidInputError):
            parse_fee_rate(bad)
    with pytest.raises(InvalidInputError, match="exponent"):
        parse_fee_rate("1e3", "--fee-rate")
    with pytest.raises(InvalidInputError, match="guard"):
        check_fee_rate(Decimal(1001), {})
    assert check_fee_rate(Decimal(1000), {}) == 1000  # the limit itself is allowed
    with pytest.raises(InvalidInputError) as guard:
        check_fee_rate(Decimal(5000), {}, what="--fee-rate", where="[chains.bitcoin.regtest]")
    assert str(guard.value) == (
        "--fee-rate 5000 sat/vB is above the guard against absurd fees, at most 1000 sat/vB "
        "(max_fee_rate in [chains.bitcoin.regtest]; raise it there if you mean this rate)"
    )
    with pytest.raises(InvalidInputError, match=r"at most 20 sat/vB \(max_fee_rate"):
        check_fee_rate(Decimal(21), {"max_fee_rate": "20"})
    assert check_fee_rate(Decimal(5000), {"max_fee_rate": 10000}) == 5000
    with pytest.raises(InvalidInputError, match="minimum relay"):
        check_fee_rate(Decimal("0.5"), {})
    assert check_fee_rate(Decimal("0.1"), {"min_relay_fee_rate": "0.1"}) == Decimal("0.1")


def _utxos(values: list[int], confirmed: list[bool] | None = None) -> list[Utxo]:
    flags = confirmed or [True] * len(values)
    return [Utxo(f"{i + 1:064x}", i, v, None, c) for i, (v, c) in enumerate(zip(values, flags, strict=True))]


def test_prefers_confirmed_and_large_outputs() -> None:
    chosen = select_coins(_utxos([5_000, 90_000, 200_000], [True, True, False]), "p2wpkh", P2WPKH, 50_000, CHANGE, Decimal(2))
    assert [u.value for u in chosen.inputs] == [90_000]


def test_dust_and_insufficient() -> None:
    with pytest.raises(InvalidAmountError, match="dust"):
        select_coins(_utxos([10_000]), "p2wpkh", P2PKH, 545, CHANGE, Decimal(1))
    assert select_coins(_utxos([10_000]), "p2wpkh", P2PKH, 546, CHANGE, Decimal(1)).outputs[0] == (P2PKH, 546)
    with pytest.raises(InsufficientFundsError, match="insufficient funds"):
        select_coins(_utxos([10_000, 20_000]), "p2wpkh", P2WPKH, 30_000, CHANGE, Decimal(1))
    with pytest.raises(InsufficientFundsError):
        select_coins([], "p2wpkh", P2WPKH, 30_000, CHANGE, Decimal(1))


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(st.integers(min_value=1, max_value=5_000_000), min_size=0, max_size=12),
    amount=st.integers(min_value=294, max_value=20_000_000),
    rate=st.decimals(min_value=1, max_value=300, places=3),
    kind=st.sampled_from(["p2wpkh", "p2pkh"]),
    recipient=st.sampled_from([P2WPKH, P2TR, P2SH, P2WSH]),
)
def test_selection_properties(values: list[int], amount: int, rate: Decimal, kind: str, recipient: bytes) -> None:
    amount = max(amount, dust_threshold(recipient))
    utxos = _utxos(values)
    try:
        chosen = select_coins(utxos, kind, recipient, amount, CHANGE, rate)
    except InsufficientFundsError:
        # then even spending everything without change cannot pay amount + fee
        assert sum(values) < amount + fee_for(estimate_vsize([kind] * len(values), [recipient]), rate)
        return
    spent = sum(u.value for u in chosen.inputs)
    assert spent == sum(v for _, v in chosen.outputs) + chosen.fee  # nothing is lost
    assert chosen.outputs[0] == (recipient, amount)
    assert chosen.fee >= fee_for(estimate_vsize([kind] * len(chosen.inputs), [s for s, _ in chosen.outputs]), rate)
    if chosen.change:
        assert chosen.outputs[1] == (CHANGE, chosen.change) and chosen.change >= dust_threshold(CHANGE)
    else:
        assert len(chosen.outputs) == 1
        # the remainder given to the fee is less than a change output worth making
        assert chosen.fee - fee_for(chosen.estimated_vsize, rate) < dust_threshold(CHANGE) + fee_for(31, rate) + 1
    assert len({u.outpoint for u in chosen.inputs}) == len(chosen.inputs)
