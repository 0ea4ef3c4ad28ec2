"""libsodium's edwards25519 point functions, called the cheap way (the ``derive`` hot path).

Deriving one ed25519 key is two libsodium calls (``crypto_scalarmult_ed25519_base_noclamp``,
``crypto_core_ed25519_add``). PyNaCl's public wrappers (:mod:`nacl.bindings`) add argument
checks and copies around each call, and importing :mod:`nacl.bindings` loads every binding
PyNaCl has; both are a measurable share of ``chainsig derive --from-file`` (docs/performance.md).
So this module calls the same libsodium functions through PyNaCl's compiled cffi module
(``nacl._sodium``), with the checks that matter here done once, in Python.

``nacl._sodium`` is PyNaCl's implementation detail, not its API: when it is missing or lacks a
function, :func:`ops` falls back to the public wrappers, which run the same libsodium code.
Tests compare both ways on random points and scalars.

No point arithmetic is written here: all of it is libsodium's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

POINT_BYTES = 32
SCALAR_BYTES = 32


@dataclass(frozen=True)
class Ed25519Ops:
    """The point functions ``derive`` needs, bytes in, bytes out.

    ``base_noclamp(s)`` is ``s·B`` for a 32-byte little-endian scalar (not clamped), ``add(p, q)``
    is ``p + q`` and ``add_base_noclamp(p, s)`` is ``p + s·B`` (the two calls without handing
    ``s·B`` back to Python in between); each returns ``None`` where libsodium refuses (``s·B`` is
    the identity, or an operand is not a valid point). ``is_valid_point(p)`` is libsodium's full
    check: canonical, on the curve, in the prime-order subgroup, not of small order.

    The arguments must be ``bytes`` of exactly :data:`POINT_BYTES` / :data:`SCALAR_BYTES`; the
    functions check that (libsodium reads 32 bytes whatever it is given).
    """

    base_noclamp: Callable[[bytes], bytes | None]
    add: Callable[[bytes, bytes], bytes | None]
    add_base_noclamp: Callable[[bytes, bytes], bytes | None]
    is_valid_point: Callable[[bytes], bool]
    direct: bool
    """True when the calls go through PyNaCl's cffi module, False for the public wrappers."""


@lru_cache(maxsize=None)
def ops(direct: bool = True) -> Ed25519Ops:
    """The point functions, through ``nacl._sodium`` when it has them (``direct``) or else
    through the public :mod:`nacl.bindings` wrappers."""
    if direct:
        found = _direct_ops()
        if found is not None:
            return found
    return _wrapper_ops()


def _check(value: bytes, size: int) -> None:
    if type(value) is not bytes or len(value) != size:
        raise ValueError(f"expected {size} bytes")


def _direct_ops() -> Ed25519Ops | None:
    try:
        from nacl._sodium import ffi, lib

        base_fn = lib.crypto_scalarmult_ed25519_base_noclamp
        add_fn = lib.crypto_core_ed25519_add
        valid_fn = lib.crypto_core_ed25519_is_valid_point
    except (ImportError, AttributeError):  # another PyNaCl layout: use its public API
        return None
    # Results land in a fresh bytearray per call (the C call releases the GIL, so a shared
    # buffer would race between threads); from_buffer + bytes() is the cheapest way out of cffi.
    from_buffer = ffi.from_buffer

    def base_noclamp(scalar: bytes) -> bytes | None:
        if type(scalar) is not bytes or len(scalar) != SCALAR_BYTES:
            _check(scalar, SCALAR_BYTES)
        out = bytearray(POINT_BYTES)
        if base_fn(from_buffer("unsigned char[]", out), scalar) != 0:
            return None
        return bytes(out)

    def add(p: bytes, q: bytes) -> bytes | None:
        if type(p) is not bytes or type(q) is not bytes or len(p) != POINT_BYTES or len(q) != POINT_BYTES:
            _check(p, POINT_BYTES)
            _check(q, POINT_BYTES)
        out = bytearray(POINT_BYTES)
        if add_fn(from_buffer("unsigned char[]", out), p, q) != 0:
            return None
        return bytes(out)

    def add_base_noclamp(p: bytes, scalar: bytes) -> bytes | None:
        if type(p) is not bytes or type(scalar) is not bytes or len(p) != POINT_BYTES or len(scalar) != SCALAR_BYTES:
            _check(p, POINT_BYTES)
            _check(scalar, SCALAR_BYTES)
        offset, out = bytearray(POINT_BYTES), bytearray(POINT_BYTES)
        offset_c = from_buffer("unsigned char[]", offset)
        if base_fn(offset_c, scalar) != 0 or add_fn(from_buffer("unsigned char[]", out), p, offset_c) != 0:
            return None
        return bytes(out)

    def is_valid_point(p: bytes) -> bool:
        _check(p, POINT_BYTES)
        return valid_fn(p) == 1

    return Ed25519Ops(base_noclamp, add, add_base_noclamp, is_valid_point, direct=True)


def _wrapper_ops() -> Ed25519Ops:
    from nacl.bindings import (
        crypto_core_ed25519_add,
        crypto_core_ed25519_is_valid_point,
        crypto_scalarmult_ed25519_base_noclamp,
    )
    from nacl.exceptions import RuntimeError as NaclRuntimeError

    def base_noclamp(scalar: bytes) -> bytes | None:
        _check(scalar, SCALAR_BYTES)
        try:
            return crypto_scalarmult_ed25519_base_noclamp(scalar)
        except NaclRuntimeError:
            return None

    def add(p: bytes, q: bytes) -> bytes | None:
        _check(p, POINT_BYTES)
        _check(q, POINT_BYTES)
        try:
            return crypto_core_ed25519_add(p, q)
        except NaclRuntimeError:
            return None

    def add_base_noclamp(p: bytes, scalar: bytes) -> bytes | None:
        offset = base_noclamp(scalar)
        return None if offset is None else add(p, offset)

    def is_valid_point(p: bytes) -> bool:
        _check(p, POINT_BYTES)
        return bool(crypto_core_ed25519_is_valid_point(p))

    return Ed25519Ops(base_noclamp, add, add_base_noclamp, is_valid_point, direct=False)
