"""The EVM chain options (``--nonce``, ``--gas``, fees, ``--legacy``, ``--data`` …), parsed once.

Fee options are decimal gwei on the command line (``--max-fee 30``, ``1.5``) or wei with a
suffix (``1500000000wei``); an ``int`` passed from Python is wei. No floats.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chainsig_core.amounts import to_base_units
from chainsig_core.chain import ChainOption
from chainsig_core.errors import InvalidAmountError, InvalidInputError

GWEI_DECIMALS = 9
MAX_GAS = 2**64 - 1
#: Intrinsic gas of any transaction (a plain transfer costs exactly this).
MIN_GAS = 21000
MAX_CHAIN_ID = 2**64 - 1
#: A nonce of 2^64 - 1 is invalid (EIP-2681), so the last usable one is 2^64 - 2.
MAX_NONCE = 2**64 - 2

KNOWN_OPTIONS = ("nonce", "gas", "max_fee", "priority_fee", "gas_price", "legacy", "data", "chain_id", "token_decimals")


@dataclass(frozen=True)
class TxOverrides:
    """Values the user fixed instead of asking the node (all wei / plain integers)."""

    nonce: int | None = None
    gas: int | None = None
    max_fee: int | None = None
    priority_fee: int | None = None
    gas_price: int | None = None
    legacy: bool = False
    data: bytes | None = None
    chain_id: int | None = None
    token_decimals: int | None = None

    def is_offline(self) -> bool:
        """True when nonce, gas and fees are all given: prepare needs no node."""
        fees = self.gas_price is not None if self.legacy else (
            self.max_fee is not None and self.priority_fee is not None
        )
        return self.nonce is not None and self.gas is not None and fees


def cli_options() -> list[ChainOption]:
    """The options core attaches to ``prepare`` and ``send``."""
    return [
        ChainOption("--nonce", "EVM: transaction nonce (default: the node's pending count).", type=int),
        ChainOption("--gas", "EVM: gas limit (default: the node's estimate).", type=int),
        ChainOption("--max-fee", "EVM: EIP-1559 max fee per gas, in gwei ('30', '1.5') or wei ('1000wei')."),
        ChainOption("--priority-fee", "EVM: EIP-1559 priority fee per gas, in gwei or wei ('1000wei')."),
        ChainOption("--gas-price", "EVM: legacy gas price in gwei or wei (implies --legacy)."),
        ChainOption("--legacy", "EVM: legacy EIP-155 transaction instead of EIP-1559.", is_flag=True),
        ChainOption("--data", "EVM: call data as 0x hex: a contract call, --amount is the value sent."),
        ChainOption("--chain-id", "EVM: chain id for offline signing on 'local' (must match the chain network's).", type=int),
        ChainOption("--token-decimals", "EVM: the ERC-20's decimals, for offline signing (checked against the token when online).", type=int),
    ]


def parse_overrides(options: Mapping[str, Any]) -> TxOverrides:
    """Read ``request.options`` into :class:`TxOverrides`.

    Raises
    ------
    InvalidInputError, InvalidAmountError
        For an unknown option (one of another chain: ``unknown EVM option(s): memo, utxos (EVM
        takes: …)``, the wording every chainsig plugin uses) or a malformed value.
    """
    unknown = sorted(str(key) for key in options if key not in KNOWN_OPTIONS)
    if unknown:
        raise InvalidInputError(
            f"unknown EVM option(s): {', '.join(unknown)} (EVM takes: {', '.join(KNOWN_OPTIONS)})"
        )
    gas_price = _fee(options.get("gas_price"), "--gas-price")
    legacy = bool(options.get("legacy")) or gas_price is not None
    max_fee = _fee(options.get("max_fee"), "--max-fee")
    priority_fee = _fee(options.get("priority_fee"), "--priority-fee")
    if legacy and (max_fee is not None or priority_fee is not None):
        raise InvalidInputError("--max-fee/--priority-fee are EIP-1559 fees: use --gas-price with --legacy")
    if max_fee is not None and priority_fee is not None and priority_fee > max_fee:
        raise InvalidInputError("--priority-fee must not exceed --max-fee")
    gas = _count(options.get("gas"), "--gas", MAX_GAS, MIN_GAS, f" ({MIN_GAS} is the cost of any transaction)")
    token_decimals = _count(options.get("token_decimals"), "--token-decimals", 255)
    chain_id = _count(options.get("chain_id"), "--chain-id", MAX_CHAIN_ID, 1)
    return TxOverrides(
        nonce=_count(options.get("nonce"), "--nonce", MAX_NONCE),
        gas=gas,
        max_fee=max_fee,
        priority_fee=priority_fee,
        gas_price=gas_price,
        legacy=legacy,
        data=parse_data(options.get("data")),
        chain_id=chain_id,
        token_decimals=token_decimals,
    )


def parse_data(value: object) -> bytes | None:
    """``--data``: 0x hex (or bytes from Python).

    Raises
    ------
    InvalidInputError
    """
    if value is None:
        return None
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if not isinstance(value, str) or not value.strip().lower().startswith("0x"):
        raise InvalidInputError("--data must be 0x-prefixed hex")
    try:
        return bytes.fromhex(value.strip()[2:])
    except ValueError:
        raise InvalidInputError("--data is not valid hex (an even number of hex digits after 0x)") from None


def _fee(value: object, flag: str) -> int | None:
    """A fee per gas: decimal gwei (``"30"``, ``"1.5"``, ``"30gwei"``), ``"…wei"``, or int wei."""
    if value is None:
        return None
    try:
        return to_base_units(value, GWEI_DECIMALS, base_unit="wei", symbol="gwei")  # type: ignore[arg-type]
    except InvalidAmountError as exc:
        # core words it for amounts ("amount '0.1' has more than 9 decimals, the precision of
        # gwei"): name the option instead of "amount".
        text = str(exc)
        text = f"{flag} {text[len('amount '):]}" if text.startswith("amount '") else f"{flag}: {text}"
        raise InvalidAmountError(text) from None


def _count(value: object, flag: str, maximum: int, minimum: int = 0, why: str = "") -> int | None:
    """A whole number from ``minimum`` to ``maximum``; text (a merged CLI option) must be ASCII digits."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InvalidInputError(f"{flag} must be a whole number from {minimum} to {maximum}{why}, got {value!r}")
    return value
