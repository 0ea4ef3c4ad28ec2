"""Speeding up or cancelling a pending transaction: the same nonce with higher fees.

Nodes replace a pending transaction only when both fee caps rise by at least 10 % (geth's
``txpool.pricebump``, which anvil, reth and op-geth follow). A speed-up resends the same call;
a cancel sends 0 to the sender itself, which costs 21,000 gas and uses up the nonce.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from chainsig_core.amounts import format_base_units
from chainsig_core.errors import ChainError, InvalidInputError
from chainsig_core.types import ChainEndpoint, DerivedAccount, Prepared

from .address import address_from_public_key, parse_address
from .options import TxOverrides, parse_overrides
from .prepare import TRANSFER_GAS, Intent, check_funds, check_node_chain_id, make_prepared
from .transactions import EIP1559, LEGACY

if TYPE_CHECKING:
    from .chain import EvmChain
    from .rpc import EvmRpc

PRICE_BUMP_PERCENT = 10
ReplaceMode = Literal["speed-up", "cancel"]


def bumped(fee: int) -> int:
    """The smallest fee a node accepts as a replacement of ``fee`` (+10 %, rounded up)."""
    return -(-fee * (100 + PRICE_BUMP_PERCENT) // 100)


def prepare_replacement(
    chain: EvmChain,
    sender: DerivedAccount,
    tx_hash: str,
    chain_network: str,
    endpoint: ChainEndpoint,
    *,
    mode: ReplaceMode,
    options: Mapping[str, Any] | None = None,
) -> Prepared:
    """An unsigned replacement of the pending transaction ``tx_hash`` sent by ``sender``.

    Parameters
    ----------
    chain, chain_network, endpoint:
        Where the pending transaction is.
    sender:
        The derived account that sent it.
    tx_hash:
        Its hash.
    mode:
        ``"speed-up"`` (same call, higher fees) or ``"cancel"`` (0 to self, higher fees).
    options:
        ``max_fee``/``priority_fee``/``gas_price`` to set the new fees (at least the +10 %
        bump; default: the larger of the bump and the node's current fees).

    Raises
    ------
    InvalidInputError
        Unknown hash, a transaction of another sender, or fees below the bump.
    ChainError
        The transaction is already mined.
    InsufficientFundsError, RpcError
    """
    from .rpc import EvmRpc

    if mode not in ("speed-up", "cancel"):
        raise InvalidInputError("mode must be 'speed-up' or 'cancel'")
    overrides = parse_overrides(dict(options or {}))
    if overrides.nonce is not None or overrides.data is not None or overrides.chain_id is not None:
        raise InvalidInputError("a replacement keeps the pending transaction's nonce, data and chain id")
    chain.check_chain_network(chain_network)
    address = address_from_public_key(sender.public_key)
    rpc = EvmRpc(endpoint)
    tx_hash = _check_hash(tx_hash)
    original = rpc.transaction(tx_hash)
    if original is None:
        raise InvalidInputError(f"the node at {rpc.where} does not know transaction {tx_hash}")
    if parse_address(original["from"]) != address:
        raise InvalidInputError(f"transaction {tx_hash} was sent by {original['from']}, not by {address}")
    if original.get("blockNumber") is not None:
        raise ChainError(f"transaction {tx_hash} is already mined in block {int(original['blockNumber'])}: nothing to replace")
    chain_id = check_node_chain_id(rpc, chain.chain_ids.get(chain_network))
    kind = int(original.get("type") or 0)
    if kind not in (LEGACY, EIP1559):
        raise ChainError(f"transaction {tx_hash} has type {kind}; chainsig replaces only legacy and EIP-1559 transactions")
    tx: dict[str, Any] = {"type": kind, "chainId": chain_id, "nonce": int(original["nonce"])}
    if mode == "cancel":
        tx.update(to=address, value=0, data="0x", gas=TRANSFER_GAS)
    else:
        to = original.get("to")
        tx.update(
            to=parse_address(to) if to else None,
            value=int(original["value"]),
            data="0x" + bytes(original.get("input") or b"").hex(),
            gas=overrides.gas or int(original["gas"]),
        )
    tx.update(_replacement_fees(kind, original, overrides, rpc))
    if kind == EIP1559:
        tx["accessList"] = []
    symbol = chain.symbol
    recipient = tx["to"]
    intent = Intent(recipient, tx["value"], b"", recipient, format_base_units(tx["value"], chain.decimals), symbol)
    check_funds(chain, rpc, address, intent, tx)  # type: ignore[arg-type]
    prepared = make_prepared(chain, chain_network, sender, address, tx, intent, label=mode)  # type: ignore[arg-type]
    return Prepared(
        prepared.chain, prepared.chain_network, prepared.sender, prepared.from_address,
        prepared.payloads, prepared.tx, {**prepared.summary, "replaces": tx_hash, "mode": mode},
    )


def _replacement_fees(kind: int, original: Mapping[str, Any], overrides: TxOverrides, rpc: EvmRpc) -> dict[str, int]:
    if kind == LEGACY:
        if overrides.max_fee is not None or overrides.priority_fee is not None:
            raise InvalidInputError("the pending transaction is legacy: give --gas-price, not EIP-1559 fees")
        floor = bumped(int(original["gasPrice"]))
        return {"gasPrice": _at_least(overrides.gas_price, floor, "--gas-price", rpc.gas_price)}
    if overrides.gas_price is not None:
        raise InvalidInputError("the pending transaction is EIP-1559: give --max-fee/--priority-fee, not --gas-price")
    priority = _at_least(
        overrides.priority_fee, bumped(int(original["maxPriorityFeePerGas"])), "--priority-fee", rpc.max_priority_fee
    )

    def current_max() -> int:
        base = rpc.base_fee()
        return 2 * (base or 0) + priority

    max_fee = _at_least(overrides.max_fee, max(bumped(int(original["maxFeePerGas"])), priority), "--max-fee", current_max)
    return {"maxFeePerGas": max_fee, "maxPriorityFeePerGas": priority}


def _at_least(given: int | None, floor: int, flag: str, current: Any) -> int:
    if given is not None:
        if given < floor:
            raise InvalidInputError(
                f"{flag} must be at least {format_base_units(floor, 9)} gwei to replace the pending transaction"
            )
        return given
    return max(floor, int(current()))


def _check_hash(tx_hash: object) -> str:
    if not isinstance(tx_hash, str):
        raise InvalidInputError("a transaction hash is 0x followed by 64 hex digits")
    text = tx_hash.strip().lower()
    if len(text) != 66 or not text.startswith("0x") or any(c not in "0123456789abcdef" for c in text[2:]):
        raise InvalidInputError(f"{tx_hash!r} is not a transaction hash (0x followed by 64 hex digits)")
    return text
