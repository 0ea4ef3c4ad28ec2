"""PSBT (BIP174) export and import through embit, so other wallets can co-operate.

Export: the unsigned spend with each input's UTXO (``witness_utxo`` for P2WPKH, plus
``non_witness_utxo`` when the previous transaction is known — required for P2PKH) and
SIGHASH_ALL; after finalize, the same PSBT with ``partial_sigs`` and the final scripts.

Import: a PSBT made by another wallet (Sparrow, Bitcoin Core's ``walletcreatefundedpsbt`` …)
whose inputs all belong to one derived key becomes an :class:`UnsignedSpend`, whose sighashes
are the payloads chainsig signs.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping, Sequence

from chainsig_core.errors import InvalidInputError

from .addresses import script_pubkey
from .spend import SIGHASH_ALL, UnsignedSpend
from .utxos import Utxo


def export_psbt(
    spend: UnsignedSpend,
    prev_txs: Mapping[str, bytes] | None = None,
    signatures_der: Sequence[bytes] | None = None,
) -> str:
    """The spend as a base64 PSBT; with ``signatures_der`` also the partial and final scripts.

    Parameters
    ----------
    spend:
        The unsigned spend.
    prev_txs:
        Serialized previous transactions by txid (needed for P2PKH inputs; recommended for all).
    signatures_der:
        DER signatures (without the sighash byte), one per input, already verified.
    """
    from embit.ec import PublicKey
    from embit.psbt import PSBT
    from embit.script import Script, Witness
    from embit.transaction import TransactionOutput

    psbt = PSBT(spend.embit_tx())
    own = Script(spend.own_script)
    key = PublicKey.parse(spend.public_key)
    for i, (utxo, scope) in enumerate(zip(spend.inputs, psbt.inputs, strict=True)):
        scope.sighash_type = SIGHASH_ALL
        prev = (prev_txs or {}).get(utxo.txid)
        if prev is not None:
            scope.non_witness_utxo = _previous_transaction(prev, utxo)
        if spend.address_type == "p2wpkh":
            scope.witness_utxo = TransactionOutput(utxo.value, own)
        if signatures_der is not None:
            push = signatures_der[i] + bytes([SIGHASH_ALL])
            scope.partial_sigs[key] = push
            if spend.address_type == "p2wpkh":
                scope.final_scriptwitness = Witness([push, spend.public_key])
            else:
                scope.final_scriptsig = Script(
                    bytes([len(push)]) + push + bytes([len(spend.public_key)]) + spend.public_key
                )
    return psbt.to_string()


def _previous_transaction(raw: bytes, utxo: Utxo) -> object:
    from embit.transaction import Transaction

    try:
        tx = Transaction.parse(raw)
        out = tx.vout[utxo.vout]
    except Exception:  # noqa: BLE001 - embit signals malformed bytes with assorted builtins
        raise InvalidInputError(f"previous transaction {utxo.txid} cannot be parsed") from None
    if tx.txid().hex() != utxo.txid or out.value != utxo.value:
        raise InvalidInputError(
            f"previous transaction for {utxo.outpoint} does not match the output being spent"
        )
    return tx


def import_psbt(psbt_text: str, public_key: bytes) -> UnsignedSpend:
    """Read a base64 PSBT whose inputs all spend outputs of ``public_key`` (33 bytes).

    The address type (P2WPKH or P2PKH) is read from the inputs' UTXOs; mixed inputs are
    refused. A P2PKH input needs its full previous transaction (``non_witness_utxo``), since
    the legacy sighash does not commit to the amount.

    Raises
    ------
    InvalidInputError
        For a malformed PSBT, an input without UTXO data, a previous transaction that does not
        match its txid, or an input not locked to ``public_key``.
    """
    from embit.base import EmbitError
    from embit.psbt import PSBT

    try:
        psbt = PSBT.from_string(psbt_text.strip())
        psbt.tx  # noqa: B018 - builds the unsigned transaction: fails here if fields are missing
    except (EmbitError, ValueError, binascii.Error, IndexError, TypeError, KeyError, AttributeError, RuntimeError,
            OverflowError):
        # embit reports malformed input through assorted builtin errors (a short read is a
        # RuntimeError, a length beyond any index an OverflowError); each means the same to the user.
        raise InvalidInputError("not a valid base64 PSBT (BIP174)") from None
    scripts = {script_pubkey(public_key, t): t for t in ("p2wpkh", "p2pkh")}
    inputs: list[Utxo] = []
    kinds: set[str] = set()
    for i, scope in enumerate(psbt.inputs):
        txid = scope.txid.hex()
        if scope.non_witness_utxo is not None:
            if scope.non_witness_utxo.txid() != scope.txid:
                raise InvalidInputError(f"PSBT input {i}: non_witness_utxo is not transaction {txid}")
            if scope.vout >= len(scope.non_witness_utxo.vout):
                raise InvalidInputError(f"PSBT input {i}: previous transaction has no output {scope.vout}")
            utxo = scope.non_witness_utxo.vout[scope.vout]
        elif scope.witness_utxo is not None:
            utxo = scope.witness_utxo
        else:
            raise InvalidInputError(f"PSBT input {i} carries no UTXO (witness_utxo or non_witness_utxo)")
        spk = utxo.script_pubkey.data
        kind = scripts.get(spk)
        if kind is None:
            raise InvalidInputError(f"PSBT input {i} is not locked to the derived key (P2WPKH or P2PKH)")
        if kind == "p2pkh" and scope.non_witness_utxo is None:
            raise InvalidInputError(f"PSBT input {i} is P2PKH and needs its non_witness_utxo")
        if scope.sighash_type not in (None, SIGHASH_ALL):
            raise InvalidInputError(f"PSBT input {i} asks for sighash type {scope.sighash_type}; chainsig signs SIGHASH_ALL only")
        kinds.add(kind)
        inputs.append(Utxo(txid, scope.vout, utxo.value, spk))
    if len(kinds) != 1:
        raise InvalidInputError("PSBT inputs must all be P2WPKH or all P2PKH of the derived key")
    tx = psbt.tx
    return UnsignedSpend(
        address_type=kinds.pop(),
        public_key=public_key,
        inputs=tuple(inputs),
        sequences=tuple(vin.sequence for vin in tx.vin),
        outputs=tuple((out.script_pubkey.data, out.value) for out in tx.vout),
        version=tx.version,
        locktime=tx.locktime,
    )
