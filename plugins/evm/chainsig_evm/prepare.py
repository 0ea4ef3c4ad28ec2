"""Building the unsigned transaction of a transfer, an ERC-20 transfer or a contract call.

Online values (chain id on ``local``, nonce, fees, gas, token decimals) come from the node
unless :class:`~chainsig_evm.options.TxOverrides` fixes them; when nonce, gas and fees are all
given and the chain id is known, the node is never contacted (air-gapped signing). When the node
is used, the sender's balance is checked before anything is signed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chainsig_core.amounts import format_base_units, to_base_units
from chainsig_core.errors import (
    ChainError,
    InsufficientFundsError,
    InvalidAmountError,
    InvalidInputError,
)
from chainsig_core.keys import Curve
from chainsig_core.payloads import validate_payload
from chainsig_core.types import (
    CallRequest,
    ChainEndpoint,
    ChainRequest,
    DerivedAccount,
    Payload,
    Prepared,
    TransferRequest,
)

from .address import address_from_public_key, parse_address
from .options import TxOverrides, parse_overrides
from .transactions import EIP1559, LEGACY, EvmTxJSON, signing_hash

if TYPE_CHECKING:
    from .chain import EvmChain
    from .rpc import EvmRpc

TRANSFER_GAS = 21000


class LazyRpc:
    """Opens the node connection on first use, so offline preparation never touches it."""

    def __init__(self, endpoint: ChainEndpoint) -> None:
        self.endpoint = endpoint
        self._rpc: EvmRpc | None = None

    def __call__(self) -> EvmRpc:
        if self._rpc is None:
            from .rpc import EvmRpc

            self._rpc = EvmRpc(self.endpoint)
        return self._rpc


@dataclass(frozen=True)
class Intent:
    """What the transaction does, before nonce, gas and fees."""

    to: str | None
    value: int
    data: bytes
    recipient: str | None
    amount: str
    symbol: str
    token: str | None = None
    token_amount: int = 0


def prepare_request(chain: EvmChain, request: ChainRequest, chain_network: str, endpoint: ChainEndpoint) -> Prepared:
    """:meth:`EvmChain.prepare` (see there)."""
    chain.check_chain_network(chain_network)
    overrides = parse_overrides(request.options)
    if overrides.token_decimals is not None and not (isinstance(request, TransferRequest) and request.token is not None):
        raise InvalidInputError("--token-decimals gives an ERC-20 token's decimals: it goes with --token")
    sender = address_from_public_key(request.sender.public_key)
    check_request(chain, request)  # the user's mistakes first, before any node is asked
    rpc = LazyRpc(endpoint)
    chain_id = resolve_chain_id(chain, chain_network, overrides, endpoint, rpc)
    offline = overrides.is_offline() and (chain_id is not None)
    if not offline:
        chain_id = check_node_chain_id(rpc(), chain_id)
    assert chain_id is not None
    intent = _intent(chain, request, overrides, rpc, offline)
    if not offline:
        check_funds(chain, rpc(), sender, intent)
    tx = build_transaction(sender, intent.to, intent.value, intent.data, chain_id, overrides, rpc)
    if not offline:
        check_funds(chain, rpc(), sender, intent, tx)
    return make_prepared(chain, chain_network, request.sender, sender, tx, intent)


def check_request(chain: EvmChain, request: ChainRequest) -> None:
    """Check addresses and amounts that need no node (a token amount's precision needs the
    token's decimals and is checked once they are read).

    Raises
    ------
    InvalidAddressError, InvalidAmountError, InvalidInputError
    """
    if isinstance(request, CallRequest):
        parse_address(request.to, "contract address")
        to_base_units(request.value, chain.decimals, base_unit=chain.base_unit, symbol=chain.symbol)
        return
    if not isinstance(request, TransferRequest):
        raise InvalidInputError(f"{chain.name} cannot prepare a {type(request).__name__}")
    parse_address(request.to, "recipient")
    if request.token is None:
        to_base_units(request.amount, chain.decimals, base_unit=chain.base_unit, symbol=chain.symbol)
        return
    parse_address(request.token, "token")
    amount = request.amount
    if (isinstance(amount, str) and amount.strip().startswith("-")) or (isinstance(amount, int) and amount < 0):
        raise InvalidAmountError(f"amount {amount!r} must not be negative")
    if isinstance(amount, float):
        to_base_units(amount, 0)  # the one message for floats


def resolve_chain_id(
    chain: EvmChain, chain_network: str, overrides: TxOverrides, endpoint: ChainEndpoint, rpc: Callable[[], EvmRpc],
) -> int | None:
    """The chain id of ``chain_network``: the chain's, the config's (``chain_id`` in
    ``[chains.<chain>.<network>]``) or ``--chain-id``; ``None`` when only the node can tell.

    Raises
    ------
    InvalidInputError
        If ``--chain-id`` contradicts the chain network's chain id.
    """
    known = chain.chain_ids.get(chain_network)
    if known is None:
        setting = endpoint.settings.get("chain_id")
        known = setting if isinstance(setting, int) and not isinstance(setting, bool) else None
    if overrides.chain_id is not None:
        if known is not None and overrides.chain_id != known:
            raise InvalidInputError(
                f"--chain-id {overrides.chain_id} contradicts {chain.name} {chain_network} (chain id {known})"
            )
        return overrides.chain_id
    return known


def _intent(chain: EvmChain, request: ChainRequest, overrides: TxOverrides, rpc: Callable[[], EvmRpc], offline: bool) -> Intent:
    def native(amount: str | int) -> int:
        return to_base_units(amount, chain.decimals, base_unit=chain.base_unit, symbol=chain.symbol)

    if isinstance(request, CallRequest):
        to = parse_address(request.to, "contract address")
        value = native(request.value)
        data = bytes(request.data)
        if overrides.data is not None:
            raise InvalidInputError("a contract call carries its data already: do not also give --data")
        return Intent(to, value, data, to, format_base_units(value, chain.decimals), chain.symbol)
    if not isinstance(request, TransferRequest):
        raise InvalidInputError(f"{chain.name} cannot prepare a {type(request).__name__}")
    recipient = parse_address(request.to, "recipient")
    if request.token is None:
        value = native(request.amount)
        data = overrides.data or b""
        return Intent(recipient, value, data, recipient, format_base_units(value, chain.decimals), chain.symbol)
    if overrides.data is not None:
        raise InvalidInputError("--data cannot be combined with --token (the call data is the ERC-20 transfer)")
    from .erc20 import read_token, transfer_data

    token = parse_address(request.token, "token")
    if offline:
        if overrides.token_decimals is None:
            raise InvalidInputError("an offline ERC-20 transfer needs --token-decimals (the token's decimals)")
        decimals, symbol = overrides.token_decimals, ""
    else:
        info = read_token(rpc(), token)
        if overrides.token_decimals is not None and overrides.token_decimals != info.decimals:
            raise InvalidInputError(
                f"--token-decimals {overrides.token_decimals} but token {token} has {info.decimals} decimals"
            )
        decimals, symbol = info.decimals, info.symbol
    amount = to_base_units(request.amount, decimals, symbol=symbol)
    return Intent(
        token, 0, transfer_data(recipient, amount), recipient, format_base_units(amount, decimals),
        symbol or "tokens", token, amount,
    )


def build_transaction(
    sender: str, to: str | None, value: int, data: bytes, chain_id: int, overrides: TxOverrides,
    rpc: Callable[[], EvmRpc],
) -> EvmTxJSON:
    """The unsigned transaction with nonce, fees and gas from ``overrides`` or the node.

    Raises
    ------
    RpcError, ChainError, InsufficientFundsError
    """
    tx: dict[str, Any] = {
        "type": LEGACY if overrides.legacy else EIP1559,
        "chainId": chain_id,
        "nonce": overrides.nonce,
        "to": to,
        "value": value,
        "data": "0x" + data.hex(),
    }
    if overrides.legacy:
        tx["gasPrice"] = overrides.gas_price if overrides.gas_price is not None else rpc().gas_price()
    else:
        tx.update(_eip1559_fees(overrides, rpc))
        tx["accessList"] = []
    if tx["nonce"] is None:
        tx["nonce"] = rpc().nonce(sender)
    if overrides.gas is not None:
        tx["gas"] = overrides.gas
    elif not data and to is not None and not rpc().code(to):
        tx["gas"] = TRANSFER_GAS  # a plain transfer to an account without code
    else:
        call: dict[str, Any] = {"from": sender, "value": value, "data": "0x" + data.hex()}
        if to is not None:
            call["to"] = to
        try:
            tx["gas"] = rpc().estimate_gas(call)
        except ChainError as exc:
            raise ChainError(f"the transaction would fail on chain ({exc})") from None
    return tx  # type: ignore[return-value]


def check_node_chain_id(rpc: EvmRpc, chain_id: int | None) -> int:
    """The node's chain id, which must be ``chain_id`` when that is known: refuses to use a
    node of another chain (a wrong ``--rpc-url``).

    Raises
    ------
    ChainError
    """
    reported = rpc.chain_id()
    if chain_id is not None and reported != chain_id:
        raise ChainError(f"the node at {rpc.where} is chain id {reported}, but the transaction is for chain id {chain_id}")
    return reported


def _eip1559_fees(overrides: TxOverrides, rpc: Callable[[], EvmRpc]) -> dict[str, int]:
    priority = overrides.priority_fee
    max_fee = overrides.max_fee
    if priority is None:
        priority = rpc().max_priority_fee()
        if max_fee is not None:
            priority = min(priority, max_fee)
    if max_fee is None:
        base_fee = rpc().base_fee()
        if base_fee is None:
            raise ChainError("this chain reports no EIP-1559 base fee: use --legacy (and --gas-price)")
        # Room for the base fee to double before inclusion, as wallets do.
        max_fee = 2 * base_fee + priority
    return {"maxFeePerGas": max_fee, "maxPriorityFeePerGas": priority}


def max_fee_per_gas(tx: EvmTxJSON) -> int:
    """The most the transaction may pay per gas."""
    return tx["gasPrice"] if tx["type"] == LEGACY else tx["maxFeePerGas"]


def check_funds(chain: EvmChain, rpc: EvmRpc, sender: str, intent: Intent, tx: EvmTxJSON | None = None) -> None:
    """Refuse before signing when the sender cannot pay.

    Without ``tx`` (before gas is estimated, which would fail less clearly): the tokens and the
    native value. With ``tx``: value + gas × max fee.

    Raises
    ------
    InsufficientFundsError
    """
    if tx is None and intent.token is not None:
        from .erc20 import token_balance

        held = token_balance(rpc, intent.token, sender)
        if held < intent.token_amount:
            raise InsufficientFundsError(
                f"{sender} holds {held} base units of token {intent.token}, needs {intent.token_amount}"
            )
    balance = rpc.balance(sender)
    cost = intent.value if tx is None else tx["value"] + tx["gas"] * max_fee_per_gas(tx)
    if balance < cost:
        what = "" if tx is None else " (value + gas × max fee)"
        raise InsufficientFundsError(
            f"{sender} has {format_base_units(balance, chain.decimals)} {chain.symbol}, needs "
            f"{'' if tx is None else 'up to '}{format_base_units(cost, chain.decimals)} {chain.symbol}{what}"
        )


def make_prepared(
    chain: EvmChain, chain_network: str, account: DerivedAccount, sender: str, tx: EvmTxJSON, intent: Intent,
    label: str = "tx",
) -> Prepared:
    """Wrap ``tx`` with its signing payload and a human summary.

    The payload is signed in ``account``'s domain: 0, or a secp256k1 domain the contract added
    (``address_from_public_key`` already refused a key of another curve).
    """
    payload = validate_payload(Curve.SECP256K1, signing_hash(tx))
    summary: dict[str, Any] = {
        "to": intent.recipient,
        "amount": intent.amount,
        "symbol": intent.symbol,
        "chain_id": tx["chainId"],
        "nonce": tx["nonce"],
        "max_network_fee": format_base_units(tx["gas"] * max_fee_per_gas(tx), chain.decimals),
    }
    if intent.token is not None:
        summary["token"] = intent.token
    return Prepared(
        chain=chain.name, chain_network=chain_network, sender=account, from_address=sender,
        payloads=(Payload(payload, account.domain_id, label),), tx=dict(tx), summary=summary,
    )

