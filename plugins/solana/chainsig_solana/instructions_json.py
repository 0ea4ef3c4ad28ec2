"""Arbitrary instructions given as JSON (``--instructions FILE``).

The format — one object per instruction, in order::

    [{"program_id": "<base58>",
      "accounts": [{"pubkey": "<base58>", "is_signer": false, "is_writable": true}],
      "data": "<base64>"}]

``programId``/``isSigner``/``isWritable`` (web3.js spelling) are accepted too, and
``"data_hex": "<hex>"`` instead of ``data``. Only the derived account can sign, so any other
account marked as a signer is refused.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from chainsig_core import InvalidInputError

from .addresses import decode_address, encode_address

if TYPE_CHECKING:
    from solders.instruction import Instruction


class AccountMetaJSON(TypedDict, total=False):
    """One account of an instruction."""

    pubkey: str
    is_signer: bool
    is_writable: bool


class InstructionJSON(TypedDict, total=False):
    """One instruction."""

    program_id: str
    accounts: list[AccountMetaJSON]
    data: str
    data_hex: str


def load_instructions(source: str | Path | Sequence[Any], signer: str) -> list[Instruction]:
    """Read instructions from a JSON file path or from already-parsed JSON.

    Parameters
    ----------
    source:
        A path to a JSON file, or the parsed list.
    signer:
        The derived account (base58): the only account allowed to be a signer.

    Returns
    -------
    list[solders.instruction.Instruction]

    Raises
    ------
    InvalidInputError
        For an unreadable file, invalid JSON, or a malformed instruction (the message names the
        instruction and field).
    """
    if isinstance(source, str | Path):
        path = Path(source)
        try:
            text = path.read_text("utf-8")
        except OSError as exc:
            raise InvalidInputError(f"cannot read instructions file {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise InvalidInputError(f"instructions file {path} is not UTF-8 text") from None
        try:
            parsed = json.loads(text)
        except ValueError as exc:
            raise InvalidInputError(f"instructions file {path} is not valid JSON: {exc}") from None
    else:
        parsed = source
    if isinstance(parsed, Mapping):
        parsed = [parsed]
    if not isinstance(parsed, list) or not parsed:
        raise InvalidInputError("instructions must be a non-empty JSON list of instruction objects")
    return [_instruction(i, item, signer) for i, item in enumerate(parsed)]


def _instruction(index: int, item: Any, signer: str) -> Instruction:
    from solders.instruction import AccountMeta, Instruction
    from solders.pubkey import Pubkey

    where = f"instruction {index}"
    if not isinstance(item, Mapping):
        raise InvalidInputError(f"{where} must be a JSON object")
    unknown = set(item) - {"program_id", "programId", "accounts", "keys", "data", "data_hex"}
    if unknown:
        raise InvalidInputError(f"{where}: unknown fields {sorted(unknown)}")
    program = item.get("program_id", item.get("programId"))
    program_id = Pubkey(decode_address(program, f"{where} program_id"))
    accounts_raw = item.get("accounts", item.get("keys", []))
    if not isinstance(accounts_raw, list):
        raise InvalidInputError(f"{where}: accounts must be a list")
    metas = []
    for j, meta in enumerate(accounts_raw):
        at = f"{where} account {j}"
        if not isinstance(meta, Mapping):
            raise InvalidInputError(f"{at} must be a JSON object")
        key = encode_address(decode_address(meta.get("pubkey"), f"{at} pubkey"))
        is_signer = _flag(meta, "is_signer", "isSigner", at)
        is_writable = _flag(meta, "is_writable", "isWritable", at)
        if is_signer and key != signer:
            raise InvalidInputError(
                f"{at} ({key}) is marked as a signer, but only the derived account {signer} signs"
            )
        metas.append(AccountMeta(Pubkey.from_string(key), is_signer, is_writable))
    return Instruction(program_id, _data(item, where), metas)


def _flag(meta: Mapping[str, Any], snake: str, camel: str, where: str) -> bool:
    value = meta.get(snake, meta.get(camel, False))
    if not isinstance(value, bool):
        raise InvalidInputError(f"{where}: {snake} must be true or false")
    return value


def _data(item: Mapping[str, Any], where: str) -> bytes:
    if "data" in item and "data_hex" in item:
        raise InvalidInputError(f"{where}: give either data (base64) or data_hex, not both")
    if "data_hex" in item:
        value = item["data_hex"]
        if not isinstance(value, str):
            raise InvalidInputError(f"{where}: data_hex must be a hex string")
        try:
            return bytes.fromhex(value[2:] if value[:2] in ("0x", "0X") else value)
        except ValueError:
            raise InvalidInputError(f"{where}: data_hex is not valid hex") from None
    value = item.get("data", "")
    if not isinstance(value, str):
        raise InvalidInputError(f"{where}: data must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInputError(f"{where}: data is not valid base64") from None
