"""The ``dev`` signer: one in-process root key per curve. Not MPC, not for real funds.

The root secrets come from ``CHAINSIG_DEV_SEED`` (default :data:`DEFAULT_DEV_SEED`)::

    secp256k1 root secret = SHA-256("chainsig/dev/secp256k1/" + seed) mod n
    ed25519 root secret   = SHA-512("chainsig/dev/ed25519/" + seed) mod ℓ

The dev network has exactly the two conventional domains, 0 (secp256k1) and 1 (ed25519): it
has no contract that could add more, and inventing a curve for domain 2 would give keys no real
network has. Domains added by ``vote_add_domains`` are signed through a network with a signer
contract (e.g. a devnet after ``chainsig mpc vote add-domains``); asking ``dev`` for another
domain is an :class:`~chainsig_core.errors.UnknownNameError`.

A derived secret is ``root + tweak`` (mod n or ℓ), exactly the key the MPC network would hold
jointly, so signatures made here verify under ``chainsig_core.kdf``'s derived keys. ECDSA
signatures are low-s with the recovery id libsecp256k1 computes; Ed25519 signatures are RFC 8032
signatures by the derived *scalar* (there is no seed to expand), with a deterministic nonce.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from ..config import DEV_SEED_ENV, NearNetwork
from ..errors import InvalidKeyError, UnknownNameError
from ..kdf import derive_secret_key
from ..keys import ED25519_L, SECP256K1_N, Curve, PublicKey
from ..signatures import EcdsaSignature, Ed25519Signature
from .base import Signer, SignRequest

DEFAULT_DEV_SEED = "chainsig-dev-seed-not-for-real-funds"
"""The documented default seed: anyone can sign for ``dev`` keys made from it."""

DEV_WARNING = "network 'dev' signs with a single local key: not MPC, not for real funds"

log = logging.getLogger(__name__)


def dev_seed() -> str:
    """The seed in effect (``CHAINSIG_DEV_SEED`` or the default)."""
    return os.environ.get(DEV_SEED_ENV) or DEFAULT_DEV_SEED


@lru_cache(maxsize=16)
def _root_secret(curve: Curve, seed: str) -> int:
    material = seed.encode("utf-8")
    if curve is Curve.SECP256K1:
        value = int.from_bytes(hashlib.sha256(b"chainsig/dev/secp256k1/" + material).digest(), "big")
        value %= SECP256K1_N
    else:
        value = int.from_bytes(hashlib.sha512(b"chainsig/dev/ed25519/" + material).digest(), "little")
        value %= ED25519_L
    if value == 0:  # pragma: no cover - probability 2**-252
        raise InvalidKeyError("dev seed gives a zero root secret; choose another seed")
    return value


def dev_root_secret(curve: Curve, seed: str | None = None) -> int:
    """The dev root secret scalar of ``curve``."""
    return _root_secret(Curve(curve), seed if seed is not None else dev_seed())


@lru_cache(maxsize=16)
def _root_public(curve: Curve, seed: str) -> PublicKey:
    return public_key_of_secret(curve, _root_secret(curve, seed))


def dev_domain_curve(domain_id: int) -> Curve:
    """The curve of ``domain_id`` on the dev network: 0 secp256k1, 1 ed25519, nothing else.

    Raises
    ------
    UnknownNameError
        For any other domain.
    """
    curve = Curve.default_for_domain(domain_id)
    if curve is None:
        raise UnknownNameError(
            f"network 'dev' has no domain {domain_id!r}: it has domains 0 (secp256k1) and 1 "
            "(ed25519) only; added domains live on networks with a signer contract (e.g. a "
            "devnet after 'chainsig mpc vote add-domains')"
        )
    return curve


def dev_root_public_key(curve: Curve, seed: str | None = None) -> PublicKey:
    """The dev root public key of ``curve``."""
    return _root_public(Curve(curve), seed if seed is not None else dev_seed())


def public_key_of_secret(curve: Curve, secret: int) -> PublicKey:
    """``secret·G`` / ``secret·B`` in NEAR's byte form."""
    if Curve(curve) is Curve.SECP256K1:
        import coincurve

        point = coincurve.PrivateKey(secret.to_bytes(32, "big")).public_key
        return PublicKey(Curve.SECP256K1, point.format(compressed=False)[1:])
    from nacl.bindings import crypto_scalarmult_ed25519_base_noclamp

    return PublicKey(Curve.ED25519, crypto_scalarmult_ed25519_base_noclamp(secret.to_bytes(32, "little")))


def ecdsa_sign_with_scalar(secret: int, payload: bytes) -> EcdsaSignature:
    """Low-s ECDSA over the 32-byte hash ``payload`` with the recovery id (RFC 6979 nonce)."""
    import coincurve

    raw = coincurve.PrivateKey(secret.to_bytes(32, "big")).sign_recoverable(payload, hasher=None)
    r, s, rec = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big"), raw[64]
    x = r + SECP256K1_N if rec & 2 else r
    return EcdsaSignature(bytes([2 + (rec & 1)]) + x.to_bytes(32, "big"), s, rec)


def ed25519_sign_with_scalar(secret: int, message: bytes) -> Ed25519Signature:
    """RFC 8032 signature by the scalar ``secret`` (nonce = H(H(domain‖secret)‖message))."""
    from nacl.bindings import crypto_scalarmult_ed25519_base_noclamp

    a = secret.to_bytes(32, "little")
    public = crypto_scalarmult_ed25519_base_noclamp(a)
    prefix = hashlib.sha512(b"chainsig/dev/ed25519-nonce/" + a).digest()[32:]
    r = int.from_bytes(hashlib.sha512(prefix + message).digest(), "little") % ED25519_L
    big_r = crypto_scalarmult_ed25519_base_noclamp(r.to_bytes(32, "little"))
    k = int.from_bytes(hashlib.sha512(big_r + public + message).digest(), "little") % ED25519_L
    s = (r + k * secret) % ED25519_L
    return Ed25519Signature(big_r + s.to_bytes(32, "little"))


@lru_cache(maxsize=1)
def _warn_once() -> None:
    """The dev signer's warning, once per process (not once per signer)."""
    log.warning(DEV_WARNING)


class DevSigner(Signer):
    """Signs with the dev root key plus the tweak, in process.

    Parameters
    ----------
    network:
        The ``dev`` network (``load_config().network("dev")``).
    seed:
        Overrides ``CHAINSIG_DEV_SEED``.
    """

    def __init__(self, network: NearNetwork, seed: str | None = None) -> None:
        super().__init__(network)
        self.seed = seed if seed is not None else dev_seed()
        _warn_once()

    def root_public_key(self, domain_id: int) -> PublicKey:
        """The dev root key of domain 0 or 1.

        Raises
        ------
        UnknownNameError
            For another domain (see the module docstring).
        """
        return dev_root_public_key(dev_domain_curve(domain_id), self.seed)

    def derived_secret(self, account_id: str, path: str, domain_id: int) -> int:
        """The child secret scalar of ``(account_id, path)`` (tests and tools only)."""
        curve = dev_domain_curve(domain_id)
        return derive_secret_key(curve, dev_root_secret(curve, self.seed), account_id, path)

    async def _request_signature(self, request: SignRequest) -> Mapping[str, Any]:
        secret = self.derived_secret(request.account_id, request.path, request.domain_id)
        if dev_domain_curve(request.domain_id) is Curve.SECP256K1:
            return ecdsa_sign_with_scalar(secret, request.payload).to_response()
        return ed25519_sign_with_scalar(secret, request.payload).to_response()
