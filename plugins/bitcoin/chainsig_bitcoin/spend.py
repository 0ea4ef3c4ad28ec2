"""The unsigned spend: its JSON form (the bundle's ``tx``), the transaction, and its sighashes.

embit builds and serialises the transaction and computes the digests each input signs — BIP143
for P2WPKH, the legacy digest for P2PKH, both with SIGHASH_ALL. embit is imported inside the
functions: importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

from chainsig_core.errors import InvalidInputError

from .addresses import hash160, script_pubkey
from .utxos import Utxo, UtxoJSON, parse_utxo

SPEND_FORMAT = "chainsig-bitcoin-spend/1"
SIGHASH_ALL = 1


class OutputJSON(TypedDict):
    scriptPubKey: str
    value: int


class SpendJSON(TypedDict, total=False):
    """The ``tx`` of a Bitcoin bundle (``chainsig prepare`` output)."""

    format: str
    address_type: str
    public_key: str
    version: int
    locktime: int
    inputs: list[UtxoJSON]
    sequences: list[int]
    outputs: list[OutputJSON]
    unsigned_tx: str
    psbt: str


@dataclass(frozen=True)
class UnsignedSpend:
    """A transaction spending outputs of one derived key, before signing.

    Parameters
    ----------
    address_type:
        ``p2wpkh`` or ``p2pkh``: how every input is locked (the sender's address form).
    public_key:
        The sender's 33-byte compressed key.
    inputs:
        The outputs spent, with values and scripts (the digests commit to them).
    sequences:
        nSequence of each input (``0xfffffffd`` signals BIP125 replaceability).
    outputs:
        ``(scriptPubKey, value)`` pairs.
    version, locktime:
        Transaction version and nLockTime.
    """

    address_type: str
    public_key: bytes
    inputs: tuple[Utxo, ...]
    sequences: tuple[int, ...]
    outputs: tuple[tuple[bytes, int], ...]
    version: int = 2
    locktime: int = 0

    def __post_init__(self) -> None:
        if self.address_type not in ("p2wpkh", "p2pkh"):
            raise InvalidInputError(f"unsupported bitcoin address type {self.address_type!r}")
        if len(self.public_key) != 33 or self.public_key[0] not in (2, 3):
            raise InvalidInputError("the spend's public key must be 33-byte compressed SEC1")
        if not self.inputs or not self.outputs:
            raise InvalidInputError("a bitcoin spend needs at least one input and one output")
        if len(self.sequences) != len(self.inputs):
            raise InvalidInputError("a bitcoin spend needs one nSequence per input")
        own = self.own_script
        for utxo in self.inputs:
            if utxo.script_pubkey is not None and utxo.script_pubkey != own:
                raise InvalidInputError(
                    f"output {utxo.outpoint} is not locked to the sender's {self.address_type} "
                    f"address (wrong --utxos file or --address-type?)"
                )
        for _, value in self.outputs:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidInputError("output values must be non-negative integers of sats")

    @property
    def own_script(self) -> bytes:
        """The sender's scriptPubKey (every input's, and the change's)."""
        return script_pubkey(self.public_key, self.address_type)

    @property
    def input_value(self) -> int:
        return sum(u.value for u in self.inputs)

    @property
    def output_value(self) -> int:
        return sum(v for _, v in self.outputs)

    @property
    def fee(self) -> int:
        return self.input_value - self.output_value

    @property
    def replaceable(self) -> bool:
        """BIP125: some input has nSequence < 0xfffffffe."""
        return any(s < 0xFFFFFFFE for s in self.sequences)

    # -- embit ---------------------------------------------------------------------------------

    def embit_tx(self) -> Any:
        """The unsigned transaction as an ``embit.transaction.Transaction``."""
        from embit.script import Script
        from embit.transaction import Transaction, TransactionInput, TransactionOutput

        vin = [
            TransactionInput(bytes.fromhex(u.txid), u.vout, sequence=seq)
            for u, seq in zip(self.inputs, self.sequences, strict=True)
        ]
        vout = [TransactionOutput(value, Script(spk)) for spk, value in self.outputs]
        return Transaction(version=self.version, vin=vin, vout=vout, locktime=self.locktime)

    def sighashes(self) -> list[bytes]:
        """The 32-byte SIGHASH_ALL digest each input's signature must cover, in input order."""
        from embit.script import Script

        tx = self.embit_tx()
        if self.address_type == "p2wpkh":
            # BIP143: the scriptCode of a P2WPKH input is the P2PKH script of its key hash.
            code = Script(b"\x76\xa9\x14" + hash160(self.public_key) + b"\x88\xac")
            return [tx.sighash_segwit(i, code, u.value, SIGHASH_ALL) for i, u in enumerate(self.inputs)]
        own = Script(self.own_script)
        return [tx.sighash_legacy(i, own, SIGHASH_ALL) for i in range(len(self.inputs))]

    # -- JSON ----------------------------------------------------------------------------------

    def to_json(self, psbt: str | None = None) -> SpendJSON:
        """The bundle's ``tx``; ``unsigned_tx`` is informative (rebuilt from the fields)."""
        inputs: list[UtxoJSON] = []
        for utxo in self.inputs:
            entry = utxo.to_json()
            entry["scriptPubKey"] = self.own_script.hex()
            inputs.append(entry)
        out: SpendJSON = {
            "format": SPEND_FORMAT,
            "address_type": self.address_type,
            "public_key": self.public_key.hex(),
            "version": self.version,
            "locktime": self.locktime,
            "inputs": inputs,
            "sequences": list(self.sequences),
            "outputs": [{"scriptPubKey": spk.hex(), "value": v} for spk, v in self.outputs],
            "unsigned_tx": self.embit_tx().serialize().hex(),
        }
        if psbt is not None:
            out["psbt"] = psbt
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> UnsignedSpend:
        """Read the bundle's ``tx``.

        Raises
        ------
        InvalidInputError
            If it is not a chainsig Bitcoin spend or a field is malformed.
        """
        if not isinstance(data, Mapping) or data.get("format") != SPEND_FORMAT:
            raise InvalidInputError(f"the bundle's tx is not a {SPEND_FORMAT} object")
        try:
            inputs = tuple(parse_utxo(u, f"bundle input {i}") for i, u in enumerate(data["inputs"]))
            outputs = tuple((bytes.fromhex(o["scriptPubKey"]), o["value"]) for o in data["outputs"])
            sequences = tuple(_u32(s, "nSequence") for s in data["sequences"])
            return cls(
                address_type=str(data["address_type"]),
                public_key=bytes.fromhex(data["public_key"]),
                inputs=inputs,
                sequences=sequences,
                outputs=outputs,
                version=_u32(data.get("version", 2), "version"),
                locktime=_u32(data.get("locktime", 0), "locktime"),
            )
        except KeyError as exc:
            raise InvalidInputError(f"the bundle's tx is missing {exc.args[0]!r}") from None
        except (TypeError, ValueError, AttributeError) as exc:
            if isinstance(exc, InvalidInputError):
                raise
            raise InvalidInputError("the bundle's bitcoin transaction is malformed") from None


def _u32(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**32:
        raise InvalidInputError(f"{name} must be a 32-bit unsigned integer")
    return value


def build_spend(
    address_type: str,
    public_key: bytes,
    inputs: Sequence[Utxo],
    outputs: Sequence[tuple[bytes, int]],
    *,
    rbf: bool = True,
) -> UnsignedSpend:
    """An :class:`UnsignedSpend` with BIP125 signalling (``rbf``) or final sequences."""
    from .networks import FINAL_SEQUENCE, RBF_SEQUENCE

    sequence = RBF_SEQUENCE if rbf else FINAL_SEQUENCE
    return UnsignedSpend(
        address_type, public_key, tuple(inputs), tuple(sequence for _ in inputs), tuple(outputs)
    )
