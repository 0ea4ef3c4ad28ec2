"""Parameter rules of the local Solana RPC (Solana's limits and error wording) and small
result builders shared by the methods."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

import base58

from .errors import invalid_param, invalid_params

PACKET_DATA_SIZE = 1232
U64_MAX = 2**64 - 1
COMMITMENTS = ("processed", "confirmed", "finalized", "recent", "single", "singleGossip", "root", "max")




def require(params: list[Any], count: int) -> None:
    if len(params) < count:
        raise invalid_params(f"`params` should have at least {count} argument(s)")


def config_param(params: list[Any], index: int) -> Mapping[str, Any]:
    if len(params) <= index or params[index] is None:
        return {}
    config = params[index]
    if not isinstance(config, Mapping):
        raise invalid_params("invalid type: expected a configuration object")
    commitment = config.get("commitment")
    if commitment is not None and commitment not in COMMITMENTS:
        raise invalid_params(f"unknown variant `{commitment}`, expected one of `processed`, `confirmed`, `finalized`")
    return config


def pubkey_param(value: Any) -> Any:
    from solders.pubkey import Pubkey

    if not isinstance(value, str):
        raise invalid_params("invalid type: expected a base58 pubkey string")
    try:
        raw = base58.b58decode(value.encode("ascii"), autofix=False)
    except (ValueError, UnicodeEncodeError):
        raise invalid_param("Invalid") from None
    if len(raw) != 32:
        raise invalid_param("WrongSize")
    return Pubkey(raw)


def hash_param(value: Any) -> str:
    pubkey_param(value)  # same 32-byte base58 rules
    return value


def signature_param(value: Any) -> str:
    if not isinstance(value, str):
        raise invalid_params("invalid type: expected a base58 signature string")
    try:
        raw = base58.b58decode(value.encode("ascii"), autofix=False)
    except (ValueError, UnicodeEncodeError):
        raise invalid_param("Invalid") from None
    if len(raw) != 64:
        raise invalid_param("WrongSize")
    return value


def decode(value: Any, encoding: Any, type_name: str) -> bytes:
    if not isinstance(value, str):
        raise invalid_params(f"invalid type: expected an encoded {type_name} string")
    if encoding == "base64":
        limit = (PACKET_DATA_SIZE + 2) // 3 * 4
        if len(value) > limit:
            raise invalid_params(
                f"base64 encoded {type_name} too large: {len(value)} bytes (max: encoded/raw {limit}/{PACKET_DATA_SIZE})"
            )
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise invalid_params(f"invalid base64 encoding: {exc}") from None
    if encoding == "base58":
        limit = 1683
        if len(value) > limit:
            raise invalid_params(
                f"base58 encoded {type_name} too large: {len(value)} bytes (max: encoded/raw {limit}/{PACKET_DATA_SIZE})"
            )
        try:
            return base58.b58decode(value.encode("ascii"), autofix=False)
        except (ValueError, UnicodeEncodeError) as exc:
            raise invalid_params(f"invalid base58 encoding: {exc}") from None
    raise invalid_params(f"unsupported encoding: {encoding}. Supported encodings: base58, base64")


def transaction_param(value: Any, encoding: Any) -> Any:
    from solders.transaction import VersionedTransaction

    raw = decode(value, encoding, "solana_transaction::versioned::VersionedTransaction")
    if len(raw) > PACKET_DATA_SIZE:
        raise invalid_params(
            f"decoded solana_transaction::versioned::VersionedTransaction too large: {len(raw)} bytes (max: {PACKET_DATA_SIZE} bytes)"
        )
    try:
        tx = VersionedTransaction.from_bytes(raw)
    except Exception as exc:  # solders' deserialization error type
        raise invalid_params(
            f"failed to deserialize solana_transaction::versioned::VersionedTransaction: {' '.join(str(exc).split())[:200]}"
        ) from None
    try:
        tx.sanitize()
    except Exception:
        raise invalid_params("invalid transaction: Transaction failed to sanitize accounts offsets correctly") from None
    if not tx.signatures:
        raise invalid_params("invalid transaction: Transaction requires a fee but has no signature present")
    return tx


def simulation_json(err: Any, logs: list[str], units: int) -> dict[str, Any]:
    return {
        "err": err, "logs": logs, "accounts": None, "unitsConsumed": units, "returnData": None,
        "innerInstructions": None, "loadedAccountsDataSize": None,
    }


def ui_amount(amount: int, decimals: int) -> dict[str, Any]:
    from chainsig_core import format_base_units

    text = format_base_units(amount, decimals)
    # uiAmount is a float in Solana's wire format (deprecated there); it is only ever emitted,
    # never used for arithmetic — uiAmountString and amount are the exact values.
    return {"amount": str(amount), "decimals": decimals, "uiAmount": float(text), "uiAmountString": text}


def is_uint(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= U64_MAX
