"""Prime-order groups: secp256k1 (libsecp256k1 via coincurve) and ed25519 (libsodium via PyNaCl).

Points are opaque values owned by their group (a ``coincurve.PublicKey`` or ``None`` for the
identity on secp256k1; the 32-byte encoding on ed25519); scalars are Python ints mod the order.
All point arithmetic is done by the C libraries; only the identity, which neither library can
return as a point, is handled here. :meth:`Group.decode` is the single validation gate for
points received from other parties: on the curve, not the identity and, for ed25519, canonical
and in the prime-order subgroup (libsodium's ``is_valid_point`` checks exactly that).
"""

from __future__ import annotations

import secrets
from abc import ABC, abstractmethod
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from chainsig_core.keys import ED25519_L, SECP256K1_N, Curve

from .errors import InvalidPointError

Point = Any
"""A group element; its concrete type belongs to the group that made it."""


class Group(ABC):
    """A prime-order group with generator ``G`` (secp256k1) or ``B`` (ed25519)."""

    curve: Curve
    order: int
    point_size: int
    scalar_byteorder: str

    @abstractmethod
    def base_mul(self, k: int) -> Point:
        """``k·G``."""

    @abstractmethod
    def mul(self, point: Point, k: int) -> Point:
        """``k·P``."""

    @abstractmethod
    def add(self, a: Point, b: Point) -> Point:
        """``A + B``."""

    @abstractmethod
    def neg(self, a: Point) -> Point:
        """``−A``."""

    @abstractmethod
    def identity(self) -> Point:
        """The neutral element."""

    @abstractmethod
    def is_identity(self, a: Point) -> bool:
        """Whether ``a`` is the neutral element."""

    @abstractmethod
    def encode(self, a: Point) -> bytes:
        """Canonical bytes of a non-identity point (33-byte compressed / 32-byte ed25519)."""

    @abstractmethod
    def decode(self, data: bytes) -> Point:
        """Parse and validate a point received from a peer.

        Raises
        ------
        InvalidPointError
            Wrong length, not on the curve, the identity, non-canonical or (ed25519) not in
            the prime-order subgroup.
        """

    def sub(self, a: Point, b: Point) -> Point:
        """``A − B``."""
        return self.add(a, self.neg(b))

    def sum(self, points: Iterable[Point]) -> Point:
        """``Σ points`` (the identity for an empty sequence)."""
        total = self.identity()
        for p in points:
            total = self.add(total, p)
        return total

    def msm(self, pairs: Iterable[tuple[int, Point]]) -> Point:
        """``Σ k_i·P_i``."""
        return self.sum(self.mul(p, k) for k, p in pairs)

    def eq(self, a: Point, b: Point) -> bool:
        """Point equality."""
        if self.is_identity(a) or self.is_identity(b):
            return self.is_identity(a) and self.is_identity(b)
        return self.encode(a) == self.encode(b)

    def random_scalar(self) -> int:
        """A uniform non-zero scalar from the OS CSPRNG."""
        while True:
            k = secrets.randbelow(self.order)
            if k:
                return k

    def scalar_bytes(self, k: int) -> bytes:
        """32-byte encoding of ``k mod order`` (big-endian secp256k1, little-endian ed25519)."""
        return (k % self.order).to_bytes(32, self.scalar_byteorder)  # type: ignore[arg-type]

    def scalar_from_bytes(self, data: bytes) -> int:
        """Decode a canonical 32-byte scalar (< order).

        Raises
        ------
        InvalidPointError
            If the length is wrong or the value is not reduced.
        """
        if len(data) != 32:
            raise InvalidPointError("a scalar is 32 bytes")
        k = int.from_bytes(data, self.scalar_byteorder)  # type: ignore[arg-type]
        if k >= self.order:
            raise InvalidPointError("scalar is not reduced modulo the group order")
        return k


class Secp256k1Group(Group):
    """secp256k1 through coincurve (libsecp256k1)."""

    curve = Curve.SECP256K1
    order = SECP256K1_N
    point_size = 33
    scalar_byteorder = "big"

    def base_mul(self, k: int) -> Point:
        import coincurve

        k %= self.order
        return coincurve.PublicKey.from_valid_secret(k.to_bytes(32, "big")) if k else None

    def mul(self, point: Point, k: int) -> Point:
        k %= self.order
        if point is None or k == 0:
            return None
        return point.multiply(k.to_bytes(32, "big"))

    def add(self, a: Point, b: Point) -> Point:
        import coincurve

        if a is None:
            return b
        if b is None:
            return a
        try:
            return coincurve.PublicKey.combine_keys([a, b])
        except ValueError:  # a + b is the point at infinity
            return None

    def sum(self, points: Iterable[Point]) -> Point:
        import coincurve

        present = [p for p in points if p is not None]
        if not present:
            return None
        if len(present) == 1:
            return present[0]
        try:
            return coincurve.PublicKey.combine_keys(present)
        except ValueError:
            return None

    def neg(self, a: Point) -> Point:
        if a is None:
            return None
        return self.mul(a, self.order - 1)

    def identity(self) -> Point:
        return None

    def is_identity(self, a: Point) -> bool:
        return a is None

    def encode(self, a: Point) -> bytes:
        if a is None:
            raise InvalidPointError("the identity has no encoding")
        return a.format(compressed=True)

    def decode(self, data: bytes) -> Point:
        return _secp_decode(bytes(data))

    def x_coordinate(self, a: Point) -> int:
        """The affine x of a non-identity point."""
        return int.from_bytes(self.encode(a)[1:], "big")

    def y_is_odd(self, a: Point) -> bool:
        """Parity of the affine y of a non-identity point."""
        return self.encode(a)[0] == 3


@lru_cache(maxsize=4096)
def _secp_decode(data: bytes) -> Point:
    import coincurve

    if len(data) != 33 or data[0] not in (2, 3):
        raise InvalidPointError("a secp256k1 point is 33 bytes, compressed (02/03 prefix)")
    try:
        return coincurve.PublicKey(data)
    except (ValueError, TypeError):
        raise InvalidPointError("bytes are not a point on secp256k1") from None


_ED_IDENTITY = b"\x01" + bytes(31)


class Ed25519Group(Group):
    """ed25519 (prime-order subgroup) through libsodium (PyNaCl bindings)."""

    curve = Curve.ED25519
    order = ED25519_L
    point_size = 32
    scalar_byteorder = "little"

    def base_mul(self, k: int) -> Point:
        from nacl.bindings import crypto_scalarmult_ed25519_base_noclamp

        k %= self.order
        if k == 0:
            return _ED_IDENTITY
        return crypto_scalarmult_ed25519_base_noclamp(k.to_bytes(32, "little"))

    def mul(self, point: Point, k: int) -> Point:
        from nacl.bindings import crypto_scalarmult_ed25519_noclamp

        k %= self.order
        if k == 0 or point == _ED_IDENTITY:
            return _ED_IDENTITY
        return crypto_scalarmult_ed25519_noclamp(k.to_bytes(32, "little"), point)

    def add(self, a: Point, b: Point) -> Point:
        from nacl.bindings import crypto_core_ed25519_add

        return crypto_core_ed25519_add(a, b)

    def sub(self, a: Point, b: Point) -> Point:
        from nacl.bindings import crypto_core_ed25519_sub

        return crypto_core_ed25519_sub(a, b)

    def neg(self, a: Point) -> Point:
        return self.sub(_ED_IDENTITY, a)

    def identity(self) -> Point:
        return _ED_IDENTITY

    def is_identity(self, a: Point) -> bool:
        return a == _ED_IDENTITY

    def eq(self, a: Point, b: Point) -> bool:
        return bytes(a) == bytes(b)

    def encode(self, a: Point) -> bytes:
        if a == _ED_IDENTITY:
            raise InvalidPointError("the identity has no encoding")
        return bytes(a)

    def decode(self, data: bytes) -> Point:
        return _ed_decode(bytes(data))


@lru_cache(maxsize=4096)
def _ed_decode(data: bytes) -> Point:
    from nacl.bindings import crypto_core_ed25519_is_valid_point

    if len(data) != 32:
        raise InvalidPointError("an ed25519 point is 32 bytes")
    # libsodium: canonical, on the curve, not of small order, in the prime-order subgroup.
    if not crypto_core_ed25519_is_valid_point(data):
        raise InvalidPointError(
            "bytes are not a canonical ed25519 point of the prime-order subgroup"
        )
    return data


SECP256K1 = Secp256k1Group()
ED25519 = Ed25519Group()


def group_for(curve: Curve | str) -> Group:
    """The group of a curve (``"secp256k1"`` or ``"ed25519"``)."""
    return SECP256K1 if Curve(curve) is Curve.SECP256K1 else ED25519
