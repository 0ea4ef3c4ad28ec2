"""NEAR-exact key derivation (what ``v1.signer`` does), bytes in, bytes out.

``tweak = SHA3-256("near-mpc-recovery v0.1.0 epsilon derivation:" + predecessor + "," + path)``

* secp256k1: the tweak is read big-endian and **rejected** when ≥ n; ``derived = root + t·G``.
* ed25519: the tweak is read little-endian and reduced mod ℓ; ``derived = root + t·B``.

The domain id does not enter the hash: the same (account, path) gives the same tweak on both
curves. Point arithmetic uses libsecp256k1 (coincurve) and libsodium (PyNaCl, through
:mod:`.ed25519_ops`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import lru_cache

from .account_id import validate_account_id
from .errors import InvalidInputError, InvalidKeyError, TweakOutOfRangeError
from .keys import ED25519_L, SECP256K1_N, Curve, PublicKey

TWEAK_PREFIX = b"near-mpc-recovery v0.1.0 epsilon derivation:"
"""Domain separator NEAR's contract and nodes hash in front of ``predecessor,path``."""

MAX_PATH_BYTES = 4096
"""Longest derivation path chainsig accepts (NEAR's contract has no explicit bound; arguments
are bounded by the transaction size)."""


def tweak(predecessor: str, path: str) -> bytes:
    """The 32-byte derivation tweak ε of ``(predecessor, path)``.

    Parameters
    ----------
    predecessor:
        The NEAR account that calls ``sign`` (validated as a NEAR account id).
    path:
        Any string (UTF-8); the empty string is allowed, as on NEAR.

    Returns
    -------
    bytes
        ``SHA3-256(prefix + predecessor + "," + path)``.

    Raises
    ------
    InvalidAccountIdError
        If ``predecessor`` is not a valid NEAR account id.
    InvalidInputError
        If ``path`` is not a string or is longer than :data:`MAX_PATH_BYTES`.
    """
    validate_account_id(predecessor)
    return _tweak_unchecked(predecessor, path)


def _tweak_unchecked(predecessor: str, path: str) -> bytes:
    if not isinstance(path, str):
        raise InvalidInputError("derivation path must be a string")
    try:
        encoded_path = path.encode("utf-8", "strict")
    except UnicodeEncodeError:  # a lone surrogate, e.g. from a JSON "\\ud800" escape
        raise InvalidInputError("derivation path is not valid Unicode text (lone surrogate)") from None
    if len(encoded_path) > MAX_PATH_BYTES:
        raise InvalidInputError(f"derivation path is longer than {MAX_PATH_BYTES} bytes")
    return hashlib.sha3_256(
        TWEAK_PREFIX + predecessor.encode("ascii") + b"," + encoded_path
    ).digest()


def secp256k1_tweak_scalar(tweak_bytes: bytes) -> int:
    """The secp256k1 scalar of a tweak: big-endian, rejected if ≥ n.

    Raises
    ------
    TweakOutOfRangeError
        If the tweak is ≥ n (NEAR rejects it rather than reducing it).
    """
    value = int.from_bytes(tweak_bytes, "big")
    if value >= SECP256K1_N:
        raise TweakOutOfRangeError(
            "the secp256k1 tweak of this (account, path) is ≥ the curve order; NEAR rejects "
            "such a derivation — choose another path"
        )
    return value


def ed25519_tweak_scalar(tweak_bytes: bytes) -> int:
    """The ed25519 scalar of a tweak: little-endian, reduced mod ℓ."""
    return int.from_bytes(tweak_bytes, "little") % ED25519_L


def tweak_scalar(curve: Curve, tweak_bytes: bytes) -> int:
    """The tweak as a scalar of ``curve`` (see the two functions above)."""
    if Curve(curve) is Curve.SECP256K1:
        return secp256k1_tweak_scalar(tweak_bytes)
    return ed25519_tweak_scalar(tweak_bytes)


def derive_public_key_from_tweak(root: PublicKey, tweak_bytes: bytes) -> PublicKey:
    """``root + ε·G`` (secp256k1) or ``root + ε·B`` (ed25519).

    Raises
    ------
    TweakOutOfRangeError
        secp256k1 tweak ≥ n.
    InvalidKeyError
        If ``root`` is not a valid point (or not a key at all), or the sum is the identity.
    """
    root = _as_public_key(root)
    if root.curve is Curve.SECP256K1:
        return _derive_secp256k1(root, tweak_bytes)
    return _derive_ed25519(root, tweak_bytes)


def derive_public_key(root: PublicKey | str, predecessor: str, path: str) -> PublicKey:
    """The key ``v1.signer`` derives for ``(predecessor, path)`` under ``root``.

    Parameters
    ----------
    root:
        The domain's root public key (mainnet/testnet keys are in
        :mod:`chainsig_core.config`), or its NEAR string as the contract's ``public_key`` view
        returns it (``"secp256k1:…"``).
    predecessor:
        NEAR account id that calls ``sign``.
    path:
        Derivation path.

    Returns
    -------
    PublicKey
        The child key, same curve as ``root``.

    Raises
    ------
    InvalidAccountIdError, TweakOutOfRangeError, InvalidKeyError
    """
    return derive_public_key_from_tweak(_as_public_key(root), tweak(predecessor, path))


def _as_public_key(root: object) -> PublicKey:
    if isinstance(root, PublicKey):
        return root
    if isinstance(root, str):
        return PublicKey.from_near_string(root)
    raise InvalidKeyError(f"the root key must be a PublicKey or a NEAR key string, not {type(root).__name__}")


def public_key_deriver(root: PublicKey) -> Callable[[str, str], PublicKey]:
    """:func:`derive_public_key` under one root, for many ``(predecessor, path)`` pairs.

    The root is parsed and validated once, here, rather than looked up for every key: batch
    derivation (``chainsig derive --from-file``) uses this.

    Returns
    -------
    Callable[[str, str], PublicKey]
        ``(predecessor, path) -> child key``, raising as :func:`derive_public_key` does.

    Raises
    ------
    InvalidKeyError
        If ``root`` is not a valid point of its curve.
    """
    if root.curve is Curve.SECP256K1:
        _secp256k1_point(bytes(root.data))

        def derive_secp256k1(predecessor: str, path: str) -> PublicKey:
            return _derive_secp256k1(root, tweak(predecessor, path))

        return derive_secp256k1
    child = _ed25519_child_function(bytes(root.data))

    def derive_ed25519(predecessor: str, path: str) -> PublicKey:
        validate_account_id(predecessor)
        scalar = int.from_bytes(_tweak_unchecked(predecessor, path), "little") % ED25519_L
        if scalar == 0:
            return root
        return PublicKey(Curve.ED25519, child(scalar.to_bytes(32, "little")))

    return derive_ed25519


def derive_secret_key(curve: Curve, root_secret: int, predecessor: str, path: str) -> int:
    """The child secret scalar ``root_secret + ε`` (mod n or ℓ) — used by the dev signer.

    Raises
    ------
    InvalidKeyError
        If ``root_secret`` is out of range or the child secret is zero.
    """
    curve = Curve(curve)
    order = SECP256K1_N if curve is Curve.SECP256K1 else ED25519_L
    if not 0 < root_secret < order:
        raise InvalidKeyError("root secret scalar is out of range")
    child = (root_secret + tweak_scalar(curve, tweak(predecessor, path))) % order
    if child == 0:
        raise InvalidKeyError("derived secret is zero; choose another path")
    return child


# Root keys are few and reused for every derivation: parse / validate each once.
@lru_cache(maxsize=64)
def _secp256k1_point(data: bytes):  # type: ignore[no-untyped-def]
    import coincurve

    try:
        return coincurve.PublicKey(b"\x04" + data)
    except (ValueError, TypeError):
        raise InvalidKeyError("root key is not a point on secp256k1") from None


_ED25519_IDENTITY = b"\x01" + bytes(31)


@lru_cache(maxsize=64)
def _ed25519_child_function(root_data: bytes) -> Callable[[bytes], bytes]:
    """``s ↦ root + s·B`` (compressed) for one root key, which is validated once here.

    Both steps are libsodium's (:mod:`.ed25519_ops`); libsodium has no call that keeps the root
    decompressed, so each row pays for decompressing it again inside ``crypto_core_ed25519_add``.
    """
    from .ed25519_ops import ops

    point_ops = ops()
    if not point_ops.is_valid_point(root_data):
        raise InvalidKeyError("root key is not a valid ed25519 point")
    add_base_noclamp = point_ops.add_base_noclamp

    def child(scalar: bytes) -> bytes:
        point = add_base_noclamp(root_data, scalar)
        if point is None:  # libsodium refused an operand; cannot happen for a valid root
            raise InvalidKeyError("ed25519 derivation failed: libsodium refused the points")
        if point == _ED25519_IDENTITY:
            raise InvalidKeyError("derived ed25519 key is the identity point; choose another path")
        return point

    return child


def _derive_secp256k1(root: PublicKey, tweak_bytes: bytes) -> PublicKey:
    scalar = secp256k1_tweak_scalar(tweak_bytes)
    point = _secp256k1_point(bytes(root.data))
    if scalar == 0:
        return root
    try:
        child = point.add(scalar.to_bytes(32, "big"))
    except (ValueError, TypeError):
        raise InvalidKeyError("derived secp256k1 key is the point at infinity") from None
    return PublicKey(Curve.SECP256K1, child.format(compressed=False)[1:])


def _derive_ed25519(root: PublicKey, tweak_bytes: bytes) -> PublicKey:
    child = _ed25519_child_function(bytes(root.data))
    scalar = int.from_bytes(tweak_bytes, "little") % ED25519_L
    if scalar == 0:
        return root
    return PublicKey(Curve.ED25519, child(scalar.to_bytes(32, "little")))
