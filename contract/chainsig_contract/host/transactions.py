"""NEAR signed transactions: borsh decoding, signature check, and NEAR's JSON views.

Decoding uses near-kit's borsh wire types (``near.wire``, built on pyborsh) — the same
definitions near-kit signs with, so a transaction a NEAR client builds decodes here byte for
byte. Both the tag-less V0 format and V1 (first byte ``0x01``; plain nonces only) are read.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import base58

MAX_TRANSACTION_SIZE = 1_572_864
"""nearcore's ``max_transaction_size`` (1.5 MiB)."""


class TxDecodeError(ValueError):
    """The bytes are not a borsh ``SignedTransaction``."""


@dataclass(frozen=True)
class DecodedTx:
    """A decoded signed transaction.

    ``actions`` are NEAR's JSON action views; ``raw_actions`` the near-kit models.
    """

    hash: bytes
    signer_id: str
    public_key: str
    public_key_type: str
    public_key_data: bytes
    nonce: int
    receiver_id: str
    block_hash: bytes
    actions: list[Any]
    signature_type: str
    signature: bytes
    strict_nonce: bool
    size: int

    @cached_property
    def hash_b58(self) -> str:
        return base58.b58encode(self.hash).decode()

    def signature_valid(self) -> bool:
        """Ed25519 verification of the signature over the transaction hash."""
        if self.public_key_type != "Ed25519" or self.signature_type != "Ed25519":
            return False
        from nacl.exceptions import BadSignatureError
        from nacl.signing import VerifyKey

        try:
            VerifyKey(self.public_key_data).verify(self.hash, self.signature)
        except (BadSignatureError, ValueError, TypeError):
            return False
        return True

    def view(self) -> dict[str, Any]:
        """NEAR's ``SignedTransactionView`` (computed once)."""
        return self._view

    @cached_property
    def _view(self) -> dict[str, Any]:
        prefix = "ed25519:" if self.signature_type == "Ed25519" else "secp256k1:"
        return {
            "signer_id": self.signer_id, "public_key": self.public_key, "nonce": self.nonce,
            "receiver_id": self.receiver_id, "actions": self.actions, "priority_fee": 0,
            "signature": prefix + base58.b58encode(self.signature).decode(),
            "hash": self.hash_b58,
        }


def decode_signed_transaction(raw: bytes) -> DecodedTx:
    """Decode borsh ``SignedTransaction`` bytes.

    Raises
    ------
    TxDecodeError
        With the decoder's reason.
    """
    from pyborsh import BorshError
    from pydantic import ValidationError

    from near import wire

    if not raw:
        raise TxDecodeError("empty transaction")
    try:
        if raw[0] == 1:
            signed: Any = wire.SignedTransactionV1.from_borsh(raw)
        else:
            signed = wire.SignedTransaction.from_borsh(raw)
    except (BorshError, ValidationError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise TxDecodeError(str(exc).splitlines()[0][:200]) from None
    tx = signed.transaction
    tx_bytes = tx.to_borsh()
    strict = False
    nonce = tx.nonce
    if raw[0] == 1:
        if not isinstance(nonce, wire.TransactionNonce.Nonce):
            raise TxDecodeError("gas-key nonces are not supported by the devnet")
        nonce = nonce.nonce
        strict = isinstance(tx.nonce_mode, wire.NonceMode.Strict)
    pk = tx.public_key
    key_prefix = "ed25519:" if pk.variant == "Ed25519" else pk.variant.lower() + ":"
    return DecodedTx(
        hash=hashlib.sha256(tx_bytes).digest(),
        signer_id=tx.signer_id,
        public_key=key_prefix + base58.b58encode(pk.data).decode(),
        public_key_type=pk.variant,
        public_key_data=bytes(pk.data),
        nonce=int(nonce),
        receiver_id=tx.receiver_id,
        block_hash=bytes(tx.block_hash),
        actions=[action_view(a) for a in tx.actions],
        signature_type=signed.signature.variant,
        signature=bytes(signed.signature.data),
        strict_nonce=strict,
        size=len(raw),
    )


def _key_string(wire_key: Any) -> str:
    prefix = "ed25519:" if wire_key.variant == "Ed25519" else wire_key.variant.lower() + ":"
    return prefix + base58.b58encode(wire_key.data).decode()


def permission_view(permission: Any) -> Any:
    """NEAR's JSON of an ``AccessKeyPermission``."""
    if permission.variant == "FullAccess":
        return "FullAccess"
    if permission.variant == "FunctionCall":
        return {"FunctionCall": {
            "allowance": None if permission.allowance is None else str(permission.allowance),
            "receiver_id": permission.receiver_id,
            "method_names": list(permission.method_names),
        }}
    return {permission.variant: {}}


def action_view(action: Any) -> Any:
    """NEAR's ``ActionView`` JSON of a near-kit wire action (unsupported kinds keep their name)."""
    kind = action.variant
    if kind == "CreateAccount":
        return "CreateAccount"
    if kind == "Transfer":
        return {"Transfer": {"deposit": str(action.deposit)}}
    if kind == "FunctionCall":
        return {"FunctionCall": {
            "method_name": action.method_name,
            "args": base64.b64encode(action.args).decode(),
            "gas": int(action.gas), "deposit": str(action.deposit),
        }}
    if kind == "AddKey":
        return {"AddKey": {"public_key": _key_string(action.public_key), "access_key": {
            "nonce": int(action.access_key.nonce),
            "permission": permission_view(action.access_key.permission)}}}
    if kind == "DeleteKey":
        return {"DeleteKey": {"public_key": _key_string(action.public_key)}}
    if kind == "DeleteAccount":
        return {"DeleteAccount": {"beneficiary_id": action.beneficiary_id}}
    return {kind: {}}


def action_kind(view: Any) -> str:
    """The action's name from its JSON view."""
    return view if isinstance(view, str) else next(iter(view))
