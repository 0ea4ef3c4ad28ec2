"""ERC-20 calls chainsig makes: ``transfer``, ``balanceOf``, ``decimals``, ``symbol`` (eth-abi)."""

from __future__ import annotations

from dataclasses import dataclass

from chainsig_core.errors import ChainError, InvalidInputError, RpcError

from .address import parse_address
from .rpc import EvmRpc

TRANSFER_SELECTOR = bytes.fromhex("a9059cbb")  # transfer(address,uint256)
BALANCE_OF_SELECTOR = bytes.fromhex("70a08231")  # balanceOf(address)
DECIMALS_SELECTOR = bytes.fromhex("313ce567")  # decimals()
SYMBOL_SELECTOR = bytes.fromhex("95d89b41")  # symbol()


@dataclass(frozen=True)
class TokenInfo:
    """An ERC-20 contract as read from the chain."""

    address: str
    decimals: int
    symbol: str


def transfer_data(to: str, amount: int) -> bytes:
    """Calldata of ``transfer(to, amount)``."""
    from eth_abi import encode

    return TRANSFER_SELECTOR + encode(["address", "uint256"], [to, amount])


def balance_of_data(owner: str) -> bytes:
    """Calldata of ``balanceOf(owner)``."""
    from eth_abi import encode

    return BALANCE_OF_SELECTOR + encode(["address"], [owner])


def read_token(rpc: EvmRpc, token: str) -> TokenInfo:
    """Check that ``token`` is an ERC-20 contract and read its decimals and symbol.

    Raises
    ------
    InvalidAddressError
        For a malformed address.
    InvalidInputError
        If no contract lives there or it does not answer ``decimals()`` like an ERC-20.
    RpcError
    """
    from eth_abi import decode

    address = parse_address(token, "token")
    if not rpc.code(address):
        raise InvalidInputError(f"unknown token {address}: no contract at that address on this chain network")
    try:
        (decimals,) = decode(["uint8"], rpc.eth_call(address, DECIMALS_SELECTOR))
    except RpcError:
        raise
    except Exception:
        raise InvalidInputError(f"unknown token {address}: it does not answer decimals() like an ERC-20") from None
    try:
        (symbol,) = decode(["string"], rpc.eth_call(address, SYMBOL_SELECTOR))
    except RpcError:
        raise
    except Exception:  # symbol() is optional in ERC-20
        symbol = ""
    return TokenInfo(address, int(decimals), str(symbol)[:32])


def token_balance(rpc: EvmRpc, token: str, owner: str) -> int:
    """``balanceOf(owner)`` of ``token``.

    Raises
    ------
    ChainError, RpcError
    """
    from eth_abi import decode

    try:
        (amount,) = decode(["uint256"], rpc.eth_call(token, balance_of_data(owner)))
    except (RpcError, ChainError):
        raise
    except Exception:
        raise ChainError(f"token {token} answered balanceOf() with something that is not a uint256") from None
    return int(amount)
