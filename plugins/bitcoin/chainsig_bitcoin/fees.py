"""Fee rates, virtual sizes and dust: exact integer/decimal arithmetic, never floats.

Sizes follow BIP141: ``weight = 4 × (bytes without witness) + (witness bytes)`` and
``vsize = ⌈weight / 4⌉``. The estimate assumes the largest low-s signature (71 DER bytes + the
sighash byte), so the fee paid is never below ``vsize × rate`` of the final transaction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import Any

from chainsig_core.errors import InvalidInputError

from .networks import DUST_RELAY_FEE_RATE, MAX_FEE_RATE, MIN_RELAY_FEE_RATE

#: Largest DER signature with low s (r may need a 0x00 pad byte, s never does) + sighash byte.
MAX_SIGNATURE_PUSH = 72
COMPRESSED_KEY = 33
#: Non-witness bytes of an input: outpoint (36) + script length + scriptSig + nSequence (4).
INPUT_BASE = {"p2wpkh": 36 + 1 + 4, "p2pkh": 36 + 1 + (1 + MAX_SIGNATURE_PUSH + 1 + COMPRESSED_KEY) + 4}
#: Witness bytes of an input: item count + (len + signature) + (len + key); 1 (empty) for legacy.
INPUT_WITNESS = {"p2wpkh": 1 + 1 + MAX_SIGNATURE_PUSH + 1 + COMPRESSED_KEY, "p2pkh": 1}
#: A fee rate as text: ASCII digits with an optional decimal point — no exponent (``1e3``), sign,
#: underscores or other scripts' digits, which ``Decimal()`` would all accept (as ``--amount`` does).
_DECIMAL_TEXT = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def varint_size(n: int) -> int:
    """Bytes of Bitcoin's CompactSize encoding of ``n``."""
    return 1 if n < 0xFD else 3 if n <= 0xFFFF else 5 if n <= 0xFFFFFFFF else 9


def output_size(spk: bytes) -> int:
    """Serialized size of a transaction output paying to ``spk``."""
    return 8 + varint_size(len(spk)) + len(spk)


def estimate_vsize(input_types: Sequence[str], output_scripts: Sequence[bytes]) -> int:
    """Upper bound of the virtual size of a spend of ``input_types`` inputs to these outputs."""
    base = 4 + varint_size(len(input_types)) + varint_size(len(output_scripts)) + 4
    base += sum(INPUT_BASE[t] for t in input_types)
    base += sum(output_size(s) for s in output_scripts)
    witness = 0
    if any(t == "p2wpkh" for t in input_types):
        witness = 2 + sum(INPUT_WITNESS[t] for t in input_types)
    return -(-(4 * base + witness) // 4)


def dust_threshold(spk: bytes) -> int:
    """Bitcoin Core's dust limit for an output paying to ``spk`` (``GetDustThreshold``).

    The cost of creating and later spending the output at the dust relay fee rate: 294 sats
    for P2WPKH, 330 for P2WSH/P2TR, 540 for P2SH, 546 for P2PKH.
    """
    is_witness = len(spk) >= 4 and (spk[0] == 0 or 0x51 <= spk[0] <= 0x60) and spk[1] + 2 == len(spk)
    spend = 32 + 4 + 1 + (107 // 4) + 4 if is_witness else 32 + 4 + 1 + 107 + 4
    return (output_size(spk) + spend) * DUST_RELAY_FEE_RATE


def fee_for(vsize: int, fee_rate: Decimal) -> int:
    """``⌈vsize × fee_rate⌉`` sats."""
    return int((Decimal(vsize) * fee_rate).to_integral_value(rounding=ROUND_CEILING))


def parse_fee_rate(value: Any, what: str = "fee rate") -> Decimal:
    """A fee rate in sat/vB from a decimal string (``"2"``, ``"2.5"``), an int or a Decimal
    (no floats), > 0, ≤ 3 decimals. Text in exponent notation (``"1e3"``) is refused, as for
    amounts: a fee rate is typed by hand and ``1e3`` is too easily read as something else.

    Raises
    ------
    InvalidInputError
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise InvalidInputError(f"{what} must be an exact number of sat/vB (a string or integer), not a float")
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("-"):
            raise InvalidInputError(f"{what} must be a positive number of sat/vB, got {value!r}")
        if not _DECIMAL_TEXT.fullmatch(text):
            raise InvalidInputError(
                f"{what} {value!r} is not a number of sat/vB (plain decimal digits such as '2' or '2.5', no exponent)"
            )
        value = text
    try:
        rate = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidInputError(f"{what} {value!r} is not a number of sat/vB") from None
    if not rate.is_finite() or rate <= 0:
        raise InvalidInputError(f"{what} must be a positive number of sat/vB, got {value!r}")
    if rate != rate.quantize(Decimal("0.001")):
        raise InvalidInputError(f"{what} {value!r} has more than 3 decimals (sat/vB)")
    return rate.quantize(Decimal("0.001")).normalize()


def fee_rate_limits(settings: Mapping[str, Any]) -> tuple[Decimal, Decimal]:
    """``(minimum, maximum)`` fee rate in sat/vB for a chain network's config settings.

    Raises
    ------
    InvalidInputError
        If a configured limit is malformed.
    """
    low = parse_fee_rate(settings.get("min_relay_fee_rate", MIN_RELAY_FEE_RATE), "min_relay_fee_rate")
    high = parse_fee_rate(settings.get("max_fee_rate", MAX_FEE_RATE), "max_fee_rate")
    return low, high


def check_fee_rate(
    rate: Decimal, settings: Mapping[str, Any], *, what: str = "fee rate",
    where: str = "[chains.bitcoin.<network>]",
) -> Decimal:
    """``rate`` if it lies within :func:`fee_rate_limits` (both limits included).

    ``what`` names the rate in messages (``"--fee-rate"``, ``"the back end's fee estimate"``),
    ``where`` the config table that may change the limits.

    Raises
    ------
    InvalidInputError
        Below the minimum relay fee rate (the transaction would not relay) or above the
        absurd-fee guard ``max_fee_rate``.
    """
    low, high = fee_rate_limits(settings)
    if rate < low:
        raise InvalidInputError(
            f"{what} {_plain(rate)} sat/vB is below the minimum relay fee rate of {_plain(low)} sat/vB: "
            f"nodes would not relay the transaction (min_relay_fee_rate in {where} sets this limit)"
        )
    if rate > high:
        raise InvalidInputError(
            f"{what} {_plain(rate)} sat/vB is above the guard against absurd fees, at most {_plain(high)} sat/vB "
            f"(max_fee_rate in {where}; raise it there if you mean this rate)"
        )
    return rate


def _plain(rate: Decimal) -> str:
    """A rate without exponent notation (``Decimal('1E+3')`` → ``1000``)."""
    return f"{rate.normalize():f}"
