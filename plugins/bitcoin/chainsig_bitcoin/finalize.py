"""Attach the MPC signatures to a spend and prove the result valid before anyone sees it.

Three independent checks run on every input before a signed transaction is returned:

1. chainsig core's check — the signature verifies (low-s, recovery) under the sender's
   derived key for the digest the bundle asked to sign;
2. the building library's check — embit recomputes the digest from the transaction and
   libsecp256k1 verifies the DER signature against the key;
3. an independent script interpreter — btclib parses the serialized transaction and runs
   each input's scriptSig/witness against the spent output's script with all standard
   script flags, computing the digests with its own sighash code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from chainsig_core.errors import InvalidInputError, SignatureVerificationError
from chainsig_core.keys import Curve, PublicKey
from chainsig_core.signatures import EcdsaSignature, Signature, verify_signature

from .spend import SIGHASH_ALL, UnsignedSpend


@dataclass(frozen=True)
class FinalizedSpend:
    """A fully signed and verified transaction."""

    raw: bytes
    txid: str
    vsize: int
    weight: int
    fee: int
    signatures_der: tuple[bytes, ...]

    def details(self) -> dict[str, Any]:
        """``vsize``, ``weight``, ``fee`` (sats) and ``fee_rate`` (sat/vB, a decimal string)."""
        rate = (Decimal(self.fee) / Decimal(self.vsize)).quantize(Decimal("0.001"), rounding=ROUND_DOWN)
        return {
            "vsize": self.vsize,
            "weight": self.weight,
            "fee": self.fee,
            "fee_rate": str(rate.normalize()) if rate else "0",
        }


def der_signature(signature: EcdsaSignature) -> bytes:
    """The strict-DER encoding of a low-s ECDSA signature (libsecp256k1 via embit)."""
    from embit.ec import Signature as EmbitSignature
    from embit.util import secp256k1

    return EmbitSignature(secp256k1.ecdsa_signature_parse_compact(signature.rs_bytes())).serialize()


def finalize_spend(
    spend: UnsignedSpend,
    sender_key: PublicKey,
    payloads: Sequence[bytes],
    signatures: Sequence[Signature],
) -> FinalizedSpend:
    """Put ``signatures`` (one per input, in order) into ``spend`` and verify every input.

    Raises
    ------
    InvalidInputError
        If the counts disagree or the bundle's key is not the sender's.
    SignatureVerificationError
        If any check fails; nothing is returned then.
    """
    from embit.ec import PublicKey as EmbitPublicKey
    from embit.ec import Signature as EmbitSignature
    from embit.script import Script, Witness

    if sender_key.curve is not Curve.SECP256K1 or sender_key.compressed != spend.public_key:
        raise SignatureVerificationError("the bundle's bitcoin key is not the sender's derived key")
    n = len(spend.inputs)
    if len(payloads) != n or len(signatures) != n:
        raise InvalidInputError(
            f"the spend has {n} input(s) but {len(payloads)} payload(s) and {len(signatures)} signature(s)"
        )
    digests = spend.sighashes()
    for i, (digest, payload) in enumerate(zip(digests, payloads, strict=True)):
        if digest != payload:
            raise SignatureVerificationError(
                f"payload {i} is not the sighash of input {i} of the bundle's transaction "
                f"(the bundle was altered)"
            )
    tx = spend.embit_tx()
    embit_key = EmbitPublicKey.parse(spend.public_key)
    ders: list[bytes] = []
    for i, (digest, signature) in enumerate(zip(digests, signatures, strict=True)):
        if not isinstance(signature, EcdsaSignature):
            raise SignatureVerificationError(f"input {i}: bitcoin needs a secp256k1 ECDSA signature")
        verify_signature(sender_key, digest, signature)  # check 1
        der = der_signature(signature)
        if not embit_key.verify(EmbitSignature.parse(der), digest):  # check 2
            raise SignatureVerificationError(f"input {i}: signature does not verify (embit)")
        push = der + bytes([SIGHASH_ALL])
        if spend.address_type == "p2wpkh":
            tx.vin[i].witness = Witness([push, spend.public_key])
        else:
            tx.vin[i].script_sig = Script(
                bytes([len(push)]) + push + bytes([len(spend.public_key)]) + spend.public_key
            )
        ders.append(der)
    raw = tx.serialize()
    vsize, weight = verify_with_btclib(raw, spend)  # check 3
    return FinalizedSpend(raw, tx.txid().hex(), vsize, weight, spend.fee, tuple(ders))


def verify_with_btclib(raw: bytes, spend: UnsignedSpend) -> tuple[int, int]:
    """Run btclib's script interpreter over every input of ``raw``; return (vsize, weight).

    Raises
    ------
    SignatureVerificationError
        Naming the first input the interpreter rejects, and why.
    """
    from btclib.exceptions import BTClibValueError
    from btclib.script.engine import verify_input
    from btclib.tx.tx import Tx
    from btclib.tx.tx_out import TxOut

    try:
        tx = Tx.parse(raw)
    except (BTClibValueError, ValueError) as exc:
        raise SignatureVerificationError(f"btclib cannot parse the signed transaction: {exc}") from None
    prevouts = [TxOut(u.value, spend.own_script) for u in spend.inputs]
    if len(tx.vin) != len(prevouts):
        raise SignatureVerificationError("btclib sees a different number of inputs")
    for i in range(len(prevouts)):
        try:
            verify_input(prevouts, tx, i)
        except (BTClibValueError, ValueError) as exc:
            raise SignatureVerificationError(
                f"input {i} fails script verification (btclib): {exc}"
            ) from None
    if sum(o.value for o in tx.vout) > sum(p.value for p in prevouts):
        raise SignatureVerificationError("outputs exceed inputs")
    return tx.vsize, tx.weight
