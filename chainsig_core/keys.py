"""Public keys and NEAR's key-string codec.

NEAR writes keys as ``<curve>:<base58>``: ``secp256k1:`` + base58 of the 64-byte ``x‖y``
(the uncompressed point without its ``04`` prefix) and ``ed25519:`` + base58 of the 32-byte
compressed Edwards point. :class:`PublicKey` holds exactly those bytes and converts to the forms
chains need (compressed / uncompressed SEC1 for secp256k1).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

import base58

from .errors import InvalidInputError, InvalidKeyError

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
"""Order of the secp256k1 group."""

ED25519_L = 2**252 + 27742317777372353535851937790883648493
"""Order ℓ of the ed25519 prime-order subgroup."""

MAX_DOMAIN_ID = 2**64 - 1
"""Domain ids are u64 in the signer contract."""


class Curve(str, enum.Enum):
    """The curves of the signer contract's domains.

    A domain's curve is the curve of its root key. Domains 0 (secp256k1) and 1 (ed25519) are the
    conventional pair every network has; a contract may add more of either curve
    (``vote_add_domains``), whose curve only the network knows (its ``public_key`` view).
    """

    SECP256K1 = "secp256k1"
    ED25519 = "ed25519"

    @property
    def domain_id(self) -> int:
        """The *default* domain of this curve: 0 for secp256k1, 1 for ed25519.

        Chain plugins sign in it (EVM and Bitcoin in 0, Solana in 1); a network may have other
        domains of the same curve, which callers name explicitly.
        """
        return 0 if self is Curve.SECP256K1 else 1

    @classmethod
    def default_for_domain(cls, domain_id: int) -> Curve | None:
        """The conventional curve of domain 0 or 1; ``None`` for any other domain (its curve is
        that of its root key on the network)."""
        if isinstance(domain_id, bool) or not isinstance(domain_id, int):
            return None
        return _DEFAULT_DOMAIN_CURVES.get(domain_id)

    @classmethod
    def for_domain(cls, domain_id: int) -> Curve:
        """The conventional curve of domain 0 or 1.

        Raises
        ------
        InvalidKeyError
            For any other domain id: only the network knows its curve (the root key's).
        """
        curve = cls.default_for_domain(domain_id)
        if curve is None:
            raise InvalidKeyError(
                f"domain {domain_id!r} has no fixed curve: its curve is that of its root key on "
                "the network (0 is secp256k1 and 1 is ed25519 by convention)"
            )
        return curve


_DEFAULT_DOMAIN_CURVES = {0: Curve.SECP256K1, 1: Curve.ED25519}


def check_domain_id(value: object) -> int:
    """Return ``value`` if it is a valid domain id: an integer in the contract's u64 range.

    Raises
    ------
    InvalidInputError
        For a bool, a non-integer, a negative number or one above 2**64 − 1.
    """
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DOMAIN_ID:
        raise InvalidInputError(
            f"domain must be an unsigned 64-bit integer (0 = secp256k1, 1 = ed25519, others as the "
            f"network's contract defines), not {value!r}"
        )
    return value


_KEY_LENGTH = {Curve.SECP256K1: 64, Curve.ED25519: 32}

_T = TypeVar("_T")


class _computed_once(Generic[_T]):  # noqa: N801 - used like functools.cached_property
    """:func:`functools.cached_property` without its per-class lock (Python 3.11 takes an RLock
    on every first access; for the fresh key of each ``derive`` row that lock cost more than a
    third of the base58 encoding). The value is stored in the instance ``__dict__``, so later
    reads do not reach this descriptor; two threads racing on a first read both compute the
    same value."""

    def __init__(self, func: Callable[[Any], _T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> _computed_once[_T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> _T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.func(instance)
        return value


@dataclass(frozen=True)
class PublicKey:
    """A public key in NEAR's byte form.

    Parameters
    ----------
    curve:
        :class:`Curve` of the key.
    data:
        64 bytes ``x‖y`` for secp256k1; 32 bytes compressed point for ed25519.

    The constructor checks lengths only; :func:`chainsig_core.kdf` validates points when it
    operates on them, and :meth:`from_near_string` validates fully.
    """

    curve: Curve
    data: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.data, (bytes, bytearray)):
            raise InvalidKeyError("public key data must be bytes")
        if type(self.curve) is not Curve:  # given by name ("ed25519"): store the Curve itself
            try:
                object.__setattr__(self, "curve", Curve(self.curve))
            except ValueError:
                raise InvalidKeyError(f"unknown curve {self.curve!r}: expected secp256k1 or ed25519") from None
        expected = _KEY_LENGTH[self.curve]
        if len(self.data) != expected:
            raise InvalidKeyError(
                f"{self.curve.value} public key must be {expected} bytes, got {len(self.data)}"
            )

    @property
    def domain_id(self) -> int:
        """The *default* domain of this key's curve (0 secp256k1, 1 ed25519); see
        :attr:`Curve.domain_id`. A key of an added domain (2, 3, …) still answers 0 or 1."""
        return self.curve.domain_id

    @_computed_once
    def uncompressed(self) -> bytes:
        """SEC1 uncompressed form ``04‖x‖y`` (secp256k1 only)."""
        self._need(Curve.SECP256K1, "uncompressed")
        return b"\x04" + self.data

    @_computed_once
    def compressed(self) -> bytes:
        """SEC1 compressed form ``02|03‖x`` for secp256k1; the 32 bytes for ed25519."""
        if self.curve is Curve.ED25519:
            return self.data
        prefix = 2 + (self.data[63] & 1)
        return bytes([prefix]) + self.data[:32]

    @_computed_once
    def base58(self) -> str:
        """base58 of :attr:`data` (computed once; a Solana address is exactly this)."""
        return b58encode(self.data)

    def to_near_string(self) -> str:
        """The key as NEAR writes it, e.g. ``secp256k1:3tFR…``."""
        return f"{self.curve.value}:{self.base58}"

    def __str__(self) -> str:
        return self.to_near_string()

    @classmethod
    def from_near_string(cls, text: str) -> PublicKey:
        """Decode and validate a NEAR key string.

        Raises
        ------
        InvalidKeyError
            If the prefix is unknown, the base58 is malformed, the length is wrong or the bytes
            are not a valid point on the curve.
        """
        if not isinstance(text, str):
            raise InvalidKeyError("a NEAR public key must be a string like 'ed25519:…'")
        curve_name, sep, body = text.partition(":")
        if not sep:
            raise InvalidKeyError(
                f"malformed NEAR public key {_shorten(text)!r}: expected 'secp256k1:…' or 'ed25519:…'"
            )
        try:
            curve = Curve(curve_name)
        except ValueError:
            raise InvalidKeyError(
                f"unknown key type {curve_name!r} in NEAR public key: expected secp256k1 or ed25519"
            ) from None
        try:
            data = base58.b58decode(body.encode("ascii"), autofix=False)
        except (ValueError, UnicodeEncodeError):
            raise InvalidKeyError(f"NEAR public key {_shorten(text)!r} is not valid base58") from None
        key = cls(curve, data)
        key.validate()
        return key

    @classmethod
    def from_bytes(cls, curve: Curve, raw: bytes) -> PublicKey:
        """Build a key from any standard encoding and validate it.

        secp256k1 accepts 33-byte compressed, 65-byte uncompressed or 64-byte ``x‖y``; ed25519
        accepts the 32-byte compressed point.

        Raises
        ------
        InvalidKeyError
            If the bytes are not a valid point of ``curve``.
        """
        curve = Curve(curve)
        if curve is Curve.SECP256K1:
            import coincurve

            if len(raw) == 64:
                raw = b"\x04" + raw
            try:
                point = coincurve.PublicKey(bytes(raw))
            except (ValueError, TypeError):
                raise InvalidKeyError("bytes are not a valid secp256k1 public key") from None
            key = cls(curve, point.format(compressed=False)[1:])
        else:
            key = cls(curve, bytes(raw))
            key.validate()
        return key

    def validate(self) -> None:
        """Check that the key is a valid point (ed25519: canonical, in the prime-order subgroup).

        Raises
        ------
        InvalidKeyError
            If it is not.
        """
        if self.curve is Curve.SECP256K1:
            import coincurve

            try:
                coincurve.PublicKey(self.uncompressed)
            except (ValueError, TypeError):
                raise InvalidKeyError("not a point on secp256k1") from None
        else:
            from .ed25519_ops import ops  # libsodium's check, without importing nacl.bindings

            if not ops().is_valid_point(bytes(self.data)):
                raise InvalidKeyError(
                    "not a valid ed25519 point (non-canonical, small order or off the curve)"
                )

    def _need(self, curve: Curve, what: str) -> None:
        if self.curve is not curve:
            raise InvalidKeyError(f"{what} form exists only for {curve.value} keys")


_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_PAIRS = tuple(a + b for a in _B58_ALPHABET for b in _B58_ALPHABET)
_B58_CHUNK = 58**10


def b58encode(data: bytes) -> str:
    """Bitcoin-alphabet base58 of ``data`` (what NEAR key strings and Solana addresses use).

    Written here rather than taken from the ``base58`` package (which chainsig still uses for
    decoding) because encoding keys is the hot path of ``chainsig derive``: the package divides
    the big integer once per digit, this divides by 58**10 and emits digits in pairs from a table,
    2.5× faster on 32- and 64-byte keys. A property test checks it against the package.
    """
    n = int.from_bytes(data, "big")
    pairs, parts = _B58_PAIRS, []
    while n:
        n, rem = divmod(n, _B58_CHUNK)
        rem, d0 = divmod(rem, 3364)
        rem, d1 = divmod(rem, 3364)
        rem, d2 = divmod(rem, 3364)
        d4, d3 = divmod(rem, 3364)
        parts.append(pairs[d4] + pairs[d3] + pairs[d2] + pairs[d1] + pairs[d0])
    text = "".join(reversed(parts)).lstrip("1")
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + text


def _shorten(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
