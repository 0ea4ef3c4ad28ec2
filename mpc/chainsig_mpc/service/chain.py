"""The node's view of NEAR: contract state, the sign-request indexer, and its transactions.

Everything goes through standard NEAR JSON-RPC with near-kit (``block``, ``chunk``,
``query call_function``, ``send_tx``), so the same code follows real NEAR. A sign request is
found as a ``sign`` FunctionCall receipt to the contract in a block's chunk: the tweak comes
from the receipt's ``predecessor_id`` and the ``path`` argument, the entropy ρ from that
block's ``random_value``.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass
from typing import Any

import base58

from chainsig_core import kdf
from chainsig_core.credentials import AccessKey
from chainsig_core.errors import InvalidInputError
from chainsig_core.keys import Curve
from chainsig_core.payloads import validate_payload

from ..node.errors import IndexerError
from ..node.transport import Peer

log = logging.getLogger(__name__)

CALL_GAS = "50 Tgas"
YIELD_TIMEOUT_BLOCKS = 200
"""A sign request not answered within this many blocks has timed out on the contract."""


@dataclass(frozen=True)
class SignEvent:
    """A sign request the indexer found.

    Parameters
    ----------
    request_id:
        The receipt id (unique per ``sign`` call).
    block_height:
        The block that executed the ``sign`` receipt.
    domain_id, kind, payload, tweak:
        The request as the contract stores it (kind ``Ecdsa`` or ``Eddsa``).
    entropy:
        The block's ``random_value`` (32 bytes).
    """

    request_id: str
    block_height: int
    domain_id: int
    kind: str
    payload: bytes
    tweak: bytes
    entropy: bytes

    def contract_request(self) -> dict[str, Any]:
        """The ``SignatureRequest`` JSON that ``respond`` and ``get_pending_request`` take."""
        return {"domain_id": self.domain_id, "payload": {self.kind: self.payload.hex()},
                "tweak": list(self.tweak)}


def parse_sign_receipt(
    request_id: str, height: int, predecessor: str, args_b64: str, entropy: bytes
) -> SignEvent | None:
    """Rebuild a request from a ``sign`` receipt's arguments; None for arguments the contract
    refuses as well (the node simply ignores them)."""
    try:
        request = json.loads(base64.b64decode(args_b64, validate=True))["request"]
        path = request["path"]
        if not isinstance(path, str):
            return None
        domain_id = request.get("domain_id", request.get("key_version", 0))
        if isinstance(domain_id, bool) or not isinstance(domain_id, int) or domain_id < 0:
            return None
        if "payload_v2" in request:
            ((kind, text),) = request["payload_v2"].items()
            payload = bytes.fromhex(text)
        else:
            kind, payload = "Ecdsa", bytes(request["payload"])
        if kind not in ("Ecdsa", "Eddsa"):
            return None
        validate_payload(Curve.SECP256K1 if kind == "Ecdsa" else Curve.ED25519, payload)
        tweak = kdf.tweak(predecessor, path)
    except (ValueError, KeyError, TypeError, AttributeError, InvalidInputError):
        return None
    return SignEvent(request_id, height, domain_id, kind, payload, tweak, entropy)


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

    async def is_pending(self, event: SignEvent) -> bool:
        """Whether the contract still waits for a response to this request."""
        found = await self.near.view(self.contract_id, "get_pending_request",
                                     {"request": event.contract_request()})
        return found is not None

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

    async def sign_events(self, height: int) -> list[SignEvent]:
        """The ``sign`` receipts to the contract executed in block ``height``.

        Raises
        ------
        IndexerError
            If the RPC answers with an unexpected shape.
        """
        try:
            block = await self.near.rpc("block", {"block_id": height})
            entropy = base58.b58decode(block["header"]["random_value"])
            chunk = await self.near.rpc("chunk", {"block_id": height, "shard_id": 0})
            receipts = chunk.get("receipts", [])
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexerError(f"block {height}: unexpected RPC answer ({type(exc).__name__})") from None
        if len(entropy) != 32:
            raise IndexerError(f"block {height}: random_value is not 32 bytes")
        found = []
        for receipt in receipts:
            if not isinstance(receipt, dict) or receipt.get("receiver_id") != self.contract_id:
                continue
            action = (receipt.get("receipt") or {}).get("Action") or {}
            for item in action.get("actions", []):
                call = item.get("FunctionCall") if isinstance(item, dict) else None
                if not call or call.get("method_name") != "sign":
                    continue
                event = parse_sign_receipt(str(receipt.get("receipt_id")), height,
                                           str(receipt.get("predecessor_id")), call.get("args", ""), entropy)
                if event is not None:
                    found.append(event)
        return found

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.near.aclose()
