"""SPL token facts the builder and the balance query need: mints, token accounts, ATAs.

Parsing uses solders' own ``Mint``/``TokenAccount`` layouts; the associated-token-account
address and instructions come from solana-py's ``spl.token`` (the real program's derivation).
"""

from __future__ import annotations

from dataclasses import dataclass

from chainsig_core import InvalidInputError

from .ledger import AccountSnapshot, Ledger

TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
TOKEN_2022_PROGRAM = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"
TOKEN_PROGRAMS = (TOKEN_PROGRAM, TOKEN_2022_PROGRAM)
MINT_LEN = 82
TOKEN_ACCOUNT_LEN = 165


@dataclass(frozen=True)
class MintInfo:
    """An SPL mint: its address, decimals and the token program that owns it."""

    address: str
    decimals: int
    program: str


@dataclass(frozen=True)
class TokenAccountInfo:
    """An SPL token account: mint, owner and amount (base units)."""

    address: str
    mint: str
    owner: str
    amount: int


def parse_mint(address: str, account: AccountSnapshot | None) -> MintInfo:
    """The mint at ``address``.

    Raises
    ------
    InvalidInputError
        If there is no account there or it is not an initialized SPL (or Token-2022) mint.
    """
    from solders.token.state import Mint

    if account is None:
        raise InvalidInputError(f"unknown mint {address}: no account exists at that address")
    if account.owner not in TOKEN_PROGRAMS or len(account.data) < MINT_LEN:
        raise InvalidInputError(f"unknown mint {address}: the account there is not an SPL token mint")
    try:
        mint = Mint.from_bytes(account.data[:MINT_LEN])
    except ValueError:
        raise InvalidInputError(f"unknown mint {address}: its data is not a token mint") from None
    if not mint.is_initialized:
        raise InvalidInputError(f"unknown mint {address}: the mint is not initialized")
    return MintInfo(address, mint.decimals, account.owner)


def parse_token_account(address: str, account: AccountSnapshot | None) -> TokenAccountInfo | None:
    """The token account at ``address``, or ``None`` if there is none (or it is not one)."""
    from solders.token.state import TokenAccount

    if account is None or account.owner not in TOKEN_PROGRAMS or len(account.data) < TOKEN_ACCOUNT_LEN:
        return None
    try:
        parsed = TokenAccount.from_bytes(account.data[:TOKEN_ACCOUNT_LEN])
    except ValueError:
        return None
    return TokenAccountInfo(address, str(parsed.mint), str(parsed.owner), parsed.amount)


def associated_token_address(owner: str, mint: str, program: str = TOKEN_PROGRAM) -> str:
    """The associated token account of ``owner`` for ``mint`` (the address the ATA program
    derives: seeds owner ‖ token program ‖ mint)."""
    from solders.pubkey import Pubkey
    from spl.token.instructions import get_associated_token_address

    return str(
        get_associated_token_address(
            Pubkey.from_string(owner), Pubkey.from_string(mint), Pubkey.from_string(program)
        )
    )


def read_mint(ledger: Ledger, mint: str) -> MintInfo:
    """Fetch and parse the mint (see :func:`parse_mint`)."""
    return parse_mint(mint, ledger.get_account(mint))
