"""The ledger behind the local RPC: LiteSVM (Solana's runtime) plus the block bookkeeping an
RPC node has and LiteSVM does not — slots, a window of recent blockhashes, signature statuses.

Each landed transaction (and each airdrop) closes a block: the slot advances and a new blockhash
becomes the latest, while the last 150 stay valid, as on a real cluster. LiteSVM accepts only
its latest blockhash, so its own check is off and :meth:`LocalSolanaNode.send` checks the window.
Every block is final at once (there is one node), so statuses are ``finalized``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import transaction_error_json

if TYPE_CHECKING:
    from solders.account import Account
    from solders.pubkey import Pubkey
    from solders.transaction import VersionedTransaction

MAX_RECENT_BLOCKHASHES = 150
"""Blocks for which a blockhash stays valid (``MAX_PROCESSING_AGE``)."""
MAX_STATUSES = 100_000
"""Signature statuses kept (oldest forgotten first)."""
MAX_AIRDROP_LAMPORTS = 1_000_000 * 10**9
"""The largest single airdrop the local faucet grants (1 000 000 SOL)."""


@dataclass(frozen=True)
class SignatureStatus:
    """Where and how a transaction landed."""

    slot: int
    err: Any  # Solana's JSON form of the error, or None


@dataclass(frozen=True)
class Outcome:
    """The result of processing (or simulating) one transaction."""

    err: Any  # JSON form, None on success
    logs: list[str]
    units_consumed: int
    fee: int
    landed: bool  # committed to the ledger (success, or failure that paid its fee)


class LocalSolanaNode:
    """A single-node Solana ledger on LiteSVM. Thread-safe (one lock around the runtime)."""

    def __init__(self) -> None:
        from solders.litesvm import LiteSVM

        self.svm = LiteSVM().with_blockhash_check(False)
        self._lock = threading.RLock()
        self.slot = self.svm.get_clock().slot
        self.transaction_count = 0
        self._recent: deque[tuple[str, int]] = deque(maxlen=MAX_RECENT_BLOCKHASHES + 1)
        self._statuses: OrderedDict[str, SignatureStatus] = OrderedDict()
        self.genesis_hash = str(self.svm.latest_blockhash())
        self._recent.append((self.genesis_hash, self.slot))

    # -- reads -----------------------------------------------------------------------------

    @property
    def lock(self) -> threading.RLock:
        """Hold it to read several values consistently."""
        return self._lock

    def latest_blockhash(self) -> tuple[str, int]:
        """(blockhash, last valid block height)."""
        with self._lock:
            blockhash, height = self._recent[-1]
            return blockhash, height + MAX_RECENT_BLOCKHASHES

    def is_blockhash_valid(self, blockhash: str) -> bool:
        with self._lock:
            return any(h == blockhash for h, _ in self._recent)

    def get_account(self, key: Pubkey) -> Account | None:
        with self._lock:
            account = self.svm.get_account(key)
        if account is None or (account.lamports == 0 and not account.data and not account.executable):
            return None
        return account

    def rent_exempt_minimum(self, data_len: int) -> int:
        with self._lock:
            return self.svm.minimum_balance_for_rent_exemption(data_len)

    def status(self, signature: str) -> SignatureStatus | None:
        with self._lock:
            return self._statuses.get(signature)

    # -- writes ----------------------------------------------------------------------------

    def simulate(self, tx: VersionedTransaction) -> Outcome:
        """Run ``tx`` without committing it."""
        with self._lock:
            result = self.svm.simulate_transaction(tx)
        err = getattr(result, "err", None)
        meta = result.meta()
        return Outcome(transaction_error_json(err() if err else None), list(meta.logs()),
                       meta.compute_units_consumed(), meta.fee(), False)

    def process(self, tx: VersionedTransaction) -> Outcome:
        """Execute ``tx``; when it lands (success, or failure that paid its fee) close a block."""
        signature = str(tx.signatures[0])
        with self._lock:
            result = self.svm.send_transaction(tx)
            landed = self.svm.get_transaction(tx.signatures[0]) is not None
            err = getattr(result, "err", None)
            err_json = transaction_error_json(err() if err else None)
            meta = result.meta() if err else result
            if landed:
                self._record(signature, err_json)
        return Outcome(err_json, list(meta.logs()), meta.compute_units_consumed(), meta.fee(), landed)

    def airdrop(self, key: Pubkey, lamports: int) -> tuple[str, Any]:
        """Credit ``lamports`` from LiteSVM's faucet account; (signature, error JSON or None)."""
        with self._lock:
            result = self.svm.airdrop(key, lamports)
            err = getattr(result, "err", None)
            if err:
                return "", transaction_error_json(err())
            signature = str(result.signature())
            self._record(signature, None)
            return signature, None

    def _record(self, signature: str, err_json: Any) -> None:
        self.transaction_count += 1
        self._statuses[signature] = SignatureStatus(self.slot, err_json)
        while len(self._statuses) > MAX_STATUSES:
            self._statuses.popitem(last=False)
        self._next_block()

    def _next_block(self) -> None:
        self.slot += 1
        self.svm.warp_to_slot(self.slot)
        self.svm.expire_blockhash()
        self._recent.append((str(self.svm.latest_blockhash()), self.slot))
