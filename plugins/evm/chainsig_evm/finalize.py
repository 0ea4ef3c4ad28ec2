"""Attaching the signer's signature to a prepared transaction, and broadcasting it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from chainsig_core.errors import ChainError, InvalidInputError, SignatureVerificationError
from chainsig_core.signatures import EcdsaSignature, Signature, verify_signature
from chainsig_core.types import ChainEndpoint, Prepared, Receipt, ReceiptStatus, SignedTx

from .address import address_from_public_key
from .transactions import (
    attach_signature,
    check_tx,
    decode_signed,
    recover_sender,
    signing_hash,
    transaction_hash,
)

if TYPE_CHECKING:
    from .chain import EvmChain

DEFAULT_RECEIPT_TIMEOUT = 120.0
"""Seconds ``broadcast`` waits for the receipt (``receipt_timeout`` in the chain network's
config table overrides it)."""


def finalize_prepared(chain: EvmChain, prepared: Prepared, signatures: Sequence[Signature]) -> SignedTx:
    """:meth:`EvmChain.finalize` (see there)."""
    if prepared.chain != chain.name:
        raise InvalidInputError(f"the bundle is for chain {prepared.chain!r}, not {chain.name!r}")
    chain.check_chain_network(prepared.chain_network)
    if len(prepared.payloads) != 1 or len(signatures) != 1:
        raise InvalidInputError(
            f"an EVM transaction has one payload and one signature, got {len(prepared.payloads)} and {len(signatures)}"
        )
    (signature,) = signatures
    if not isinstance(signature, EcdsaSignature):
        raise SignatureVerificationError("an EVM transaction needs a secp256k1 ECDSA signature")
    sender_key = prepared.sender.public_key
    expected = address_from_public_key(sender_key)
    if prepared.from_address != expected:
        raise SignatureVerificationError(
            f"the bundle's 'from' {prepared.from_address} is not the address of its sender key ({expected})"
        )
    tx = check_tx(prepared.tx)
    payload = signing_hash(tx)
    if payload != prepared.payloads[0].data:
        raise InvalidInputError("the bundle's payload is not the signing hash of its transaction (was it edited?)")
    verify_signature(sender_key, payload, signature)
    raw = attach_signature(tx, signature)
    recovered = recover_sender(raw)
    if recovered != expected:
        raise SignatureVerificationError(
            f"the signed transaction recovers to {recovered}, not the derived address {expected}: refused"
        )
    return SignedTx(
        chain=chain.name,
        chain_network=prepared.chain_network,
        raw="0x" + raw.hex(),
        tx_hash=transaction_hash(raw),
        details={"from": expected, "nonce": tx["nonce"], "chain_id": tx["chainId"], "type": tx["type"]},
    )


def broadcast_signed(chain: EvmChain, signed: SignedTx, endpoint: ChainEndpoint) -> Receipt:
    """:meth:`EvmChain.broadcast` (see there)."""
    from .rpc import EvmRpc

    if signed.chain != chain.name:
        raise InvalidInputError(f"the signed transaction is for chain {signed.chain!r}, not {chain.name!r}")
    raw = _raw_bytes(signed.raw)
    fields = decode_signed(raw)
    sender = recover_sender(raw)
    tx_hash = transaction_hash(raw)
    if signed.tx_hash.lower() != tx_hash:
        raise InvalidInputError("the signed transaction's tx_hash does not match its raw bytes")
    timeout = float(endpoint.settings.get("receipt_timeout", DEFAULT_RECEIPT_TIMEOUT))
    rpc = EvmRpc(endpoint)
    reported = rpc.send_raw(raw)
    if reported.lower() != tx_hash:
        raise ChainError(f"the node reports hash {reported} for transaction {tx_hash}")
    receipt = rpc.wait_for_receipt(tx_hash, timeout)
    details: dict[str, object] = {"from": sender, "nonce": int(fields["nonce"]), "chain_id": fields.get("chainId")}
    if receipt is None:
        return Receipt(chain.name, signed.chain_network, tx_hash, "broadcast", details)
    details.update(
        block_number=int(receipt["blockNumber"]),
        gas_used=int(receipt["gasUsed"]),
        effective_gas_price=int(receipt.get("effectiveGasPrice") or 0),
    )
    status: ReceiptStatus = "confirmed" if int(receipt["status"]) == 1 else "failed"
    return Receipt(chain.name, signed.chain_network, tx_hash, status, details)


def _raw_bytes(raw: str) -> bytes:
    text = raw.strip()
    if not text.startswith("0x"):
        raise InvalidInputError("an EVM signed transaction is 0x-prefixed hex")
    try:
        return bytes.fromhex(text[2:])
    except ValueError:
        raise InvalidInputError("the signed transaction is not valid hex") from None
