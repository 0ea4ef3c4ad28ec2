"""Errors of the MPC protocols (all :class:`chainsig_core.errors.ChainsigError` subclasses).

Messages are one line and never contain secret material (shares, nonces, polynomials).
"""

from __future__ import annotations

from collections.abc import Iterable

from chainsig_core.errors import ChainsigError, InvalidInputError, SigningError


class MessageError(InvalidInputError):
    """A protocol message is malformed, oversized, truncated, for another session, or from a
    party that is not a participant. The message is dropped; the session state is unchanged."""


class InvalidPointError(MessageError):
    """A received group element or scalar is not valid (off-curve, identity, non-canonical,
    small-order, unreduced)."""


class ProtocolAbort(ChainsigError, RuntimeError):
    """A protocol run stopped safely: nothing was output.

    Attributes
    ----------
    culprits:
        Participant ids the checks identified as misbehaving (empty when the checks cannot
        locate the fault).
    """

    def __init__(self, reason: str, culprits: Iterable[int] = ()) -> None:
        self.culprits: tuple[int, ...] = tuple(sorted(set(culprits)))
        self.reason = reason
        named = f" (culprits: {', '.join(map(str, self.culprits))})" if self.culprits else ""
        super().__init__(f"{reason}{named}")


class ProtocolTimeout(ProtocolAbort):
    """A run did not finish in time; ``culprits`` are the participants never heard from —
    silent, which a crashed, restarting or overloaded honest node also is, so they are not
    proof of misbehaviour."""


class SigningRefusedError(SigningError):
    """A signer refused a request: payload out of range, presignature or nonce unknown,
    already used, owned by someone else, or bound to another signer set."""


class StateError(InvalidInputError):
    """Serialized protocol state cannot be restored (malformed or of another version)."""
