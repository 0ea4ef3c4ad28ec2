"""The node's contract views and transactions (near-kit, standard NEAR JSON-RPC).

Sign requests are not found here: the node follows the chain with
:class:`chainsig_mpc.node.indexer.ContractIndexer` (final blocks, every shard, skipped heights,
missing chunks). This module reads the contract's ``state``, the head height, and sends the
node's own calls (``vote_pk``, ``respond``, …).

The reads (:meth:`ChainClient.head`, :meth:`ChainClient.state`) raise one error type,
:class:`~chainsig_mpc.node.errors.ChainRpcError` (a ``ChainsigError``), whatever went wrong
underneath — near-kit's typed errors, httpx transport errors, timeouts — so a caller that
handles ``ChainsigError`` keeps its task. Its message names the read, the endpoint (scheme,
host and port only: a provider's API key in the URL's path or query is never shown) and the
RPC's own message. :meth:`ChainClient.call` leaves near-kit's errors as they are: whether a
refused transaction is fatal depends on the call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from chainsig_core.credentials import AccessKey

from ..node.errors import ChainRpcError
from ..node.indexer import endpoint_of
from ..node.transport import Peer

log = logging.getLogger(__name__)

CALL_GAS = "50 Tgas"

_T = TypeVar("_T")


def participants_of(parameters: dict[str, Any]) -> dict[int, tuple[str, Peer]]:
    """``{id: (account, Peer)}`` from the contract's ``parameters``; malformed entries are
    skipped with a warning (a peer without a valid TLS key can never connect)."""
    out: dict[int, tuple[str, Peer]] = {}
    for entry in parameters["participants"]["participants"]:
        try:
            account, pid, info = entry
            out[int(pid)] = (account, Peer.from_participant(int(pid), info["url"], info["tls_public_key"]))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring a malformed participant entry: %s", exc)
    return out


class ChainClient:
    """near-kit client for one node's account.

    Parameters
    ----------
    rpc_url, contract_id, network:
        The NEAR endpoint and signer contract.
    key:
        The node account's access key (sends ``vote_pk``, ``respond``, …).
    """

    def __init__(self, rpc_url: str, contract_id: str, key: AccessKey, network: str = "devnet") -> None:
        from near import AsyncNear

        self.contract_id = contract_id
        self.account_id = key.account_id
        self.near = AsyncNear(network=network, rpc_url=rpc_url, account_id=key.account_id,
                              private_key=key.to_near_secret_string(), retries=2, timeout=30.0)
        self._rpc_url = self.near.rpc_url
        self._endpoint = endpoint_of(self._rpc_url)

    async def state(self) -> Any:
        """The contract's ``state`` view (JSON-decoded; its shape is the caller's to check).

        Raises
        ------
        ChainRpcError
            The RPC is unreachable or timed out (after near-kit's 2 retries), answered with an
            error, or the view failed (no such contract, the contract panicked).
        """
        return await self._read("state", lambda: self.near.view(self.contract_id, "state"))

    async def call(self, method: str, args: dict[str, Any]) -> Any:
        """Send a function call to the contract from this node's account, with
        :data:`CALL_GAS` and no deposit, and wait until it executed (``EXECUTED_OPTIMISTIC``).

        Returns
        -------
        near.models.TransactionResult
            The executed transaction (its outcome succeeded).

        Raises
        ------
        near.errors.ContractPanicError
            The contract refused the call (the panic text is in the message).
        near.errors.RpcError
            The RPC is unreachable, timed out or answered an unclassified error (after
            near-kit's 2 retries of a retryable failure). After a timeout the transaction
            may still execute.
        near.errors.NearError
            Any other near-kit error: ``InvalidNonceError`` (after near-kit's 3 tries),
            ``AccessKeyNotFoundError``, ``InsufficientBalanceError``,
            ``TransactionExpiredError``, ….
        pydantic.ValidationError
            The RPC's answer is not a transaction result.

        These are not translated: the caller decides what is fatal (a ``respond`` that
        another coordinator beat is normal, a refused vote is not).
        """
        return await self.near.call(self.contract_id, method, args, gas=CALL_GAS,
                                    wait_until="EXECUTED_OPTIMISTIC")

    async def head(self) -> int:
        """The latest (optimistic) block height.

        Raises
        ------
        ChainRpcError
            The RPC is unreachable or timed out (after near-kit's 2 retries), answered with an
            error, or with a block without a ``header.height``.
        """
        async def fetch() -> int:
            block = await self.near.rpc("block", {"finality": "optimistic"})
            try:
                return int(block["header"]["height"])
            except (KeyError, TypeError, ValueError):
                raise ChainRpcError(f"head: NEAR RPC {self._endpoint} answered a block without "
                                    "header.height") from None

        return await self._read("head", fetch)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.near.aclose()

    async def _read(self, what: str, read: Callable[[], Awaitable[_T]]) -> _T:
        """``await read()``, with every RPC or transport failure as one :class:`ChainRpcError`."""
        import httpx
        import near

        try:
            return await read()
        except ChainRpcError:
            raise  # already one (a ConnectionError, so an OSError: not to be wrapped twice)
        except (near.NearError, httpx.HTTPError, httpx.InvalidURL, asyncio.TimeoutError, OSError) as exc:
            raise ChainRpcError(f"{what}: NEAR RPC {self._endpoint} failed: {self._describe(exc)}") from None

    def _describe(self, exc: BaseException) -> str:
        # near-kit puts the full URL in some messages ("Non-JSON response from <url>"); the
        # URL may carry a provider's API key, so only the endpoint is shown.
        text = str(exc).replace(self._rpc_url, self._endpoint)
        text = " ".join(text.split()).rstrip(": ")[:300]
        return text or type(exc).__name__

