"""The adapter interface every Bitcoin back end implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal

from ..utxos import Utxo


@dataclass(frozen=True)
class TxStatus:
    """Where a transaction stands: unknown to the node, in the mempool, or in a block."""

    known: bool
    confirmed: bool
    block_height: int | None = None


class Backend(ABC):
    """UTXOs, fee estimates, transactions and broadcasting for one chain network."""

    #: Short name for messages (``esplora``, ``bitcoin core``).
    kind: str = ""

    @abstractmethod
    def utxos(self, address: str) -> list[Utxo]:
        """Unspent outputs of ``address`` (confirmed and in the mempool).

        Raises
        ------
        RpcError
        """

    @abstractmethod
    def balance(self, address: str) -> int:
        """Satoshis held by ``address``.

        Raises
        ------
        RpcError
        """

    @abstractmethod
    def fee_rate(self, target_blocks: int = 6) -> Decimal:
        """Estimated fee rate in sat/vB for confirmation within ``target_blocks``.

        Raises
        ------
        RpcError
            Also when the node has no estimate (say so; the user can pass ``--fee-rate``).
        """

    @abstractmethod
    def raw_transaction(self, txid: str) -> bytes:
        """The serialized transaction ``txid``.

        Raises
        ------
        RpcError
        """

    @abstractmethod
    def broadcast(self, raw_hex: str) -> str:
        """Submit a signed transaction; returns its txid.

        Raises
        ------
        RpcError
            With the node's reason when it is rejected.
        """

    @abstractmethod
    def tx_status(self, txid: str) -> TxStatus:
        """Whether ``txid`` is known and confirmed.

        Raises
        ------
        RpcError
        """

    def close(self) -> None:
        """Release the HTTP connection pool."""
