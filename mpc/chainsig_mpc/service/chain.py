"""The node's contract views and transactions (near-kit, standard NEAR JSON-RPC).

Sign requests are not found here: the node follows the chain with
:class:`chainsig_mpc.node.indexer.ContractIndexer` (final blocks, every shard, skipped heights,
missing chunks). This module reads the contract's ``state``, the head height, and sends the
node's own calls (``vote_pk``, ``respond``, …).
"""

from __future__ import annotations

import logging
from typing import Any

from chainsig_core.credentials import AccessKey

from ..node.transport import Peer

log = logging.getLogger(__name__)

CALL_GAS = "50 Tgas"


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

    async def state(self) -> Any:
        """The contract's ``state`` view."""
        return await self.near.view(self.contract_id, "state")

    async def call(self, method: str, args: dict[str, Any]) -> Any:
        """A function call from this node's account (waits until executed).

        Raises
        ------
        near.errors.* as near-kit raises them (the caller decides what is fatal).
        """
        return await self.near.call(self.contract_id, method, args, gas=CALL_GAS,
                                    wait_until="EXECUTED_OPTIMISTIC")

    async def head(self) -> int:
        """The latest block height."""
        block = await self.near.rpc("block", {"finality": "optimistic"})
        return int(block["header"]["height"])

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.near.aclose()
