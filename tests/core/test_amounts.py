from __future__ import annotations

from decimal import Decimal, localcontext

import pytest
from hypothesis import given, strategies as st

from chainsig_core.amounts import format_base_units, to_base_units
from chainsig_core.errors import InvalidAmountError


@pytest.mark.parametrize(
    "amount, expected",
    [("0.01", 10**16), ("1", 10**18), (".5", 5 * 10**17), ("1.", 10**18), (123, 123),
     ("1000wei", 1000), ("1000 WEI", 1000), ("2 ETH", 2 * 10**18), ("1_000", 1000 * 10**18),
     ("1_000.000_1", 10**21 + 10**14), ("1_000wei", 1000), ("0.000000000000000001", 1)],
)
def test_to_base_units(amount, expected):
    assert to_base_units(amount, 18, base_unit="wei", symbol="ETH") == expected


@pytest.mark.parametrize(
    "amount, message",
    [(0.1, "exact"), (True, "exact"), ("-1", "negative"), (-5, "negative"),
     ("0.0000000000000000001", "more than 18 decimals"), ("abc", "not a decimal"),
     ("1e5", "not a decimal"), ("1.5wei", "whole number"), ("", "not a decimal"), (None, "string"),
     ("30gwei", "unknown unit 'gwei'"), ("-3wei", "negative"), ("5 BTC", "unknown unit"),
     # digits of other scripts look like amounts but are not ASCII: a spoofing risk in money
     ("\u0661\u0662", "not a decimal"), ("\uff11.\uff15", "not a decimal"), ("\u00b2wei", "not a decimal"),
     # underscores only group digits, as in Python literals
     ("_1", "not a decimal"), ("1_", "not a decimal"), ("1__0", "not a decimal"), ("1._5", "not a decimal"),
     ("1000_wei", "not a decimal")],
)
def test_bad_amounts(amount, message):
    with pytest.raises(InvalidAmountError, match=message):
        to_base_units(amount, 18, base_unit="wei", symbol="ETH")


@pytest.mark.parametrize("decimals", ["18", None, -1, 256, True, 1.5])
def test_bad_decimals_are_one_amount_error(decimals):
    with pytest.raises(InvalidAmountError, match="decimals must be a whole number from 0 to 255"):
        to_base_units("1", decimals)
    with pytest.raises(InvalidAmountError, match="decimals must be a whole number from 0 to 255"):
        format_base_units(5, decimals)


@given(st.integers(min_value=0, max_value=10**30), st.integers(min_value=0, max_value=18))
def test_format_roundtrip(value, decimals):
    text = format_base_units(value, decimals)
    assert to_base_units(text, decimals) == value
    with localcontext() as ctx:
        ctx.prec = 100
        assert Decimal(text) == Decimal(value).scaleb(-decimals)
