"""The NEAR contract signer: ``sign`` on ``v1.signer`` (mainnet, testnet, devnet, any configured
network), waiting while the request yields, then the verified response.

Built on near-kit (PyPI ``near-kit``) for transaction encoding, signing and RPC. One request:

1. load the account's access key (``NEAR_PRIVATE_KEY`` / the network's credentials directory /
   an explicit key) and check that it is a full-access key (``sign`` needs 1 yoctoNEAR, which
   function-call keys cannot attach);
2. read the domain's root key from the contract's ``public_key`` view, once per domain: a key
   configured for the domain (``root_public_keys``, built in for mainnet/testnet) must equal it
   (:class:`~chainsig_core.errors.RootKeyMismatchError` otherwise); a domain the configuration
   does not list — one added by ``vote_add_domains`` — is signed under the key the contract
   reports. Its curve decides the payload rules and the ``payload_v2`` variant;
3. submit ``sign({"request": {path, payload_v2, domain_id}})`` with 1 yoctoNEAR, wait for
   inclusion, and learn its transaction hash;
4. poll ``tx`` until the final outcome (the request yields until the MPC network responds);
5. parse the response; the base class verifies it against the locally derived key.

Concurrency: a burst (a Bitcoin spend has one payload per input) is submitted concurrently. Every
request of one access key at one RPC endpoint — in any signer, thread or event loop of the
process — shares one nonce counter and one recent block hash (:mod:`.near_nonces`): the first
request's ``view_access_key`` (which also checks the key's permission) is the only one,
concurrent requests wait for that same in-flight fetch, and nonces are then allocated locally
(monotonic, never twice). A refused transaction (``InvalidNonce``: another sender of the key
outside this process got there first) resynchronises from the nonce the node reports — a
refetch, shared again, only when it reports none — and is sent again with a fresh nonce, at most
:data:`SUBMIT_ATTEMPTS` times.

Retry policy: only a definite "Request has timed out." outcome is retried (``timeout_retries``
times) — a timed-out request can never be resumed, and re-signing the same payload signs the same
foreign transaction, so a retry cannot spend twice. An *unknown* outcome (RPC down while
waiting) is never resubmitted: the wait resumes on the same transaction hash
(:meth:`NearContractSigner.resume_async`).

What each near-kit/RPC failure becomes — refused (send again), unknown outcome (wait on the hash)
or a final error — is decided in :mod:`.near_errors`; the near-kit clients (a read client with
retries, a send client without) are made in :mod:`.near_transport`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..config import NearNetwork
from ..credentials import PRIVATE_KEY_ENV, AccessKey, env_key_applies, load_access_key
from ..errors import (
    ChainsigError,
    CredentialsError,
    InvalidInputError,
    RootKeyMismatchError,
    RpcError,
    SignatureResponseError,
    SigningError,
    SignRequestTimedOutError,
)
from ..keys import Curve, PublicKey
from ..sign_args import build_sign_request, curve_of_kind, parse_sign_request
from .base import Signer, SignRequest
from .near_errors import TIMEOUT_TEXT as TIMEOUT_TEXT  # re-exported: importable from here as before
from .near_errors import (
    ViewPanic,
    domain_error,
    domains_of_state,
    outcome_unknown,
    refusal,
    response_of_outcome,
    translate_error,
    view_error,
)
from .near_nonces import SharedFetch, nonces_of, recent_block_of
from .near_transport import read_only_client, send_client

DEFAULT_SIGN_GAS = 300 * 10**12
"""Prepaid gas of a ``sign`` call (300 Tgas, NEAR's per-transaction maximum); unused gas is refunded."""

SIGN_DEPOSIT_YOCTO = 1
"""``sign`` needs at least 1 yoctoNEAR; the contract refunds any excess."""

DEFAULT_MAX_WAIT_SECONDS = 300.0
"""How long to wait for a yielded request (the contract times out after 200 blocks)."""

SUBMIT_ATTEMPTS = 8
"""Transactions sent for one request when the node refuses them before inclusion (a nonce taken
by another sender of the key, an expired block hash) or the RPC could not be reached at all."""

_FINAL_STATUSES = {"EXECUTED_OPTIMISTIC", "EXECUTED", "FINAL"}

Progress = Callable[[str], None]


def sign_call_args(request: SignRequest) -> dict[str, Any]:
    """The JSON arguments of ``sign`` for ``request`` (v1.signer ≥ 3 format); the payload
    variant follows ``request.curve`` (the signer binds it to the root key's curve first).

    Raises
    ------
    InvalidInputError
        For a request of an added domain whose curve is not known yet.
    """
    return {"request": build_sign_request(request.path, request.domain_id, request.payload, request.curve)}


def request_from_sign_args(account_id: str, args: Mapping[str, Any]) -> SignRequest:
    """Rebuild the :class:`SignRequest` of a ``sign`` call from its JSON arguments (both the
    ``payload_v2``/``domain_id`` and the legacy ``payload``/``key_version`` forms).

    Raises
    ------
    InvalidInputError
    """
    inner = args.get("request") if isinstance(args, Mapping) else None
    try:
        path, kind, payload, domain_id = parse_sign_request(inner)
    except InvalidInputError as exc:
        raise InvalidInputError(f"the transaction is not a v1.signer sign call: {exc}") from None
    return SignRequest(account_id, path, domain_id, payload, curve_of_kind(kind))


@dataclass
class _LoopClients:
    """near-kit clients of one event loop (an httpx connection pool cannot outlive its loop)."""

    view: Any
    """Reads and ``tx`` polls, with near-kit's retries."""
    send: Any
    """``send_tx`` only, without retries: a transaction is transmitted exactly once per send, so
    a refusal always belongs to this transmission and never to an earlier copy that landed."""


class NearContractSigner(Signer):
    """Signs through the network's signer contract.

    Parameters
    ----------
    network:
        A NEAR network with ``rpc_url`` and ``contract_id``.
    key:
        Use this access key instead of loading one per account (its account must be the
        requests' account).
    gas:
        Prepaid gas of each ``sign`` call.
    max_wait:
        Seconds to wait for one request's final outcome.
    timeout_retries:
        How often a "Request has timed out." outcome is submitted again.
    progress:
        Called with one-line status messages (the CLI shows them on a terminal).
    poll_interval:
        Seconds between ``tx`` status polls while the request yields.
    rpc_retries:
        near-kit's retries of a failed RPC call (exponential back-off from 1 s).
    """

    def __init__(
        self,
        network: NearNetwork,
        *,
        key: AccessKey | None = None,
        gas: int = DEFAULT_SIGN_GAS,
        max_wait: float = DEFAULT_MAX_WAIT_SECONDS,
        timeout_retries: int = 1,
        progress: Progress | None = None,
        poll_interval: float = 0.25,
        rpc_retries: int = 4,
    ) -> None:
        super().__init__(network)
        if not network.rpc_url or not network.contract_id:
            raise InvalidInputError(f"network {network.name!r} has no rpc_url/contract_id")
        if not 0 < gas <= DEFAULT_SIGN_GAS:
            raise InvalidInputError("gas must be between 1 and 300 Tgas")
        self.rpc_url = network.rpc_url
        self.contract_id = network.contract_id
        self.gas = gas
        self.max_wait = max_wait
        self.timeout_retries = timeout_retries
        self.poll_interval = poll_interval
        self.rpc_retries = rpc_retries
        self._progress = progress or (lambda _message: None)
        self._explicit_key = key
        self._keys: dict[str, AccessKey] = {}
        self._env_keys: set[str] = set()
        """Accounts whose key came from ``NEAR_PRIVATE_KEY`` (errors name the variable)."""
        self._checked_keys: set[str] = set()
        self._key_checks: dict[str, SharedFetch[None]] = {}
        self._near_signers: dict[str, Any] = {}
        self._loop_lock = threading.Lock()
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopClients] = (
            weakref.WeakKeyDictionary()
        )
        self._setup_locks: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[object, asyncio.Lock]
        ] = weakref.WeakKeyDictionary()
        self._roots: dict[int, PublicKey] = {}
        self.tx_hashes: dict[SignRequest, str] = {}
        """The NEAR transaction hash of each submitted request (for resuming)."""

    # -- keys ------------------------------------------------------------------------------

    def root_public_key(self, domain_id: int) -> PublicKey:
        """The root key of any domain: the contract's ``public_key`` view, checked against the
        configured key when the configuration has one (once per domain).

        Raises
        ------
        RootKeyMismatchError
            When the contract reports another key than the configuration.
        """
        if domain_id in self._roots:
            return self._roots[domain_id]
        from .base import _run

        return _run(self.root_public_key_async(domain_id))

    async def root_public_key_async(self, domain_id: int) -> PublicKey:
        """Async :meth:`root_public_key`."""
        if domain_id in self._roots:
            return self._roots[domain_id]
        async with self._setup_lock(("root", domain_id)):  # one view for a burst of requests
            if domain_id in self._roots:
                return self._roots[domain_id]
            return await self._check_root_key(domain_id)

    async def _check_root_key(self, domain_id: int) -> PublicKey:
        reported = await self.contract_public_key(domain_id)
        configured = self.network.root_public_keys.get(domain_id)
        if configured is not None and configured != reported:
            raise RootKeyMismatchError(
                f"{self.contract_id} on {self.network.name} reports root key {reported} for domain "
                f"{domain_id}, but the configuration has {configured}: every derived address would "
                "be wrong, refusing to sign"
            )
        self._roots[domain_id] = reported
        return reported

    async def contract_public_key(self, domain_id: int) -> PublicKey:
        """The contract's ``public_key`` view for ``domain_id``.

        Raises
        ------
        InvalidInputError
            When the domain's key is on a curve chainsig cannot sign with (e.g. bls12381).
        UnknownNameError
            When the contract has no such domain (the message lists the domains it has).
        SigningError
            When the view panics for another reason (the message quotes the contract).
        """
        try:
            value = await self._view("public_key", {"domain_id": domain_id})
        except ViewPanic as panic:
            raise await self._domain_error(domain_id, panic) from None
        prefix = value.partition(":")[0] if isinstance(value, str) else ""
        if prefix and prefix.isalnum() and prefix not in {c.value for c in Curve}:
            raise InvalidInputError(
                f"domain {domain_id} of {self.contract_id} on {self.network.name} has a {prefix} root "
                "key: chainsig signs in secp256k1 and ed25519 domains only"
            )
        return _parse_key(value, "public_key")

    async def _domain_error(self, domain_id: int, panic: ViewPanic) -> ChainsigError:
        """The error for a ``public_key`` view of ``domain_id`` that panicked, decided by the
        domains the contract's ``state`` lists (:func:`~.near_errors.domain_error`)."""
        try:
            domains = domains_of_state(await self._view("state", {}))
        except ChainsigError:
            domains = None
        return domain_error(self.network.name, domain_id, domains, panic)

    async def contract_derived_public_key(self, account_id: str, path: str, domain_id: int) -> PublicKey:
        """The contract's ``derived_public_key`` view (chainsig derives locally; this is for
        cross-checking)."""
        value = await self._view(
            "derived_public_key", {"path": path, "predecessor": account_id, "domain_id": domain_id}
        )
        return _parse_key(value, "derived_public_key")

    def derived_public_key(self, account_id: str, path: str, domain_id: int) -> PublicKey:
        from ..kdf import derive_public_key

        return derive_public_key(self.root_public_key(domain_id), account_id, path)

    # -- signing ---------------------------------------------------------------------------

    async def sign_async(self, request: SignRequest):  # type: ignore[no-untyped-def]
        self._key_for(request.account_id)  # a missing key is a local error: report it first
        await self.root_public_key_async(request.domain_id)
        return await super().sign_async(request)

    async def _request_signature(self, request: SignRequest) -> Mapping[str, Any]:
        attempts = 1 + max(0, self.timeout_retries)
        for attempt in range(1, attempts + 1):
            try:
                return await self._submit_and_wait(request)
            except SignRequestTimedOutError:
                if attempt == attempts:
                    raise
                self._progress(f"request timed out on chain; submitting again ({attempt}/{attempts - 1})")
        raise AssertionError("unreachable")  # pragma: no cover

    async def _submit_and_wait(self, request: SignRequest) -> Mapping[str, Any]:
        from near import function_call

        key = self._key_for(request.account_id)
        clients = self._loop_clients()
        await self._check_access_key(clients.view, key)
        action = function_call(
            "sign", sign_call_args(request), gas=str(self.gas), deposit=f"{SIGN_DEPOSIT_YOCTO} yocto"
        )
        self._progress(f"submitting sign request for {request.account_id} / {request.path!r}")
        tx_hash = await self._submit(clients, key, action)
        self.tx_hashes[request] = tx_hash
        self._progress(f"waiting for the signature (NEAR tx {tx_hash})")
        return await self._wait_outcome(clients.view, tx_hash, request.account_id)

    async def _submit(self, clients: _LoopClients, key: AccessKey, action: Any) -> str:
        """Send one ``sign`` transaction until the node takes it; its hash.

        near-kit's ``send_transaction`` fetches the key's nonce once per client and request, so a
        burst would start with one ``view_access_key`` per request; here the nonce and the block
        hash come from the process-wide :class:`~.near_nonces.KeyNonces` /
        :class:`~.near_nonces.RecentBlock`, and the transaction is built and signed with
        near-kit's wire types.

        A transaction the node refused before inclusion (``InvalidNonce``, ``Expired``, or no
        connection at all) is not on chain: each is transmitted exactly once (the send client has
        no retries), so the refusal is of this very transmission, and a new transaction with a
        fresh nonce cannot produce a second ``sign`` request. A send whose answer is lost may
        have landed: its hash is waited on and nothing is sent again.

        First sends of a burst go out concurrently: nearcore checks a nonce against the key's
        on-chain nonce and orders its pool by nonce, so arrival order does not matter within a
        block. Where it does (at a block boundary, or a node that checks against the last
        transaction it accepted, like the devnet host), a later nonce that overtook an earlier
        one gets the earlier one refused; resends therefore take turns per key (reserve, sign,
        ``send_tx`` with ``wait_until=NONE``), so they reach the node in nonce order and cannot
        overtake each other again.
        """
        import base58
        import near
        from near.wire import Transaction, sign_transaction, to_wire_public_key

        nonces = nonces_of(self.rpc_url, key)
        blocks = recent_block_of(self.rpc_url)
        signer = self._near_signer(key)

        async def final_block_hash() -> str:
            try:
                block = await clients.view.rpc("block", {"finality": "final"})
                return str(block["header"]["hash"])
            except (KeyError, TypeError):
                raise RpcError(f"NEAR RPC {self.rpc_url} answered block without a hash") from None
            except Exception as exc:
                raise self._translate(exc, key) from None

        async def fetch_key() -> Any:
            return await self._fetch_access_key(clients.view, key)

        async def send_once(wait_until: str) -> str:
            block_hash = await blocks.get(final_block_hash)
            nonce = await nonces.reserve(fetch_key)
            tx = Transaction(
                signer_id=key.account_id, public_key=to_wire_public_key(signer.public_key), nonce=nonce,
                receiver_id=self.contract_id, block_hash=base58.b58decode(block_hash), actions=[action],
            )
            tx_hash, raw = sign_transaction(tx, signer)
            sent.append(tx_hash)
            await clients.send.rpc(
                "send_tx", {"signed_tx_base64": base64.b64encode(raw).decode(), "wait_until": wait_until}
            )
            return tx_hash

        sent: list[str] = []
        for attempt in range(1, SUBMIT_ATTEMPTS + 1):
            sent.clear()  # the hash of this attempt's transaction, once it is being sent
            try:
                if attempt == 1:
                    return await send_once("INCLUDED")
                async with self._setup_lock(("send", key.account_id, key.public_key.to_near_string())):
                    return await send_once("NONE")
            except Exception as exc:
                tx_hash = sent[-1] if sent else ""
                why = refusal(exc)
                if why is None:
                    if tx_hash and outcome_unknown(exc):
                        # Sent, but the answer was lost: the transaction may be on chain, so wait
                        # on its hash instead of sending another.
                        return tx_hash
                    raise self._translate(exc, key) from None
                if isinstance(exc, near.InvalidNonceError):
                    if exc.ak_nonce is not None:
                        nonces.observed(int(exc.ak_nonce))
                    else:
                        nonces.invalidate()
                elif why == "NonceTooLarge":
                    nonces.reset()
                elif why in ("Expired", "InvalidChain"):
                    blocks.expire()
                if attempt == SUBMIT_ATTEMPTS:
                    raise self._translate(exc, key) from None
                self._progress(f"NEAR refused the transaction ({why}); sending a new one")
                await asyncio.sleep(0.05 * attempt if why != "unreachable" else min(0.25 * 2**attempt, 4.0))
        raise AssertionError("unreachable")  # pragma: no cover

    async def resume_async(self, tx_hash: str, account_id: str):  # type: ignore[no-untyped-def]
        """Resume waiting for a ``sign`` transaction after an interruption.

        The request is rebuilt from the transaction's own arguments; the signature is verified
        against the derived key like any other.

        Raises
        ------
        InvalidInputError
            If the transaction is not a ``sign`` call to this network's contract.
        """
        from .base import SignResult
        from ..signatures import parse_signature_response, verify_signature

        client = self._loop_clients().view
        try:
            result = await client.transaction_status(tx_hash, sender_id=account_id, wait_until="INCLUDED")
        except Exception as exc:
            raise self._translate(exc, None) from None
        tx = result.transaction or {}
        if tx.get("receiver_id") != self.contract_id:
            raise InvalidInputError(f"transaction {tx_hash} is not a call to {self.contract_id}")
        request = _request_of_transaction(tx, account_id)
        public_key = await self._derived_async(request)
        request = request.for_curve(public_key.curve, self.network.name)
        response = await self._wait_outcome(client, tx_hash, account_id)
        signature = parse_signature_response(response)
        verify_signature(public_key, request.payload, signature)
        return SignResult(request, public_key, signature, dict(response))

    def resume(self, tx_hash: str, account_id: str):  # type: ignore[no-untyped-def]
        """Synchronous :meth:`resume_async`."""
        from .base import _run

        return _run(self.resume_async(tx_hash, account_id))

    async def _derived_async(self, request: SignRequest) -> PublicKey:
        from ..kdf import derive_public_key

        root = await self.root_public_key_async(request.domain_id)
        return derive_public_key(root, request.account_id, request.path)

    async def _wait_outcome(self, client: Any, tx_hash: str, account_id: str) -> Mapping[str, Any]:
        deadline = time.monotonic() + self.max_wait
        while True:
            try:
                result = await client.transaction_status(
                    tx_hash, sender_id=account_id, wait_until="EXECUTED_OPTIMISTIC"
                )
                raw = result.model_dump()
            except Exception as exc:
                translated = self._translate(exc, None)
                if not isinstance(translated, RpcError) or time.monotonic() > deadline:
                    raise translated from None
                raw = None  # node busy or unreachable: keep waiting on the same hash
            if raw is not None and _is_final(raw):
                return response_of_outcome(raw, tx_hash)
            if time.monotonic() > deadline:
                raise SigningError(
                    f"no final outcome for NEAR tx {tx_hash} after {self.max_wait:.0f} s; resume "
                    f"later with: chainsig sign --network {self.network.name} --resume {tx_hash} "
                    f"--account {account_id}"
                )
            await asyncio.sleep(self.poll_interval)

    # -- plumbing --------------------------------------------------------------------------

    def _key_for(self, account_id: str) -> AccessKey:
        if self._explicit_key is not None:
            if self._explicit_key.account_id != account_id:
                raise CredentialsError(
                    f"the given key belongs to {self._explicit_key.account_id}, not {account_id}"
                )
            return self._explicit_key
        if account_id not in self._keys:
            self._keys[account_id] = load_access_key(
                self.network.credentials_dir, self.network.name, account_id
            )
            if env_key_applies(account_id):
                self._env_keys.add(account_id)
        return self._keys[account_id]

    def _key_name(self, key: AccessKey) -> str:
        """``the key ed25519:…`` — naming ``NEAR_PRIVATE_KEY`` when the key came from it."""
        source = f" ({PRIVATE_KEY_ENV})" if self._explicit_key is None and key.account_id in self._env_keys else ""
        return f"the key {key.public_key}{source}"

    def _loop_clients(self) -> _LoopClients:
        """The near-kit clients of the running event loop (made on first use in each loop)."""
        loop = asyncio.get_running_loop()
        with self._loop_lock:
            clients = self._clients.get(loop)
            if clients is None:
                clients = _LoopClients(
                    read_only_client(self.network.name, self.rpc_url, self.rpc_retries),
                    send_client(self.network.name, self.rpc_url),
                )
                self._clients[loop] = clients
            return clients

    def _near_signer(self, key: AccessKey) -> Any:
        marker = f"{key.account_id}:{key.public_key}"
        signer = self._near_signers.get(marker)
        if signer is None:
            from near import Ed25519KeyPair, KeyPairSigner

            signer = KeyPairSigner(account_id=key.account_id, key_pair=Ed25519KeyPair(key.seed))
            self._near_signers[marker] = signer
        return signer

    def _setup_lock(self, name: object) -> asyncio.Lock:
        loop = asyncio.get_running_loop()  # an asyncio lock belongs to one event loop
        with self._loop_lock:
            locks = self._setup_locks.setdefault(loop, {})
            lock = locks.get(name)
            if lock is None:
                lock = locks[name] = asyncio.Lock()
            return lock

    async def _check_access_key(self, client: Any, key: AccessKey) -> None:
        """Check once per signer that ``key`` is a full-access key of its account; the same
        ``view_access_key`` seeds the key's shared nonce. One check runs at a time for all of
        the signer's event loops; whoever comes while it runs waits for its outcome."""
        marker = f"{key.account_id}:{key.public_key}"
        if marker in self._checked_keys:
            return
        with self._loop_lock:
            check = self._key_checks.setdefault(marker, SharedFetch())

        async def run_check() -> None:
            if marker in self._checked_keys:  # finished just before this caller started one
                return
            info = await nonces_of(self.rpc_url, key).refresh(lambda: self._fetch_access_key(client, key))
            if not info.is_full_access:
                raise CredentialsError(
                    f"{self._key_name(key)} of {key.account_id} is a function-call access key; "
                    "sign needs a 1 yoctoNEAR deposit, which only a full-access key can attach"
                )
            self._checked_keys.add(marker)

        await check(run_check)

    async def _fetch_access_key(self, client: Any, key: AccessKey) -> Any:
        """The one ``view_access_key`` call: near-kit's ``AccessKeyView`` (nonce, permission)."""
        try:
            return await client.access_key(key.account_id, key.public_key.to_near_string())
        except Exception as exc:
            raise self._translate(exc, key) from None

    async def _view(self, method: str, args: Mapping[str, Any]) -> Any:
        """The contract's view ``method``; a panic in it is :class:`~.near_errors.ViewPanic` with
        the contract's own text (:func:`~.near_errors.view_error`)."""
        client = self._loop_clients().view
        try:
            return await client.view(self.contract_id, method, dict(args))
        except Exception as exc:
            panic = view_error(exc, method, network=self.network.name, contract_id=self.contract_id)
            raise panic or self._translate(exc, None) from None

    def _translate(self, exc: BaseException, key: AccessKey | None) -> ChainsigError:
        """chainsig's error for ``exc`` (:func:`~.near_errors.translate_error`)."""
        return translate_error(
            exc, network=self.network.name, rpc_url=self.rpc_url, contract_id=self.contract_id,
            key=key, key_name=self._key_name(key) if key is not None else None,
        )

    async def aclose(self) -> None:
        """Close the connections of the running event loop (those of loops already closed are
        dropped with them)."""
        with self._loop_lock:
            clients = self._clients.pop(asyncio.get_running_loop(), None)
        if clients is not None:
            for client in (clients.view, clients.send):
                try:
                    await client.aclose()
                except Exception:  # closing is best effort
                    pass


def _parse_key(value: Any, what: str) -> PublicKey:
    from ..errors import InvalidKeyError

    if isinstance(value, dict):  # older contracts: {"Secp256k1": {"near_public_key": …}} shapes
        for inner in value.values():
            if isinstance(inner, dict):
                value = inner.get("near_public_key") or inner.get("near_public_key_compressed")
    try:
        return PublicKey.from_near_string(value)
    except InvalidKeyError as exc:
        raise SignatureResponseError(f"the contract's {what} view returned an invalid key: {exc}") from None


def _is_final(raw: Mapping[str, Any]) -> bool:
    status = raw.get("status")
    if isinstance(status, dict) and ("SuccessValue" in status or "Failure" in status):
        return raw.get("final_execution_status") in _FINAL_STATUSES | {None}
    return False


def _request_of_transaction(tx: Mapping[str, Any], account_id: str) -> SignRequest:
    for action in tx.get("actions", []):
        call = action.get("FunctionCall") if isinstance(action, dict) else None
        if call and call.get("method_name") == "sign":
            try:
                args = json.loads(base64.b64decode(call["args"]))
            except (ValueError, TypeError, KeyError):
                break
            return request_from_sign_args(tx.get("signer_id", account_id), args)
    raise InvalidInputError("the transaction is not a v1.signer sign call")
