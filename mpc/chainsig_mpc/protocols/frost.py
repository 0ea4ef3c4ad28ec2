"""FROST(Ed25519, SHA-512) of RFC 9591, with chainsig's additive tweak (MPC-PROTOCOLS.md §5).

Pure functions, bytes in / bytes out, named as in the RFC. Identifiers are the Shamir evaluation
points (participant id + 1). The tweak is applied first: x'_i = x_i + ε, Y = X + ε·B,
Y_i = X_i + ε·B, and the RFC runs with Y as the group key (binding factors and the challenge
both use Y). With ε = 0 this is exactly RFC 9591 (known-answer test against its vector).
The aggregate is a plain RFC 8032 signature under Y.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from .groups import ED25519, Point
from .shamir import lagrange_at_zero

CONTEXT = b"FROST-ED25519-SHA512-v1"
L = ED25519.order


def _h(*parts: bytes) -> bytes:
    return hashlib.sha512(b"".join(parts)).digest()


def _to_scalar(digest: bytes) -> int:
    return int.from_bytes(digest, "little") % L


def h1(m: bytes) -> int:
    """RFC 9591 H1 (binding factor)."""
    return _to_scalar(_h(CONTEXT, b"rho", m))


def h2(m: bytes) -> int:
    """RFC 9591 H2 (challenge; no prefix, for RFC 8032 compatibility)."""
    return _to_scalar(_h(m))


def h3(m: bytes) -> int:
    """RFC 9591 H3 (nonce generation)."""
    return _to_scalar(_h(CONTEXT, b"nonce", m))


def h4(m: bytes) -> bytes:
    """RFC 9591 H4 (message hash)."""
    return _h(CONTEXT, b"msg", m)


def h5(m: bytes) -> bytes:
    """RFC 9591 H5 (commitment-list hash)."""
    return _h(CONTEXT, b"com", m)


def scalar_bytes(k: int) -> bytes:
    """SerializeScalar: 32 bytes little-endian."""
    return (k % L).to_bytes(32, "little")


def nonce_generate(secret: int, randomness: bytes) -> int:
    """nonce_generate(secret) with the 32 random bytes given explicitly."""
    if len(randomness) != 32:
        raise ValueError("nonce randomness is 32 bytes")
    return h3(randomness + scalar_bytes(secret))


@dataclass(frozen=True)
class Commitment:
    """A signer's round-one commitment: identifier (id + 1) and the two nonce points."""

    identifier: int
    hiding: bytes
    binding: bytes


def encode_group_commitment_list(commitments: Sequence[Commitment]) -> bytes:
    """encode_group_commitment_list (sorted by identifier)."""
    return b"".join(
        scalar_bytes(c.identifier) + c.hiding + c.binding
        for c in sorted(commitments, key=lambda c: c.identifier)
    )


def binding_factor_input(
    group_key: bytes, commitments: Sequence[Commitment], message: bytes, identifier: int
) -> bytes:
    """The RFC's rho_input for one identifier."""
    prefix = group_key + h4(message) + h5(encode_group_commitment_list(commitments))
    return prefix + scalar_bytes(identifier)


def compute_binding_factors(
    group_key: bytes, commitments: Sequence[Commitment], message: bytes
) -> dict[int, int]:
    """``{identifier: binding factor}``."""
    return {
        c.identifier: h1(binding_factor_input(group_key, commitments, message, c.identifier))
        for c in commitments
    }


def compute_group_commitment(commitments: Sequence[Commitment], factors: dict[int, int]) -> Point:
    """R = Σ D_i + ρ_i·E_i."""
    g = ED25519
    return g.sum(
        g.add(g.decode(c.hiding), g.mul(g.decode(c.binding), factors[c.identifier]))
        for c in commitments
    )


def compute_challenge(group_commitment: bytes, group_key: bytes, message: bytes) -> int:
    """c = H2(R ‖ Y ‖ msg)."""
    return h2(group_commitment + group_key + message)


def _lagrange(identifier: int, commitments: Sequence[Commitment]) -> int:
    ids = [c.identifier - 1 for c in commitments]
    return lagrange_at_zero(identifier - 1, ids, L)


@dataclass(frozen=True)
class SigningContext:
    """Binding factors, group commitment R and challenge c of one signing (computed once)."""

    factors: dict[int, int]
    group_commitment: bytes
    challenge: int


def signing_context(
    group_key: bytes, commitments: Sequence[Commitment], message: bytes
) -> SigningContext:
    """Compute ρ_i for every signer, R and c = H2(R ‖ Y ‖ msg)."""
    factors = compute_binding_factors(group_key, commitments, message)
    big_r = ED25519.encode(compute_group_commitment(commitments, factors))
    return SigningContext(factors, big_r, compute_challenge(big_r, group_key, message))


def sign_share(
    identifier: int,
    secret_share: int,
    hiding_nonce: int,
    binding_nonce: int,
    message: bytes,
    commitments: Sequence[Commitment],
    group_key: bytes,
) -> int:
    """z_i = d_i + e_i·ρ_i + λ_i·x_i·c (``secret_share`` already tweaked: x_i + ε)."""
    ctx = signing_context(group_key, commitments, message)
    lam = _lagrange(identifier, commitments)
    return (
        hiding_nonce + binding_nonce * ctx.factors[identifier] + lam * secret_share * ctx.challenge
    ) % L


def verify_share(
    identifier: int,
    z: int,
    public_share: Point,
    message: bytes,
    commitments: Sequence[Commitment],
    group_key: bytes,
    context: SigningContext | None = None,
) -> bool:
    """RFC 9591 §5.4: z_i·B = D_i + ρ_i·E_i + c·λ_i·Y_i (``public_share`` already tweaked).

    ``context`` (from :func:`signing_context`) avoids recomputing R for every share.
    """
    g = ED25519
    ctx = context or signing_context(group_key, commitments, message)
    mine = next(x for x in commitments if x.identifier == identifier)
    comm_share = g.add(
        g.decode(mine.hiding), g.mul(g.decode(mine.binding), ctx.factors[identifier])
    )
    expected = g.add(
        comm_share, g.mul(public_share, ctx.challenge * _lagrange(identifier, commitments))
    )
    return g.eq(g.base_mul(z), expected)


def aggregate(
    commitments: Sequence[Commitment],
    shares: Sequence[int],
    message: bytes,
    group_key: bytes,
    context: SigningContext | None = None,
) -> bytes:
    """The 64-byte signature R ‖ SerializeScalar(Σ z_i)."""
    ctx = context or signing_context(group_key, commitments, message)
    return ctx.group_commitment + scalar_bytes(sum(shares))
