"""The :class:`Signer` interface: payloads for (account, path, domain) → verified signatures.

Two implementations share it: :class:`~chainsig_core.signers.dev.DevSigner` (network ``dev``,
one in-process key) and the NEAR contract client (mainnet, testnet, devnet), so the code a user
runs against mainnet is the code the offline tests run. Subclasses implement only
:meth:`Signer._request_signature`, which returns the contract-shaped response JSON; the base
class validates the request, parses the response and verifies the signature against the locally
derived key — an unverified signature never leaves a signer.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..account_id import validate_account_id
from ..config import NearNetwork
from ..errors import ChainsigError, InvalidInputError, SigningError
from ..kdf import derive_public_key
from ..keys import Curve, PublicKey
from ..payloads import validate_payload
from ..signatures import Signature, parse_signature_response, verify_signature


@dataclass(frozen=True)
class SignRequest:
    """One payload to sign for ``(account_id, path)`` in ``domain_id``.

    Raises
    ------
    InvalidAccountIdError, InvalidInputError
        On construction, for a bad account id, domain or payload.
    """

    account_id: str
    path: str
    domain_id: int
    payload: bytes

    def __post_init__(self) -> None:
        validate_account_id(self.account_id)
        if not isinstance(self.path, str):
            raise InvalidInputError("derivation path must be a string")
        if isinstance(self.domain_id, bool) or self.domain_id not in (0, 1):
            raise InvalidInputError(f"domain must be 0 (secp256k1) or 1 (ed25519), not {self.domain_id!r}")
        validate_payload(self.domain_id, self.payload)


@dataclass(frozen=True)
class SignResult:
    """A signature that verified under ``public_key``, with the response it came from."""

    request: SignRequest
    public_key: PublicKey
    signature: Signature
    response: Mapping[str, Any]

    def to_json(self, network: str) -> dict[str, Any]:
        """The ``chainsig sign --json`` object (ARCHITECTURE.md)."""
        return {
            "network": network,
            "account": self.request.account_id,
            "path": self.request.path,
            "domain_id": self.request.domain_id,
            "payload": self.request.payload.hex(),
            "response": dict(self.response),
            "signature": self.signature.to_json(),
        }


@dataclass(frozen=True)
class SignFailure:
    """A request of a batch that did not produce a verified signature."""

    request: SignRequest
    error: ChainsigError


class Signer(ABC):
    """Signs payloads through a NEAR network's signer (contract + MPC, or the dev key)."""

    def __init__(self, network: NearNetwork) -> None:
        self.network = network

    # -- keys ------------------------------------------------------------------------------

    def root_public_key(self, domain_id: int) -> PublicKey:
        """The network's root key of ``domain_id``."""
        return self.network.root_public_key(domain_id)

    def derived_public_key(self, account_id: str, path: str, domain_id: int) -> PublicKey:
        """The key the network controls for ``(account_id, path)`` in ``domain_id``."""
        return derive_public_key(self.root_public_key(domain_id), account_id, path)

    # -- signing ---------------------------------------------------------------------------

    @abstractmethod
    async def _request_signature(self, request: SignRequest) -> Mapping[str, Any]:
        """Obtain the v1.signer response JSON for ``request`` (not yet verified).

        Raises
        ------
        SigningError, RpcError, CredentialsError
        """

    async def sign_async(self, request: SignRequest) -> SignResult:
        """Sign one payload and verify the signature against the derived key.

        Raises
        ------
        SignatureVerificationError
            If the signer answered with a signature that does not verify.
        SigningError, RpcError, CredentialsError, SignatureResponseError
        """
        public_key = self.derived_public_key(request.account_id, request.path, request.domain_id)
        response = await self._request_signature(request)
        signature = parse_signature_response(response)
        if signature.curve is not Curve.for_domain(request.domain_id):
            raise SigningError(
                f"signer answered with a {signature.curve.value} signature for domain {request.domain_id}"
            )
        verify_signature(public_key, request.payload, signature)
        return SignResult(request, public_key, signature, dict(response))

    async def sign_many_async(
        self, requests: Sequence[SignRequest]
    ) -> list[SignResult | SignFailure]:
        """Sign several payloads concurrently; one result or failure per request, in order."""

        async def one(request: SignRequest) -> SignResult | SignFailure:
            try:
                return await self.sign_async(request)
            except ChainsigError as exc:
                return SignFailure(request, exc)

        return list(await asyncio.gather(*(one(r) for r in requests)))

    def sign(self, request: SignRequest) -> SignResult:
        """Synchronous :meth:`sign_async`."""
        return _run(self.sign_async(request))

    def sign_many(self, requests: Sequence[SignRequest]) -> list[SignResult | SignFailure]:
        """Synchronous :meth:`sign_many_async`."""
        return _run(self.sign_many_async(requests))

    def sign_all(self, requests: Sequence[SignRequest]) -> list[SignResult]:
        """Sign every request or raise the first failure (after all have finished)."""
        results = self.sign_many(requests)
        for result in results:
            if isinstance(result, SignFailure):
                raise result.error
        return results  # type: ignore[return-value]

    async def aclose(self) -> None:
        """Release connections (no-op for signers without any)."""

    def close(self) -> None:
        """Synchronous :meth:`aclose`."""
        _run(self.aclose())


def _run(coro: Any) -> Any:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    coro.close()
    raise SigningError("called the synchronous API inside a running event loop: use the *_async methods")
