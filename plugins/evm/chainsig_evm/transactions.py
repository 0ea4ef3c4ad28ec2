"""Unsigned EVM transactions as JSON, their signing hash, and attaching an MPC signature.

The JSON form (``Prepared.tx``) uses eth-account's field names with integers for quantities and
``0x`` hex for ``to`` and ``data``::

    EIP-1559: {"type": 2, "chainId", "nonce", "to", "value", "data", "gas",
               "maxFeePerGas", "maxPriorityFeePerGas", "accessList": []}
    legacy:   {"type": 0, "chainId", "nonce", "to", "value", "data", "gas", "gasPrice"}
              (EIP-155: the chain id is part of the signed hash and of v)

Serialization, the signing hash and recovery are eth-account's; chainsig only maps the signer's
``(r, s, recovery_id)`` onto ``v``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

from chainsig_core.errors import InvalidInputError, SignatureVerificationError
from chainsig_core.signatures import EcdsaSignature

from .address import keccak256, parse_address

LEGACY = 0
EIP1559 = 2

_COMMON_INT_FIELDS = ("chainId", "nonce", "value", "gas")
_FEE_FIELDS = {LEGACY: ("gasPrice",), EIP1559: ("maxFeePerGas", "maxPriorityFeePerGas")}
#: EIP-2718 type bytes eth-account decodes: access list, EIP-1559, blob, set-code.
_TYPED_TRANSACTION_TYPES = (1, 2, 3, 4)


class EvmTxJSON(TypedDict, total=False):
    """``Prepared.tx`` of an EVM transaction."""

    type: int
    chainId: int
    nonce: int
    to: str | None
    value: int
    data: str
    gas: int
    gasPrice: int
    maxFeePerGas: int
    maxPriorityFeePerGas: int
    accessList: list[Any]


def check_tx(tx: Mapping[str, Any]) -> EvmTxJSON:
    """Validate a transaction's JSON form (e.g. read back from a bundle file).

    Raises
    ------
    InvalidInputError
        For a missing or malformed field.
    """
    kind = tx.get("type")
    if kind not in _FEE_FIELDS or isinstance(kind, bool):
        raise InvalidInputError(f"EVM transaction type must be 0 (legacy) or 2 (EIP-1559), not {kind!r}")
    out: dict[str, Any] = {"type": kind}
    for name in (*_COMMON_INT_FIELDS, *_FEE_FIELDS[kind]):
        value = tx.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value >= 2**256:
            raise InvalidInputError(f"EVM transaction field {name!r} must be a non-negative integer")
        out[name] = value
    if out["chainId"] == 0:
        raise InvalidInputError("EVM transaction chainId must not be 0 (replayable on every chain)")
    to = tx.get("to")
    out["to"] = None if to in (None, "") else parse_address(to, "transaction 'to'")
    data = tx.get("data", "0x")
    if not isinstance(data, str) or not data.startswith("0x"):
        raise InvalidInputError("EVM transaction 'data' must be 0x-prefixed hex")
    try:
        bytes.fromhex(data[2:])
    except ValueError:
        raise InvalidInputError("EVM transaction 'data' is not valid hex") from None
    out["data"] = data.lower()
    if kind == EIP1559:
        if out["maxPriorityFeePerGas"] > out["maxFeePerGas"]:
            raise InvalidInputError("the priority fee must not exceed the max fee")
        access = tx.get("accessList", [])
        if not isinstance(access, list):
            raise InvalidInputError("EVM transaction 'accessList' must be a list")
        out["accessList"] = access
    return out  # type: ignore[return-value]


def _eth_account_dict(tx: EvmTxJSON) -> dict[str, Any]:
    d: dict[str, Any] = {k: v for k, v in tx.items() if k != "to"}
    if tx.get("to"):
        d["to"] = tx["to"]
    else:
        d.pop("to", None)  # contract creation
    if tx["type"] == LEGACY:
        d.pop("type")  # eth-account's legacy form has no type; chainId makes it EIP-155
    return d


def _unsigned(tx: EvmTxJSON) -> Any:
    # eth-account's own builder (in its _utils, as used by Account.sign_transaction); it knows
    # every transaction type's RLP layout and EIP-155.
    from eth_account._utils.legacy_transactions import serializable_unsigned_transaction_from_dict

    try:
        return serializable_unsigned_transaction_from_dict(_eth_account_dict(tx))
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"EVM transaction is malformed: {exc}") from None


def signing_hash(tx: Mapping[str, Any]) -> bytes:
    """keccak256 of the unsigned serialized transaction — the payload the signer signs."""
    return bytes(_unsigned(check_tx(tx)).hash())


def attach_signature(tx: Mapping[str, Any], signature: EcdsaSignature) -> bytes:
    """The signed serialized transaction (what ``eth_sendRawTransaction`` takes).

    ``v`` is the y-parity (``recovery_id & 1``) for typed transactions and
    ``chainId·2 + 35 + y-parity`` for legacy EIP-155 ones.

    Raises
    ------
    SignatureVerificationError
        For a recovery id 2 or 3 (R.x ≥ n), which Ethereum cannot express.
    """
    from eth_account._utils.legacy_transactions import encode_transaction

    checked = check_tx(tx)
    if signature.recovery_id & 2:
        raise SignatureVerificationError("recovery id 2/3 (R.x ≥ n) cannot be expressed in an EVM transaction")
    parity = signature.y_parity
    v = parity if checked["type"] != LEGACY else checked["chainId"] * 2 + 35 + parity
    return bytes(encode_transaction(_unsigned(checked), vrs=(v, signature.r, signature.s)))


def recover_sender(raw: bytes) -> str:
    """The checksummed address that signed the serialized transaction ``raw`` (eth-account).

    Raises
    ------
    SignatureVerificationError
        If no sender can be recovered.
    """
    from eth_account import Account

    try:
        return str(Account.recover_transaction(raw))
    except Exception:  # eth-keys/rlp raise a variety of types for garbage
        raise SignatureVerificationError(
            "cannot recover the transaction's sender: its signature (v, r, s) is missing or invalid"
        ) from None


def transaction_hash(raw: bytes) -> str:
    """The transaction id: keccak256 of the signed serialization."""
    return "0x" + keccak256(raw).hex()


def decode_signed(raw: bytes) -> dict[str, Any]:
    """Fields of a signed serialized transaction (``type``, ``chainId``, ``nonce`` …).

    Raises
    ------
    InvalidInputError
        If ``raw`` is not a signed EVM transaction.
    """
    from eth_account._utils.legacy_transactions import Transaction
    from eth_account._utils.signing import extract_chain_id
    from eth_account.typed_transactions import TypedTransaction
    from hexbytes import HexBytes

    if not raw:
        raise InvalidInputError("not a signed EVM transaction: the raw bytes are empty")
    if raw[0] <= 0x7F and raw[0] not in _TYPED_TRANSACTION_TYPES:
        raise InvalidInputError(
            f"not a signed EVM transaction: it starts with 0x{raw[0]:02x}, which is no EVM transaction type "
            "(a legacy transaction starts with an RLP list byte 0xc0-0xff, a typed one with 0x01-0x04)"
        )
    kind = "legacy" if raw[0] > 0x7F else f"type-{raw[0]}"
    try:
        if raw[0] <= 0x7F:
            typed = TypedTransaction.from_bytes(HexBytes(raw))
            fields = dict(typed.as_dict())
            fields["type"] = typed.transaction_type
            return fields
        legacy = Transaction.from_bytes(raw)
        fields = legacy.as_dict()
        fields["chainId"], _ = extract_chain_id(legacy.v)
        fields["type"] = LEGACY
        return fields
    except Exception:  # rlp and eth-account raise a variety of types for garbage
        raise InvalidInputError(
            f"not a signed EVM transaction: its {len(raw)}-byte raw does not decode as a signed {kind} transaction "
            "(truncated or altered raw, or an unsigned one?)"
        ) from None
