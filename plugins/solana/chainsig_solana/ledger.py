"""What transaction building needs to read from a Solana ledger, and a LiteSVM-backed reader.

:class:`Ledger` is the small read interface the builder uses; :class:`chainsig_solana.rpc.RpcLedger`
implements it over JSON-RPC and :class:`LiteSvmLedger` over an in-process ``solders.litesvm``
(tests and programs that embed LiteSVM). The same builder code runs against both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from solders.litesvm import LiteSVM

LAMPORTS_PER_SIGNATURE = 5000
"""Solana's base fee per required signature (lamports)."""

MICRO_LAMPORTS_PER_LAMPORT = 1_000_000
DEFAULT_INSTRUCTION_COMPUTE_UNITS = 200_000
MAX_COMPUTE_UNITS = 1_400_000


@dataclass(frozen=True)
class AccountSnapshot:
    """An account as read from the ledger.

    Parameters
    ----------
    lamports:
        Balance in lamports.
    owner:
        The owning program (base58).
    data:
        The account data.
    executable:
        Whether the account is a program.
    """

    lamports: int
    owner: str
    data: bytes
    executable: bool = False


@dataclass(frozen=True)
class RecentBlockhash:
    """A recent blockhash (base58) and the last block height at which it is valid, if known."""

    blockhash: str
    last_valid_block_height: int | None = None


class Ledger(Protocol):
    """Read access to a Solana ledger (online values for :func:`~chainsig_solana.builder.build_prepared`)."""

    def latest_blockhash(self) -> RecentBlockhash:
        """The blockhash new transactions should use."""

    def get_account(self, address: str) -> AccountSnapshot | None:
        """The account at ``address`` (base58), or ``None`` if it does not exist."""

    def rent_exempt_minimum(self, data_len: int) -> int:
        """Lamports an account with ``data_len`` bytes needs to be rent-exempt."""

    def fee_for_message(self, message: bytes) -> int:
        """The fee (lamports) the cluster charges for the serialized ``message``."""

    def close(self) -> None:
        """Release connections."""


def estimate_fee(message: bytes) -> int:
    """The fee of a serialized message by Solana's rules: 5000 lamports per required
    signature plus the prioritization fee ``ceil(compute-unit price × limit / 10⁶)``.

    The limit is the message's ``SetComputeUnitLimit`` when present, else 200 000 per
    instruction that is not a ComputeBudget instruction (at most 1 400 000) — the default the
    runtime applies. Used by LiteSVM-backed ledgers, which have no fee RPC.
    """
    from solders.compute_budget import ID as COMPUTE_BUDGET_ID
    from solders.message import from_bytes_versioned

    msg = from_bytes_versioned(message)
    keys = msg.account_keys
    price = 0
    limit: int | None = None
    others = 0
    for ix in msg.instructions:
        if keys[ix.program_id_index] != COMPUTE_BUDGET_ID:
            others += 1
            continue
        data = bytes(ix.data)
        if data[:1] == b"\x02" and len(data) >= 5:  # SetComputeUnitLimit(u32)
            limit = int.from_bytes(data[1:5], "little")
        elif data[:1] == b"\x03" and len(data) >= 9:  # SetComputeUnitPrice(u64)
            price = int.from_bytes(data[1:9], "little")
    if limit is None:
        limit = min(DEFAULT_INSTRUCTION_COMPUTE_UNITS * others, MAX_COMPUTE_UNITS)
    priority = -(-price * min(limit, MAX_COMPUTE_UNITS) // MICRO_LAMPORTS_PER_LAMPORT)
    return LAMPORTS_PER_SIGNATURE * msg.header.num_required_signatures + priority


class LiteSvmLedger:
    """:class:`Ledger` over an in-process LiteSVM (Solana's runtime, no network).

    Parameters
    ----------
    svm:
        The ``solders.litesvm.LiteSVM`` instance to read.
    """

    def __init__(self, svm: LiteSVM) -> None:
        self.svm = svm

    def latest_blockhash(self) -> RecentBlockhash:
        return RecentBlockhash(str(self.svm.latest_blockhash()))

    def get_account(self, address: str) -> AccountSnapshot | None:
        from solders.pubkey import Pubkey

        account = self.svm.get_account(Pubkey.from_string(address))
        if account is None or (account.lamports == 0 and not account.data):
            return None
        return AccountSnapshot(account.lamports, str(account.owner), bytes(account.data), account.executable)

    def rent_exempt_minimum(self, data_len: int) -> int:
        return self.svm.minimum_balance_for_rent_exemption(data_len)

    def fee_for_message(self, message: bytes) -> int:
        return estimate_fee(message)

    def close(self) -> None:
        """Nothing to release."""
