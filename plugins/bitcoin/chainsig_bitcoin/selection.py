"""Coin selection: which UTXOs pay for a transfer, the fee, and the change.

Largest-first accumulation over confirmed outputs, then unconfirmed ones: deterministic, few
inputs (small fees), and easy to reason about. A change output is added only when it would not
be dust; otherwise the remainder goes to the fee.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from chainsig_core.amounts import format_base_units
from chainsig_core.errors import InsufficientFundsError, InvalidAmountError

from .fees import dust_threshold, estimate_vsize, fee_for
from .utxos import Utxo


@dataclass(frozen=True)
class Selection:
    """The outcome of coin selection.

    Parameters
    ----------
    inputs:
        The UTXOs to spend, in transaction order.
    outputs:
        ``(scriptPubKey, value)`` pairs: the recipient first, then the change (if any).
    fee:
        Satoshis paid as fee (inputs − outputs).
    estimated_vsize:
        Upper bound of the signed transaction's virtual size the fee was computed for.
    change:
        Satoshis returned to the sender, 0 when there is no change output.
    """

    inputs: tuple[Utxo, ...]
    outputs: tuple[tuple[bytes, int], ...]
    fee: int
    estimated_vsize: int
    change: int


def _btc(sats: int) -> str:
    return f"{format_base_units(sats, 8)} BTC"


def check_not_dust(spk: bytes, amount: int) -> None:
    """Raise :class:`InvalidAmountError` if ``amount`` is dust for an output to ``spk``."""
    limit = dust_threshold(spk)
    if amount < limit:
        raise InvalidAmountError(
            f"amount {amount} sats is below the dust limit of {limit} sats for this address: "
            f"nodes would not relay the transaction"
        )


def select_coins(
    utxos: Sequence[Utxo],
    input_type: str,
    recipient_spk: bytes,
    amount: int,
    change_spk: bytes,
    fee_rate: Decimal,
) -> Selection:
    """Choose inputs paying ``amount`` to ``recipient_spk`` at ``fee_rate`` sat/vB.

    Raises
    ------
    InvalidAmountError
        If ``amount`` is dust.
    InsufficientFundsError
        If all UTXOs together cannot pay the amount and the fee.
    """
    check_not_dust(recipient_spk, amount)
    change_dust = dust_threshold(change_spk)
    ordered = sorted(utxos, key=lambda u: (not u.confirmed, -u.value, u.txid, u.vout))
    chosen: list[Utxo] = []
    total = 0
    need = amount
    for utxo in ordered:
        chosen.append(utxo)
        total += utxo.value
        types = [input_type] * len(chosen)
        vsize_change = estimate_vsize(types, [recipient_spk, change_spk])
        fee_change = fee_for(vsize_change, fee_rate)
        change = total - amount - fee_change
        if change >= change_dust:
            return Selection(
                tuple(chosen), ((recipient_spk, amount), (change_spk, change)), fee_change,
                vsize_change, change,
            )
        vsize_plain = estimate_vsize(types, [recipient_spk])
        fee_plain = fee_for(vsize_plain, fee_rate)
        need = amount + fee_plain
        if total >= need:
            # A change output would be dust: the remainder (< dust + its cost) joins the fee.
            return Selection(tuple(chosen), ((recipient_spk, amount),), total - amount, vsize_plain, 0)
    available = sum(u.value for u in utxos)
    raise InsufficientFundsError(
        f"insufficient funds: {_btc(available)} in {len(utxos)} spendable output(s), "
        f"need {_btc(need)} (amount + fee at {fee_rate} sat/vB)"
    )
