"""Shamir sharing over a group order, with Feldman commitments.

Participant ``i`` (a contract id, 0, 1, …) is evaluated at ``i + 1`` — never at 0, where the
secret lives. Lagrange coefficients are taken at 0 over a given signer set.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from .errors import ProtocolAbort
from .groups import Group, Point


def eval_point(participant: int) -> int:
    """The Shamir evaluation point of a participant id: ``id + 1``."""
    if participant < 0:
        raise ValueError("participant ids are non-negative")
    return participant + 1


def check_participants(participants: Sequence[int]) -> tuple[int, ...]:
    """Validate a participant set: distinct non-negative ints (eval points distinct and ≠ 0).

    Returns
    -------
    tuple[int, ...]
        The ids, sorted.

    Raises
    ------
    ProtocolAbort
        On a duplicate or negative id (the evaluation point would repeat or be 0).
    """
    ids = list(participants)
    if any(isinstance(i, bool) or not isinstance(i, int) or i < 0 for i in ids):
        raise ProtocolAbort(
            "participant ids must be non-negative integers (evaluation point id+1 ≠ 0)"
        )
    if len(set(ids)) != len(ids):
        raise ProtocolAbort("duplicate participant id (duplicate evaluation point)")
    return tuple(sorted(ids))


def random_polynomial(order: int, degree: int, constant: int | None = None) -> list[int]:
    """Coefficients ``[a_0, …, a_degree]`` uniform mod ``order``; ``a_0 = constant`` if given."""
    coeffs = [secrets.randbelow(order) for _ in range(degree + 1)]
    if constant is not None:
        coeffs[0] = constant % order
    return coeffs


def evaluate(coeffs: Sequence[int], x: int, order: int) -> int:
    """``f(x) mod order`` by Horner's rule."""
    acc = 0
    for c in reversed(coeffs):
        acc = (acc * x + c) % order
    return acc


def share_for(coeffs: Sequence[int], participant: int, order: int) -> int:
    """``f(participant + 1)``."""
    return evaluate(coeffs, eval_point(participant), order)


def lagrange_at_zero(participant: int, signers: Sequence[int], order: int) -> int:
    """λ_i: the Lagrange coefficient of ``participant`` at 0 over ``signers`` (ids).

    Raises
    ------
    ProtocolAbort
        If ``participant`` is not in ``signers`` or the set has duplicates.
    """
    check_participants(signers)
    if participant not in signers:
        raise ProtocolAbort("participant is not in the signer set")
    xi = eval_point(participant)
    num, den = 1, 1
    for j in signers:
        if j == participant:
            continue
        xj = eval_point(j)
        num = num * xj % order
        den = den * (xj - xi) % order
    return num * pow(den, -1, order) % order


def interpolate_at_zero(shares: dict[int, int], order: int) -> int:
    """The secret ``f(0)`` from ``{participant: f(participant+1)}``."""
    ids = tuple(shares)
    return sum(lagrange_at_zero(i, ids, order) * v for i, v in shares.items()) % order


def commit(group: Group, coeffs: Sequence[int]) -> list[Point]:
    """Feldman commitments ``C[m] = a_m·G``."""
    return [group.base_mul(c) for c in coeffs]


def eval_commitment(group: Group, commitment: Sequence[Point], participant: int) -> Point:
    """``Σ_m (id+1)^m · C[m]`` — the public image of participant's share."""
    x = eval_point(participant)
    power = 1
    terms = []
    for c in commitment:
        terms.append((power, c))
        power = power * x % group.order
    return group.msm(terms)


def feldman_check(group: Group, commitment: Sequence[Point], participant: int, share: int) -> bool:
    """Whether ``share·G = Σ_m (id+1)^m · C[m]``."""
    return group.eq(group.base_mul(share), eval_commitment(group, commitment, participant))


def interpolate_points_at(group: Group, points: dict[int, Point], target: int) -> Point:
    """Interpolate ``F(target + 1)`` in the exponent from ``{id: F(id + 1)}``.

    ``target = −1`` gives F(0).
    """
    order = group.order
    xt = target + 1
    ids = list(points)
    terms = []
    for i in ids:
        xi = eval_point(i)
        num, den = 1, 1
        for j in ids:
            if j == i:
                continue
            xj = eval_point(j)
            num = num * (xt - xj) % order
            den = den * (xi - xj) % order
        terms.append((num * pow(den, -1, order) % order, points[i]))
    return group.msm(terms)


def add_commitments(group: Group, commitments: Sequence[Sequence[Point]]) -> list[Point]:
    """Coefficient-wise sum of equal-length commitment vectors."""
    return [group.sum(column) for column in zip(*commitments, strict=True)]
