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
from dataclasses import dataclass, field, replace
from typing import Any

from ..account_id import validate_account_id
from ..config import NearNetwork
from ..errors import ChainsigError, InvalidInputError, SigningError
from ..kdf import derive_public_key
from ..keys import Curve, PublicKey, check_domain_id
from ..payloads import EDDSA_MAX_PAYLOAD_BYTES, validate_payload
from ..signatures import Signature, parse_signature_response, verify_signature


@dataclass(frozen=True)
class SignRequest:
    """One payload to sign for ``(account_id, path)`` in ``domain_id``.

    Parameters
    ----------
    account_id, path:
        The predecessor account and the derivation path.
    domain_id:
        Any domain of the signer contract (u64). 0 (secp256k1) and 1 (ed25519) are every
        network's; a contract may have added more (``vote_add_domains``).
    payload:
        ECDSA domains: exactly 32 bytes (a hash), 0 < value < n. EdDSA domains: the message,
        at most 1232 bytes.
    curve:
        The curve of the domain, when the caller knows it. Left out, it is secp256k1 for domain
        0, ed25519 for domain 1 and unknown for other domains: the signer then learns it from
        the domain's root key and checks the payload before anything is sent
        (:meth:`for_curve`). Not part of the request's identity (equality, hash).

    Raises
    ------
    InvalidAccountIdError, InvalidInputError
        On construction, for a bad account id, domain, curve or payload. A payload is checked
        by the rules of the curve when it is known, otherwise only as bytes of at most 1232.
    """

    account_id: str
    path: str
    domain_id: int
    payload: bytes
    curve: Curve | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        validate_account_id(self.account_id)
        if not isinstance(self.path, str):
            raise InvalidInputError("derivation path must be a string")
        check_domain_id(self.domain_id)
        curve = self.curve if self.curve is not None else Curve.default_for_domain(self.domain_id)
        if curve is not None:
            try:
                curve = Curve(curve)
            except ValueError:
                raise InvalidInputError(f"curve must be secp256k1 or ed25519, not {self.curve!r}") from None
            payload = validate_payload(curve, self.payload)
        else:
            payload = _generic_payload(self.payload)
        object.__setattr__(self, "curve", curve)
        object.__setattr__(self, "payload", payload)

    def for_curve(self, curve: Curve, network: str) -> SignRequest:
        """This request bound to ``curve``, the curve of its domain's root key on ``network``.

        Raises
        ------
        InvalidInputError
            When the request names another curve, or the payload breaks ``curve``'s rules.
        """
        if self.curve is curve:
            return self
        if self.curve is not None:
            raise InvalidInputError(
                f"the root key of domain {self.domain_id} on network {network!r} is {curve.value}, "
                f"but the request is for {self.curve.value}"
            )
        return replace(self, curve=curve)


def _generic_payload(payload: Any) -> bytes:
    """The checks that hold whatever the curve (its rules are applied once it is known)."""
    if not isinstance(payload, bytes | bytearray):
        raise InvalidInputError("payload must be bytes")
    if len(payload) > EDDSA_MAX_PAYLOAD_BYTES:  # the larger limit of the two schemes
        raise InvalidInputError(
            f"a payload is at most {EDDSA_MAX_PAYLOAD_BYTES} bytes, got {len(payload)}"
        )
    return bytes(payload)


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
        """The network's root key of ``domain_id``; its curve is the domain's curve."""
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

        The key is derived from the root key of ``request.domain_id``; its curve decides the
        payload rules and the signature scheme (:meth:`SignRequest.for_curve`), and the
        :class:`SignResult` carries the request bound to that curve.

        Raises
        ------
        InvalidInputError
            If the payload breaks the rules of the domain's curve, or the request names another
            curve than the domain's root key has.
        UnknownNameError
            If the network has no (known) root key for the domain.
        SignatureVerificationError
            If the signer answered with a signature that does not verify.
        SigningError, RpcError, CredentialsError, SignatureResponseError
        """
        public_key = self.derived_public_key(request.account_id, request.path, request.domain_id)
        request = request.for_curve(public_key.curve, self.network.name)
        response = await self._request_signature(request)
        signature = parse_signature_response(response)
        if signature.curve is not public_key.curve:
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
