"""Build the unsigned Solana message for a transfer or a program call.

The payload chainsig signs is the serialized message (``to_bytes_versioned``: the legacy bytes,
or ``0x80`` + the v0 bytes). Everything that can be checked before signing is checked here:
addresses, amounts, the mint, the 1232-byte transaction limit, and — when online — whether the
sender can pay amount, fee and rent.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chainsig_core import (
    CallRequest,
    InsufficientFundsError,
    InvalidAddressError,
    InvalidAmountError,
    InvalidInputError,
    Payload,
    Prepared,
    TransferRequest,
    format_base_units,
    to_base_units,
)
from chainsig_core.types import ChainRequest

from .addresses import canonical_address, decode_address
from .ledger import Ledger, RecentBlockhash
from .tokens import TOKEN_PROGRAM, MintInfo, associated_token_address, parse_mint, parse_token_account

if TYPE_CHECKING:
    from solders.instruction import Instruction

    from .chain import SolanaChain

PACKET_DATA_SIZE = 1232
"""Solana's limit on a serialized transaction (bytes): an IPv6 MTU minus headers."""

SIGNATURE_BYTES = 64
U64_MAX = 2**64 - 1
MAX_COMPUTE_UNIT_LIMIT = 1_400_000


@dataclass(frozen=True)
class BuildOptions:
    """The chain options of a request, checked (see :meth:`SolanaChain.cli_options`)."""

    blockhash: str | None = None
    priority_fee: int | None = None
    compute_units: int | None = None
    v0: bool = False
    instructions: Any = None
    token_decimals: int | None = None

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> BuildOptions:
        """Validate ``request.options``.

        Raises
        ------
        InvalidInputError
        """
        known = {"blockhash", "priority_fee", "compute_units", "v0", "instructions", "token_decimals"}
        unknown = set(options) - known
        if unknown:
            raise InvalidInputError(f"unknown Solana option(s): {', '.join(sorted(unknown))} "
                                    f"(Solana takes: {', '.join(sorted(known))})")
        blockhash = options.get("blockhash")
        if blockhash is not None:
            blockhash = canonical_address(blockhash, "blockhash")
        return cls(
            blockhash=blockhash,
            priority_fee=_int_option(options, "priority_fee", 0, U64_MAX),
            compute_units=_int_option(options, "compute_units", 1, MAX_COMPUTE_UNIT_LIMIT),
            v0=bool(options.get("v0", False)),
            instructions=options.get("instructions"),
            token_decimals=_int_option(options, "token_decimals", 0, 255),
        )


@dataclass
class _Plan:
    """What the message will do, collected before compiling it."""

    instructions: list[Instruction] = field(default_factory=list)
    lamports_out: int = 0  # SOL leaving the sender besides the fee
    summary: dict[str, Any] = field(default_factory=dict)


def build_prepared(
    chain: SolanaChain,
    request: ChainRequest,
    chain_network: str,
    ledger_factory: Callable[[], Ledger],
) -> Prepared:
    """Build the unsigned bundle for ``request``.

    Parameters
    ----------
    chain:
        The solana chain (for the sender's address).
    request:
        A :class:`TransferRequest` (SOL, or SPL with ``token`` = the mint) or a
        :class:`CallRequest` (``to`` = program id, ``data``; accounts in
        ``options["accounts"]`` in the ``--instructions`` format).
    chain_network:
        The chain network.
    ledger_factory:
        Opens the :class:`Ledger` for online values; not called when ``--blockhash`` is given
        (offline preparation).

    Returns
    -------
    Prepared
        One payload: the serialized message, in the sender's domain (1, or an ed25519 domain
        the contract added).

    Raises
    ------
    InvalidInputError, InvalidAddressError, InvalidAmountError
        Bad request values, an unknown mint, or a transaction over 1232 bytes.
    InsufficientFundsError
        (online) When the sender cannot pay amount, fee and rent.
    RpcError
        The RPC could not be reached.
    """
    sender = chain.address(request.sender.public_key, chain_network)
    options_map = dict(request.options)
    accounts_for_call = options_map.pop("accounts", None) if isinstance(request, CallRequest) else None
    opts = BuildOptions.from_options(options_map)
    ledger = None if opts.blockhash is not None else ledger_factory()
    try:
        plan = _Plan()
        _add_compute_budget(plan, opts)
        if isinstance(request, TransferRequest):
            _add_transfer(plan, chain, request, sender, opts, ledger)
        elif isinstance(request, CallRequest):
            _add_call(plan, request, sender, accounts_for_call)
        else:
            raise InvalidInputError(f"solana cannot prepare a {type(request).__name__}")
        if opts.instructions is not None:
            from .instructions_json import load_instructions

            extra = load_instructions(opts.instructions, sender)
            plan.instructions.extend(extra)
            plan.summary["extra_instructions"] = len(extra)
        if len(plan.instructions) == sum(1 for _ in _compute_budget_only(plan)):
            raise InvalidAmountError("nothing to do: the amount is 0 and no --instructions were given")
        recent = ledger.latest_blockhash() if ledger is not None else RecentBlockhash(opts.blockhash or "")
        message = compile_message(plan.instructions, sender, recent.blockhash, v0=opts.v0)
        check_transaction_size(message)
        fee = ledger.fee_for_message(message) if ledger is not None else None
        if ledger is not None:
            _check_funds(ledger, sender, plan.lamports_out, fee or 0)
    finally:
        if ledger is not None:
            ledger.close()
    tx: dict[str, Any] = {
        "message": base64.b64encode(message).decode("ascii"),
        "version": "v0" if opts.v0 else "legacy",
        "fee_payer": sender,
        "recent_blockhash": recent.blockhash,
        "last_valid_block_height": recent.last_valid_block_height,
    }
    summary = {**plan.summary, "fee": None if fee is None else str(fee), "size": transaction_size(message)}
    return Prepared(
        chain=chain.name,
        chain_network=chain_network,
        sender=request.sender,
        from_address=sender,
        # the sender's domain: 1, or an ed25519 domain the contract added
        payloads=(Payload(message, request.sender.domain_id, "solana message"),),
        tx=tx,
        summary=summary,
    )


def compile_message(instructions: list[Instruction], payer: str, blockhash: str, *, v0: bool) -> bytes:
    """Compile ``instructions`` into the serialized message the fee payer signs.

    Raises
    ------
    InvalidInputError
        If the instructions need a signature from an account other than the payer.
    """
    from solders.hash import Hash
    from solders.message import Message, MessageV0, to_bytes_versioned
    from solders.pubkey import Pubkey

    payer_key = Pubkey.from_string(payer)
    try:
        recent = Hash.from_string(blockhash)
    except Exception:  # solders raises its own ParseHashError
        raise InvalidInputError(f"blockhash {blockhash!r} is not a base58 32-byte hash") from None
    if v0:
        try:
            msg: Any = MessageV0.try_compile(payer_key, instructions, [], recent)
        except Exception as exc:  # CompileError: too many accounts etc.
            raise InvalidInputError(f"cannot compile the v0 message: {exc}") from None
    else:
        msg = Message.new_with_blockhash(instructions, payer_key, recent)
    if msg.header.num_required_signatures != 1:
        raise InvalidInputError("the message needs signatures from accounts other than the derived account")
    return to_bytes_versioned(msg)


def transaction_size(message: bytes) -> int:
    """Bytes of the signed transaction: compact-u16 count (1) + one signature + message."""
    return 1 + SIGNATURE_BYTES + len(message)


def check_transaction_size(message: bytes) -> None:
    """Refuse a message whose signed transaction would exceed 1232 bytes.

    Raises
    ------
    InvalidInputError
    """
    size = transaction_size(message)
    if size > PACKET_DATA_SIZE:
        raise InvalidInputError(
            f"the signed transaction would be {size} bytes, over Solana's {PACKET_DATA_SIZE}-byte "
            "limit: split it into several transactions"
        )


# -- pieces ----------------------------------------------------------------------------------


def _add_compute_budget(plan: _Plan, opts: BuildOptions) -> None:
    from solders.compute_budget import set_compute_unit_limit, set_compute_unit_price

    if opts.compute_units is not None:
        plan.instructions.append(set_compute_unit_limit(opts.compute_units))
        plan.summary["compute_units"] = opts.compute_units
    if opts.priority_fee:
        plan.instructions.append(set_compute_unit_price(opts.priority_fee))
        plan.summary["priority_fee_micro_lamports"] = str(opts.priority_fee)


def _compute_budget_only(plan: _Plan) -> list[Instruction]:
    from solders.compute_budget import ID as COMPUTE_BUDGET_ID

    return [ix for ix in plan.instructions if ix.program_id == COMPUTE_BUDGET_ID]


def _add_transfer(
    plan: _Plan,
    chain: SolanaChain,
    request: TransferRequest,
    sender: str,
    opts: BuildOptions,
    ledger: Ledger | None,
) -> None:
    to = canonical_address(request.to, "recipient")
    plan.summary["to"] = to
    if request.token is None:
        lamports = to_base_units(request.amount, chain.decimals, base_unit=chain.base_unit, symbol=chain.symbol)
        plan.summary["amount"] = format_base_units(lamports, chain.decimals)
        if lamports == 0:
            return
        if lamports > U64_MAX:
            raise InvalidAmountError("amount is larger than any lamport balance can be")
        _add_sol_transfer(plan, sender, to, lamports, ledger)
    else:
        _add_token_transfer(plan, request, sender, to, opts, ledger)


def _add_sol_transfer(plan: _Plan, sender: str, to: str, lamports: int, ledger: Ledger | None) -> None:
    from solders.pubkey import Pubkey
    from solders.system_program import TransferParams, transfer

    if ledger is not None and to != sender and ledger.get_account(to) is None:
        minimum = ledger.rent_exempt_minimum(0)
        if lamports < minimum:
            raise InsufficientFundsError(
                f"{to} does not exist yet: the first transfer to it must be at least "
                f"{format_base_units(minimum, 9)} SOL (the rent-exempt minimum), not "
                f"{format_base_units(lamports, 9)} SOL"
            )
    plan.instructions.append(
        transfer(TransferParams(from_pubkey=Pubkey.from_string(sender), to_pubkey=Pubkey.from_string(to), lamports=lamports))
    )
    plan.lamports_out += lamports


def _add_token_transfer(
    plan: _Plan, request: TransferRequest, sender: str, to: str, opts: BuildOptions, ledger: Ledger | None
) -> None:
    from solders.pubkey import Pubkey
    from spl.token.instructions import (
        create_associated_token_account,
        create_idempotent_associated_token_account,
        transfer_checked,
    )
    from spl.token.models import TransferCheckedParams

    mint_address = canonical_address(request.token, "mint")
    if ledger is None:
        if opts.token_decimals is None:
            raise InvalidInputError("an SPL transfer prepared offline (--blockhash) needs --token-decimals")
        mint = MintInfo(mint_address, opts.token_decimals, TOKEN_PROGRAM)
    else:
        mint = parse_mint(mint_address, ledger.get_account(mint_address))
        if opts.token_decimals is not None and opts.token_decimals != mint.decimals:
            raise InvalidInputError(
                f"--token-decimals {opts.token_decimals} does not match the mint's {mint.decimals} decimals"
            )
    amount = to_base_units(request.amount, mint.decimals)
    if amount == 0:
        raise InvalidAmountError("an SPL transfer needs an amount greater than 0")
    if amount > U64_MAX:
        raise InvalidAmountError("amount is larger than any token balance can be")
    plan.summary.update(token=mint.address, amount=format_base_units(amount, mint.decimals), decimals=mint.decimals)

    source = associated_token_address(sender, mint.address, mint.program)
    destination, owner = _token_destination(to, mint, ledger)
    create = False
    if ledger is not None:
        held = parse_token_account(source, ledger.get_account(source))
        balance = held.amount if held is not None and held.mint == mint.address else 0
        if balance < amount:
            raise InsufficientFundsError(
                f"{sender} holds {format_base_units(balance, mint.decimals)} of mint {mint.address}, "
                f"less than {format_base_units(amount, mint.decimals)}"
            )
        if owner is not None and ledger.get_account(destination) is None:
            create = True
            plan.lamports_out += ledger.rent_exempt_minimum(165)
            plan.instructions.append(
                create_associated_token_account(
                    Pubkey.from_string(sender), Pubkey.from_string(owner),
                    Pubkey.from_string(mint.address), Pubkey.from_string(mint.program),
                )
            )
    elif owner is not None:
        # Offline we cannot tell whether the account exists: the idempotent form creates it
        # only when missing and succeeds either way.
        create = True
        plan.instructions.append(
            create_idempotent_associated_token_account(
                Pubkey.from_string(sender), Pubkey.from_string(owner),
                Pubkey.from_string(mint.address), Pubkey.from_string(mint.program),
            )
        )
    plan.summary["recipient_token_account"] = destination
    plan.summary["creates_recipient_token_account"] = create
    plan.instructions.append(
        transfer_checked(
            TransferCheckedParams(
                program_id=Pubkey.from_string(mint.program),
                source=Pubkey.from_string(source),
                mint=Pubkey.from_string(mint.address),
                dest=Pubkey.from_string(destination),
                owner=Pubkey.from_string(sender),
                amount=amount,
                decimals=mint.decimals,
                signers=[],
            )
        )
    )


def _token_destination(to: str, mint: MintInfo, ledger: Ledger | None) -> tuple[str, str | None]:
    """(destination token account, wallet owner whose ATA it is — or None when ``to`` is
    already a token account of this mint)."""
    from solders.pubkey import Pubkey

    if ledger is not None:
        existing = parse_token_account(to, ledger.get_account(to))
        if existing is not None:
            if existing.mint != mint.address:
                raise InvalidAddressError(f"{to} is a token account of another mint ({existing.mint})")
            return to, None
    if not Pubkey(decode_address(to, "recipient")).is_on_curve():
        raise InvalidAddressError(
            f"recipient {to} is off the ed25519 curve (a program-derived address): it cannot own "
            "an associated token account; give its token account instead"
        )
    return associated_token_address(to, mint.address, mint.program), to


def _add_call(plan: _Plan, request: CallRequest, sender: str, accounts: Any) -> None:
    from .instructions_json import load_instructions

    value = to_base_units(request.value, 9, base_unit="lamports", symbol="SOL")
    if value:
        raise InvalidInputError("a Solana program call carries no value: transfer SOL separately")
    program = canonical_address(request.to, "program id")
    item = {"program_id": program, "accounts": list(accounts or []), "data": base64.b64encode(request.data).decode()}
    plan.instructions.extend(load_instructions([item], sender))
    plan.summary.update(to=program, amount="0", program=program)


def _check_funds(ledger: Ledger, sender: str, lamports_out: int, fee: int) -> None:
    account = ledger.get_account(sender)
    balance = account.lamports if account is not None else 0
    needed = lamports_out + fee
    if balance < needed:
        raise InsufficientFundsError(
            f"{sender} has {format_base_units(balance, 9)} SOL but needs "
            f"{format_base_units(needed, 9)} SOL (amount, rent and a fee of {fee} lamports)"
        )
    rest = balance - needed
    minimum = ledger.rent_exempt_minimum(0)
    if 0 < rest < minimum:
        raise InsufficientFundsError(
            f"{sender} would keep {rest} lamports, below the rent-exempt minimum of {minimum}: "
            "send less, or everything except the fee"
        )


def _int_option(options: Mapping[str, Any], name: str, low: int, high: int) -> int | None:
    value = options.get(name)
    if value is None:
        return None
    flag = "--" + name.replace("_", "-")
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidInputError(f"{flag} must be a whole number")
    try:
        number = int(value)
    except ValueError:
        raise InvalidInputError(f"{flag} must be a whole number, not {value!r}") from None
    if not low <= number <= high:
        raise InvalidInputError(f"{flag} must be between {low} and {high}")
    return number


__all__ = [
    "PACKET_DATA_SIZE", "BuildOptions", "build_prepared", "check_transaction_size",
    "compile_message", "transaction_size",
]
