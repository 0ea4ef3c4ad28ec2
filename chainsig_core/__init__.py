"""chainsig — one NEAR account owns and controls accounts on other blockchains.

The public API for applications and chain plugins::

    from chainsig_core import hookimpl, Chain, derive_address, send
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .amounts import format_base_units, to_base_units
from .chain import Chain, ChainOption
from .derive import DerivedAddress, derive_address
from .errors import (
    ChainError,
    ChainsigError,
    ConfigError,
    CredentialsError,
    InsufficientFundsError,
    InvalidAccountIdError,
    InvalidAddressError,
    InvalidAmountError,
    InvalidInputError,
    InvalidKeyError,
    PluginError,
    RpcError,
    SignatureResponseError,
    SignatureVerificationError,
    SigningError,
    TweakOutOfRangeError,
    UnknownNameError,
)
from .hookspecs import hookimpl
from .kdf import derive_public_key, tweak
from .keys import Curve, PublicKey
from .signatures import (
    EcdsaSignature,
    Ed25519Signature,
    Signature,
    parse_signature_response,
    verify_signature,
)
from .types import (
    Balance,
    CallRequest,
    ChainEndpoint,
    DerivedAccount,
    Payload,
    Prepared,
    Receipt,
    SignedTx,
    TransferRequest,
)

__version__ = "0.1.0"

if TYPE_CHECKING:  # type checkers and IDEs see the real names and signatures
    from .flow import (
        SendResult,
        chain_endpoint,
        finalize_bundle,
        prepare,
        send,
        send_async,
        sign,
        sign_async,
        sign_prepared,
    )
    from .signers import DevSigner, Signer, SignFailure, SignRequest, SignResult, get_signer

# flow and signers bring in asyncio and the signer machinery, which the CLI's start-up (derive,
# --help) does not need: their names load on first use (PEP 562), as the same objects.
_LAZY = {
    **dict.fromkeys(
        ("SendResult", "chain_endpoint", "finalize_bundle", "prepare", "send", "send_async", "sign",
         "sign_async", "sign_prepared"),
        "flow",
    ),
    **dict.fromkeys(("DevSigner", "Signer", "SignFailure", "SignRequest", "SignResult", "get_signer"), "signers"),
}


def __getattr__(name: str) -> object:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module_name}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})

__all__ = [
    "Balance", "CallRequest", "Chain", "ChainEndpoint", "ChainError", "ChainOption",
    "ChainsigError", "ConfigError", "CredentialsError", "Curve", "DerivedAccount",
    "DerivedAddress", "DevSigner", "EcdsaSignature", "Ed25519Signature",
    "InsufficientFundsError", "InvalidAccountIdError", "InvalidAddressError",
    "InvalidAmountError", "InvalidInputError", "InvalidKeyError", "Payload", "PluginError",
    "Prepared", "PublicKey", "Receipt", "RpcError", "SendResult", "SignFailure", "SignRequest",
    "SignResult", "Signature", "SignatureResponseError", "SignatureVerificationError",
    "SignedTx", "Signer", "SigningError", "TransferRequest", "TweakOutOfRangeError",
    "UnknownNameError", "chain_endpoint", "derive_address", "derive_public_key",
    "finalize_bundle", "format_base_units", "get_signer", "hookimpl", "parse_signature_response",
    "prepare", "send", "send_async", "sign", "sign_async", "sign_prepared", "to_base_units", "tweak", "verify_signature", "__version__",
]
