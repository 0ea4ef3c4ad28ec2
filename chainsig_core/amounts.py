"""Exact amounts: decimal strings in a chain's main unit, or integers in base units.

No floats anywhere: ``0.1`` as a float is refused, because it is not 0.1. A string amount is
in the main unit (``"0.01"`` ETH); an ``int`` — or a string with the base unit's name as
suffix, such as ``"1000wei"`` or ``"1500 sat"`` — is in base units.
"""

from __future__ import annotations

import re
from decimal import Decimal

from .errors import InvalidAmountError

# ASCII digits only: \d would take Arabic-Indic or full-width digits, a spoofing risk in a money
# field. Underscores group digits as in Python literals ("1_000"), only between two digits.
_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
_WITH_UNIT = re.compile(r"(-?[0-9._]*)\s*([A-Za-z]*)")
_GROUPING = re.compile(r"(?<=[0-9])_(?=[0-9])")


def to_base_units(amount: str | int, decimals: int, *, base_unit: str = "", symbol: str = "") -> int:
    """Convert an amount to integer base units.

    Parameters
    ----------
    amount:
        ``int`` base units, a decimal string in the main unit (``"0.01"``), or a string of
        digits followed by ``base_unit`` (``"1000wei"``).
    decimals:
        Decimals of the main unit (18 for ETH, 8 for BTC, 9 for SOL).
    base_unit:
        Name of the base unit accepted as a suffix (``"wei"``, ``"sat"``, ``"lamports"``).
    symbol:
        Name of the main unit, for messages and as an accepted suffix (``"0.1 ETH"``).

    Returns
    -------
    int
        The amount in base units (≥ 0).

    Raises
    ------
    InvalidAmountError
        For floats, negative values, malformed text or more decimals than the unit has.
    """
    _check_decimals(decimals)
    if isinstance(amount, bool) or isinstance(amount, float):
        raise InvalidAmountError(
            "amounts must be exact: pass a decimal string such as '0.01' or an integer of base units"
        )
    if isinstance(amount, int):
        if amount < 0:
            raise InvalidAmountError("amount must not be negative")
        return amount
    if isinstance(amount, Decimal):
        amount = format(amount, "f")
    if not isinstance(amount, str):
        raise InvalidAmountError(f"amount must be a string or an integer, not {type(amount).__name__}")
    text = amount.strip()
    unit = symbol or "main units"
    match = _WITH_UNIT.fullmatch(text)
    if match is not None and "_" in match.group(1):
        grouped = _GROUPING.sub("", match.group(1))
        match = None if "_" in grouped else _WITH_UNIT.fullmatch(grouped + text[match.end(1):])
    if match is None:
        raise InvalidAmountError(
            f"amount {amount!r} is not a decimal number of {unit}"
            + (f" or a whole number of {base_unit}" if base_unit else "")
        )
    text, suffix = match.group(1), match.group(2).lower()
    if text.startswith("-"):
        raise InvalidAmountError(f"amount {amount!r} must not be negative")
    if not text:
        raise InvalidAmountError(
            f"amount {amount!r} is not a decimal number of {unit}"
            + (f" or a whole number of {base_unit}" if base_unit else "")
        )
    if suffix:
        base_names = {base_unit.lower(), base_unit.lower() + "s"} - {"", "s"}
        if suffix in base_names:
            if not (text.isascii() and text.isdigit()):
                raise InvalidAmountError(f"amount {amount!r}: base units must be a whole number")
            return int(text)
        if not symbol or suffix != symbol.lower():
            known = " or ".join(x for x in (symbol, base_unit) if x) or "none"
            raise InvalidAmountError(f"amount {amount!r}: unknown unit {match.group(2)!r} (use {known})")
    if not _DECIMAL.fullmatch(text):
        raise InvalidAmountError(
            f"amount {amount!r} is not a decimal number of {unit}"
            + (f" or a whole number of {base_unit}" if base_unit else "")
        )
    # Integer arithmetic, not Decimal: a Decimal context would round beyond 28 digits.
    whole, _, frac = text.partition(".")
    frac = frac.rstrip("0")
    if len(frac) > decimals:
        raise InvalidAmountError(
            f"amount {amount!r} has more than {decimals} decimals, the precision of {unit}"
        )
    return int(whole or "0") * 10**decimals + int(frac.ljust(decimals, "0") or "0")


def format_base_units(value: int, decimals: int) -> str:
    """Integer base units as a plain decimal string of the main unit (``10**16, 18`` → ``"0.01"``)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAmountError("base units must be an integer")
    _check_decimals(decimals)
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 10**decimals)
    if decimals == 0 or frac == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:0{decimals}d}".rstrip("0")


def _check_decimals(decimals: object) -> None:
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 255:
        raise InvalidAmountError(f"decimals must be a whole number from 0 to 255, not {decimals!r}")
