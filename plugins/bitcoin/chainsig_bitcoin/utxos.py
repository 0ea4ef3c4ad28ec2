"""Unspent outputs: the value every back end returns and the ``--utxos FILE`` format.

The file is a JSON list, one object per output::

    [{"txid": "<64 hex>", "vout": 0, "value": 150000, "scriptPubKey": "0014…"}, …]

``value`` is an integer of satoshis (a decimal-string integer is accepted too; floats never);
``scriptPubKey`` is optional and, when present, must be the sender's own script.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

from chainsig_core.errors import InvalidInputError

MAX_MONEY = 21_000_000 * 100_000_000
_TXID = re.compile(r"[0-9a-fA-F]{64}")


class UtxoJSON(TypedDict, total=False):
    """One entry of a ``--utxos`` file (and of the bundle's input list)."""

    txid: str
    vout: int
    value: int
    scriptPubKey: str
    confirmed: bool


@dataclass(frozen=True)
class Utxo:
    """An unspent output the sender can spend.

    Parameters
    ----------
    txid:
        Transaction id, hex in the usual (display, big-endian) order.
    vout:
        Output index.
    value:
        Amount in satoshis.
    script_pubkey:
        The output's locking script, or ``None`` when the source did not say.
    confirmed:
        Whether the output is in a block (unconfirmed outputs are selected last).
    """

    txid: str
    vout: int
    value: int
    script_pubkey: bytes | None = None
    confirmed: bool = True

    @property
    def outpoint(self) -> str:
        return f"{self.txid}:{self.vout}"

    def to_json(self) -> UtxoJSON:
        out: UtxoJSON = {"txid": self.txid, "vout": self.vout, "value": self.value}
        if self.script_pubkey is not None:
            out["scriptPubKey"] = self.script_pubkey.hex()
        return out


def parse_utxo(item: Any, where: str = "utxo") -> Utxo:
    """Validate one UTXO object.

    Raises
    ------
    InvalidInputError
        Naming the entry and the field that is wrong.
    """
    if not isinstance(item, Mapping):
        raise InvalidInputError(f"{where} must be a JSON object with txid, vout and value")
    unknown = set(item) - {"txid", "vout", "value", "scriptPubKey", "script_pubkey", "confirmed"}
    if unknown:
        raise InvalidInputError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    txid = item.get("txid")
    if not isinstance(txid, str) or not _TXID.fullmatch(txid):
        raise InvalidInputError(f"{where}: txid must be 64 hex characters")
    vout = item.get("vout")
    if isinstance(vout, bool) or not isinstance(vout, int) or not 0 <= vout < 2**32:
        raise InvalidInputError(f"{where}: vout must be a non-negative integer")
    value = item.get("value")
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"{where}: value must be an integer number of satoshis (not {type(value).__name__})")
    if not 0 < value <= MAX_MONEY:
        raise InvalidInputError(f"{where}: value {value} is out of range (1 … 21e14 sats)")
    spk_hex = item.get("scriptPubKey", item.get("script_pubkey"))
    spk = None
    if spk_hex is not None:
        try:
            spk = bytes.fromhex(spk_hex)
        except (TypeError, ValueError):
            raise InvalidInputError(f"{where}: scriptPubKey must be hex") from None
    confirmed = item.get("confirmed", True)
    if not isinstance(confirmed, bool):
        raise InvalidInputError(f"{where}: confirmed must be true or false")
    return Utxo(txid.lower(), vout, value, spk, confirmed)


def parse_utxo_list(data: Any, source: str = "UTXO list") -> list[Utxo]:
    """Validate a JSON list of UTXOs (no duplicates).

    Raises
    ------
    InvalidInputError
    """
    if not isinstance(data, list):
        raise InvalidInputError(f"{source} must be a JSON list of {{txid, vout, value}} objects")
    utxos = [parse_utxo(item, f"{source} entry {i}") for i, item in enumerate(data)]
    seen: set[str] = set()
    for utxo in utxos:
        if utxo.outpoint in seen:
            raise InvalidInputError(f"{source}: output {utxo.outpoint} is listed twice")
        seen.add(utxo.outpoint)
    return utxos


def load_utxo_file(path: str | os.PathLike[str]) -> list[Utxo]:
    """Read a ``--utxos`` file.

    Raises
    ------
    InvalidInputError
        If it cannot be read, is not JSON, or an entry is malformed.
    """
    try:
        text = Path(path).read_text("utf-8")
    except OSError as exc:
        raise InvalidInputError(f"cannot read UTXO file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidInputError(f"UTXO file {path} is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidInputError(f"UTXO file {path} is not valid JSON: {exc}") from None
    return parse_utxo_list(data, f"UTXO file {path}")
