"""The chainsig exception hierarchy.

Every error chainsig raises derives from :class:`ChainsigError`; each subclass also inherits the
builtin it refines (``ValueError``, ``LookupError``, ``ConnectionError`` …) so callers that
catch builtins keep working. Messages are one line, say what was wrong and never contain
secret material. The CLI prints ``str(error)`` and exits non-zero.
"""

from __future__ import annotations


class ChainsigError(Exception):
    """Base class of every error chainsig raises on purpose."""

    #: Process exit status the CLI uses for this kind of error.
    exit_code: int = 1


class InvalidInputError(ChainsigError, ValueError):
    """A value given by the user or a caller is malformed or out of range."""

    exit_code = 2


class InvalidAccountIdError(InvalidInputError):
    """A NEAR account id does not follow NEAR's account-id rules."""


class InvalidKeyError(InvalidInputError):
    """A public key, key string or secret key cannot be decoded or is not a valid point."""


class InvalidAmountError(InvalidInputError):
    """An amount is negative, has too many decimals, is a float or is not a number."""


class InvalidAddressError(InvalidInputError):
    """An address is malformed, has a bad checksum or belongs to another network."""


class TweakOutOfRangeError(InvalidInputError):
    """The secp256k1 tweak of (account, path) is ≥ the curve order n.

    NEAR's contract rejects such a derivation instead of reducing it; so do we. The chance is
    about 2**-128 per (account, path), so a caller meeting it should pick another path.
    """


class UnknownNameError(ChainsigError, LookupError):
    """A chain, chain network, NEAR network, domain or plugin name is not known."""

    exit_code = 2


class ConfigError(ChainsigError, ValueError):
    """The configuration file or an environment variable is malformed."""

    exit_code = 2


class CredentialsError(ChainsigError, LookupError):
    """No usable key for a NEAR account was found, or a credentials file is malformed."""


class PluginError(ChainsigError, RuntimeError):
    """A plugin failed to load or registered something invalid."""


class SignatureResponseError(ChainsigError, ValueError):
    """A signature response from the signer contract or a signer cannot be parsed."""


class SignatureVerificationError(ChainsigError, ValueError):
    """A signature does not verify against the key derived for its (account, path, domain).

    chainsig never returns or broadcasts such a signature.
    """


class SigningError(ChainsigError, RuntimeError):
    """A signer could not produce a signature (timeout, rejection by the contract, …)."""


class SignRequestTimedOutError(SigningError):
    """The signer contract answered "Request has timed out.": no signature was produced.

    Safe to submit again: a timed-out request can never be resumed, and the same payload signs
    the same transaction, so a retry cannot spend twice.
    """


class RootKeyMismatchError(ChainsigError, RuntimeError):
    """The contract's root public key differs from the one configured for the network.

    Every address derived with the configured key would be wrong: chainsig refuses to sign.
    """


class RpcError(ChainsigError, ConnectionError):
    """A remote node or service could not be reached, or answered with an error."""


class InsufficientFundsError(ChainsigError, ValueError):
    """The sending account cannot pay for the amount and the fees."""

    exit_code = 3


class ChainError(ChainsigError, RuntimeError):
    """A chain plugin failed to build, finalize or broadcast a transaction."""
