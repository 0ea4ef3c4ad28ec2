"""The dev responder: answers sign requests with the ``dev`` key. NOT MPC — insecure by design.

It follows the chain exactly as an MPC node's indexer does, through standard NEAR JSON-RPC:
``block`` for the head, then ``chunk`` per block, looking for ``sign`` function-call receipts
to the signer contract. For each it rebuilds the request (the tweak from the receipt's
predecessor and ``path``), checks with the ``get_pending_request`` view that the contract
accepted it, signs with the dev root key plus the tweak, verifies the signature against the
key the contract derives, and sends a real signed ``respond`` transaction from a participant
account.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from dataclasses import dataclass
from typing import Any

from chainsig_core.credentials import AccessKey
from chainsig_core.errors import ChainsigError, RpcError
from chainsig_core.kdf import derive_public_key_from_tweak
from chainsig_core.keys import Curve
from chainsig_core.signatures import verify_signature
from chainsig_core.signers.dev import (
    dev_root_public_key,
    dev_root_secret,
    ecdsa_sign_with_scalar,
    ed25519_sign_with_scalar,
)

from .contract.env import ContractPanic
from .contract.requests import parse_sign_args, signature_request, tweak_for

log = logging.getLogger(__name__)

RESPOND_GAS = "50 Tgas"
LOOKBACK_BLOCKS = 200
"""On start, requests this many blocks back are answered too (a yield lives 200 blocks)."""


@dataclass(frozen=True)
class SignRequestSeen:
    """A ``sign`` receipt found in a chunk."""

    block_height: int
    predecessor: str
    request: dict[str, Any]
    domain_id: int
    kind: str
    payload: bytes
    tweak: bytes


class DevResponder:
    """Watches the host through its RPC and answers every pending request.

    Parameters
    ----------
    rpc_url, contract_id:
        The NEAR endpoint and the signer contract.
    account:
        A participant's access key (its account sends ``respond``).
    seed:
        The dev seed (default ``CHAINSIG_DEV_SEED`` or the documented default).
    poll_interval:
        Seconds between head polls.
    """

    def __init__(self, rpc_url: str, contract_id: str, account: AccessKey, *,
                 seed: str | None = None, poll_interval: float = 0.05) -> None:
        from near import AsyncNear

        self.contract_id = contract_id
        self.account = account
        self.seed = seed
        self.poll_interval = poll_interval
        self.near = AsyncNear(network="devnet", rpc_url=rpc_url, account_id=account.account_id,
                              private_key=account.to_near_secret_string(), retries=2,
                              timeout=30.0)
        self.answered = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def check_keys(self) -> None:
        """Refuse to run unless the contract's root keys are the dev keys.

        Raises
        ------
        ChainsigError
            When a domain's key differs (the responder's signatures could never verify).
        """
        state = await self.near.view(self.contract_id, "state")
        running = state.get("Running") if isinstance(state, dict) else None
        if running is None:
            raise RpcError("the signer contract is not Running; the dev responder needs a Running contract")
        for domain in running["domains"]["domains"]:
            curve = Curve.SECP256K1 if domain["curve"] == "Secp256k1" else Curve.ED25519
            key = await self.near.view(self.contract_id, "public_key", {"domain_id": domain["id"]})
            if key != dev_root_public_key(curve, self.seed).to_near_string():
                raise ChainsigError(
                    f"domain {domain['id']} of {self.contract_id} does not use the dev root key; "
                    "the dev responder can only answer a contract started with the dev keys")

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Follow the chain until ``stop`` is set.

        Raises
        ------
        RpcError
            If the host cannot be reached at start; later outages are waited out.
        ChainsigError
            If the contract does not use the dev keys.
        """
        from near import NearError

        log.warning("the dev responder answers with the dev key: not MPC, not for real funds")
        try:
            await self.check_keys()
            head = await self._head()
        except NearError as exc:
            await self.near.aclose()
            raise RpcError(f"dev responder: cannot use the host's RPC: {exc}") from None
        next_height = max(head - LOOKBACK_BLOCKS, 0)
        stop = stop or asyncio.Event()
        while not stop.is_set():
            delay = self.poll_interval
            try:
                head = await self._head()
                while next_height <= head and not stop.is_set():
                    for seen in await self.requests_in_block(next_height):
                        self._spawn(self.answer(seen))
                    next_height += 1
            except NearError as exc:
                if getattr(exc, "code", None) == "UNKNOWN_BLOCK":
                    next_height += 1  # garbage-collected (empty) block
                else:
                    log.warning("dev responder: RPC error, retrying: %s", exc)
                    delay = 1.0
            try:
                await asyncio.wait_for(stop.wait(), delay)
            except TimeoutError:
                pass
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.near.aclose()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _head(self) -> int:
        block = await self.near.rpc("block", {"finality": "optimistic"})
        return int(block["header"]["height"])

    async def requests_in_block(self, height: int) -> list[SignRequestSeen]:
        """The ``sign`` receipts to the contract executed in block ``height``."""
        chunk = await self.near.rpc("chunk", {"block_id": height, "shard_id": 0})
        found = []
        for receipt in chunk.get("receipts", []):
            if receipt.get("receiver_id") != self.contract_id:
                continue
            action_receipt = receipt.get("receipt", {}).get("Action")
            if not action_receipt:
                continue
            for action in action_receipt.get("actions", []):
                call = action.get("FunctionCall") if isinstance(action, dict) else None
                if not call or call.get("method_name") != "sign":
                    continue
                seen = self._parse(height, receipt["predecessor_id"], call.get("args", ""))
                if seen is not None:
                    found.append(seen)
        return found

    def _parse(self, height: int, predecessor: str, args_b64: str) -> SignRequestSeen | None:
        try:
            args = json.loads(base64.b64decode(args_b64))
            path, kind, payload, domain_id = parse_sign_args(args["request"])
            tweak = tweak_for(predecessor, path)
        except (ValueError, KeyError, TypeError, ContractPanic):
            return None  # the contract rejected it as well
        return SignRequestSeen(height, predecessor, signature_request(domain_id, kind, payload, tweak),
                               domain_id, kind, payload, tweak)

    async def answer(self, seen: SignRequestSeen) -> None:
        """Sign one request with the dev key and send ``respond`` (if it is still pending)."""
        try:
            pending = await self.near.view(self.contract_id, "get_pending_request",
                                           {"request": seen.request})
            if pending is None:
                return
            response = self.sign(seen)
            await self.near.call(self.contract_id, "respond",
                                 {"request": seen.request, "response": response},
                                 gas=RESPOND_GAS, wait_until="INCLUDED")
            self.answered += 1
        except Exception as exc:  # one failed answer must not stop the responder
            log.warning("dev responder: could not answer a request from block %d: %s",
                        seen.block_height, exc)

    def sign(self, seen: SignRequestSeen) -> dict[str, Any]:
        """The response JSON, verified against the derived key before it is returned."""
        curve = Curve.SECP256K1 if seen.kind == "Ecdsa" else Curve.ED25519
        from chainsig_core.kdf import tweak_scalar
        from chainsig_core.keys import ED25519_L, SECP256K1_N

        order = SECP256K1_N if curve is Curve.SECP256K1 else ED25519_L
        secret = (dev_root_secret(curve, self.seed) + tweak_scalar(curve, seen.tweak)) % order
        signature = (ecdsa_sign_with_scalar(secret, seen.payload) if curve is Curve.SECP256K1
                     else ed25519_sign_with_scalar(secret, seen.payload))
        derived = derive_public_key_from_tweak(dev_root_public_key(curve, self.seed), seen.tweak)
        verify_signature(derived, seen.payload, signature)
        return dict(signature.to_response())
