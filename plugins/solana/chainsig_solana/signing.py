"""Finalize: attach the 64-byte Ed25519 signature to the prepared message, verified.

Nothing leaves this module unless (1) the bundle's payload is exactly its message, (2) the
message's fee payer is the derived account, (3) the signature verifies under the derived key
(RFC 8032, PyNaCl) and (4) solders' own transaction verification agrees.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import TYPE_CHECKING

from chainsig_core import (
    Curve,
    Ed25519Signature,
    InvalidInputError,
    Prepared,
    Signature,
    SignatureVerificationError,
    SignedTx,
    verify_signature,
)

from .addresses import encode_address
from .builder import check_transaction_size

if TYPE_CHECKING:
    from .chain import SolanaChain


def bundle_message(prepared: Prepared) -> bytes:
    """The serialized message of a bundle, checked against its single payload.

    Raises
    ------
    InvalidInputError
        If the bundle is not a Solana bundle of one payload whose bytes are its message.
    """
    if len(prepared.payloads) != 1:
        raise InvalidInputError(f"a Solana bundle has exactly one payload, this one has {len(prepared.payloads)}")
    encoded = prepared.tx.get("message")
    if not isinstance(encoded, str):
        raise InvalidInputError("the Solana bundle has no base64 'message'")
    try:
        message = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInputError("the Solana bundle's 'message' is not valid base64") from None
    if prepared.payloads[0].data != message:
        raise InvalidInputError("the bundle's payload is not its message: the bundle was altered")
    if prepared.sender.public_key.curve is not Curve.ED25519:
        raise InvalidInputError("a Solana bundle's sender has an ed25519 key")
    if prepared.payloads[0].domain_id != prepared.sender.domain_id:
        raise InvalidInputError(
            f"the Solana payload is for domain {prepared.payloads[0].domain_id}, but the sender's key is "
            f"derived in domain {prepared.sender.domain_id}: the bundle was altered"
        )
    return message


def finalize_transaction(chain: SolanaChain, prepared: Prepared, signatures: Sequence[Signature]) -> SignedTx:
    """Build the signed transaction (base64 wire form) from a bundle and its one signature.

    Raises
    ------
    InvalidInputError
        Malformed bundle, wrong number of signatures, or a message that does not parse.
    SignatureVerificationError
        If the signature is not an Ed25519 signature of the message by the derived key.
    """
    from solders.message import from_bytes_versioned
    from solders.signature import Signature as SoldersSignature
    from solders.transaction import VersionedTransaction

    message = bundle_message(prepared)
    if len(signatures) != 1:
        raise InvalidInputError(f"a Solana transaction takes exactly one signature, got {len(signatures)}")
    (signature,) = signatures
    if not isinstance(signature, Ed25519Signature):
        raise SignatureVerificationError("Solana needs an Ed25519 signature, not an ECDSA one")
    sender_key = prepared.sender.public_key
    sender = chain.address(sender_key, prepared.chain_network)
    try:
        msg = from_bytes_versioned(message)
    except Exception:  # solders raises its own deserialization errors
        raise InvalidInputError("the bundle's message is not a valid Solana message") from None
    if msg.header.num_required_signatures != 1 or str(msg.account_keys[0]) != sender:
        raise InvalidInputError("the bundle's message is not paid for and signed by the derived account alone")
    verify_signature(sender_key, message, signature)
    tx = VersionedTransaction.populate(msg, [SoldersSignature.from_bytes(signature.signature)])
    if not all(tx.verify_with_results()):  # pragma: no cover - PyNaCl already verified
        raise SignatureVerificationError("the Solana transaction's signature does not verify")
    raw = bytes(tx)
    check_transaction_size(message)
    return SignedTx(
        chain=chain.name,
        chain_network=prepared.chain_network,
        raw=base64.b64encode(raw).decode("ascii"),
        tx_hash=str(tx.signatures[0]),
        details={
            "encoding": "base64",
            "version": prepared.tx.get("version", "legacy"),
            "size": len(raw),
            "fee_payer": encode_address(sender_key.data),
            "recent_blockhash": str(msg.recent_blockhash),
            "last_valid_block_height": prepared.tx.get("last_valid_block_height"),
        },
    )
