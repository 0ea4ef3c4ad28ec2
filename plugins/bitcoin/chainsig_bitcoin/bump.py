"""Fee bumping by replacement (BIP125): the same inputs, a higher fee, taken from the change.

BIP125's rules for the replacement that concern the spender: every original input is spent
again (so the two conflict), the original signals replaceability, and the new absolute fee
pays for the original's fee plus the replacement's own size at the incremental relay fee rate
(rule 4) — and, in practice, a higher fee rate than the original.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from chainsig_core.errors import InsufficientFundsError, InvalidInputError

from .fees import check_fee_rate, dust_threshold, estimate_vsize, fee_for
from .networks import INCREMENTAL_RELAY_FEE_RATE
from .spend import UnsignedSpend
from .utxos import Utxo


def bump_spend(
    spend: UnsignedSpend, fee_rate: Decimal, settings: Mapping[str, Any] | None = None, *,
    where: str = "[chains.bitcoin.<network>]",
) -> UnsignedSpend:
    """The BIP125 replacement of ``spend`` at ``fee_rate`` sat/vB, paid from its change output.

    The change shrinks by the extra fee; when what is left would be dust, the change output is
    dropped and all of it goes to the fee.

    Raises
    ------
    InvalidInputError
        If the original does not signal replaceability, has no change output, or the new fee
        rate is not higher than the original's (or is outside the fee-rate guard).
    InsufficientFundsError
        If the change cannot pay the higher fee.
    """
    settings = settings or {}
    check_fee_rate(fee_rate, settings, what="the new fee rate", where=where)
    if not spend.replaceable:
        raise InvalidInputError(
            "the original transaction does not signal BIP125 replaceability (it was sent with --no-rbf)"
        )
    own = spend.own_script
    change_index = next((i for i in reversed(range(len(spend.outputs))) if spend.outputs[i][0] == own), None)
    if change_index is None or len(spend.outputs) < 2:
        raise InvalidInputError("the original transaction has no change output to pay a higher fee from")
    types = [spend.address_type] * len(spend.inputs)
    scripts = [spk for spk, _ in spend.outputs]
    vsize = estimate_vsize(types, scripts)
    old_fee = spend.fee
    old_rate = Decimal(old_fee) / Decimal(vsize)
    if fee_rate <= old_rate:
        raise InvalidInputError(
            f"the new fee rate must be higher than the original's {old_rate.quantize(Decimal('0.001'))} sat/vB"
        )
    required = max(fee_for(vsize, fee_rate), old_fee + fee_for(vsize, Decimal(INCREMENTAL_RELAY_FEE_RATE)))
    change = spend.outputs[change_index][1]
    new_change = change - (required - old_fee)
    outputs = list(spend.outputs)
    if new_change >= dust_threshold(own):
        outputs[change_index] = (own, new_change)
    else:
        del outputs[change_index]
        vsize = estimate_vsize(types, [spk for spk, _ in outputs])
        required = max(fee_for(vsize, fee_rate), old_fee + fee_for(vsize, Decimal(INCREMENTAL_RELAY_FEE_RATE)))
        if old_fee + change < required:
            raise InsufficientFundsError(
                f"the change ({change} sats) cannot pay the higher fee: {required} sats needed, "
                f"{old_fee} paid so far"
            )
    return replace(spend, outputs=tuple(outputs))


def spend_from_transaction(
    raw: bytes, previous: Mapping[str, bytes], public_key: bytes, address_type: str
) -> UnsignedSpend:
    """Rebuild the :class:`UnsignedSpend` of a broadcast transaction of the derived key.

    Parameters
    ----------
    raw:
        The transaction as the network has it.
    previous:
        The transactions its inputs spend, by txid (their outputs give values and scripts).
    public_key, address_type:
        The sender's compressed key and address form.

    Raises
    ------
    InvalidInputError
        If the transaction cannot be parsed or an input is not the derived key's.
    """
    from embit.base import EmbitError
    from embit.transaction import Transaction

    try:
        tx = Transaction.parse(raw)
        inputs = []
        for vin in tx.vin:
            txid = vin.txid.hex()
            prev = Transaction.parse(previous[txid])
            if prev.txid() != vin.txid:
                raise InvalidInputError(f"previous transaction {txid} does not match its id")
            out = prev.vout[vin.vout]
            inputs.append(Utxo(txid, vin.vout, out.value, out.script_pubkey.data))
    except KeyError as exc:
        raise InvalidInputError(f"previous transaction {exc.args[0]} is missing") from None
    except (EmbitError, ValueError, IndexError, RuntimeError, TypeError) as exc:
        if isinstance(exc, InvalidInputError):
            raise
        raise InvalidInputError("cannot parse the transaction to replace") from None
    return UnsignedSpend(
        address_type, public_key, tuple(inputs), tuple(v.sequence for v in tx.vin),
        tuple((o.script_pubkey.data, o.value) for o in tx.vout), tx.version, tx.locktime,
    )
