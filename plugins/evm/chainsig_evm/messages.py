"""Signing messages with a derived EVM key: EIP-191 ``personal_sign`` and EIP-712 typed data.

The payload is the EIP-191 digest ``keccak256(0x19 ‖ version ‖ header ‖ body)`` that
eth-account's ``encode_defunct`` / ``encode_typed_data`` describe; the result is the 65-byte
``r ‖ s ‖ v`` (v = 27 + y-parity) wallets produce, checked by recovering the signer with
eth-account before it is returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from chainsig_core.errors import InvalidInputError, SignatureVerificationError
from chainsig_core.keys import Curve
from chainsig_core.payloads import validate_payload
from chainsig_core.signatures import EcdsaSignature

from .address import address_from_public_key, keccak256

if TYPE_CHECKING:
    from eth_account.messages import SignableMessage

    from chainsig_core.signers import Signer

MessageKind = Literal["personal_sign", "eip712"]


def personal_sign_message(message: str | bytes) -> SignableMessage:
    """The EIP-191 version-0x45 message of ``message`` (text as UTF-8, or raw bytes)."""
    from eth_account.messages import encode_defunct

    if isinstance(message, str):
        return encode_defunct(text=message)
    if isinstance(message, bytes | bytearray):
        return encode_defunct(primitive=bytes(message))
    raise InvalidInputError("a message is text or bytes")


def typed_data_message(typed_data: Mapping[str, Any]) -> SignableMessage:
    """The EIP-712 message of a full typed-data document (``types``, ``primaryType``,
    ``domain``, ``message``), as ``eth_signTypedData_v4`` takes it.

    Raises
    ------
    InvalidInputError
        If the document is not valid EIP-712.
    """
    from eth_account.messages import encode_typed_data

    if not isinstance(typed_data, Mapping):
        raise InvalidInputError("EIP-712 typed data must be a JSON object")
    missing = [k for k in ("types", "primaryType", "domain", "message") if k not in typed_data]
    if missing:
        raise InvalidInputError(f"EIP-712 typed data is missing {', '.join(missing)}")
    try:
        return encode_typed_data(full_message=dict(typed_data))
    except Exception as exc:  # eth-account raises ValueError, TypeError, KeyError, ValidationError …
        text = " ".join(str(exc).split())[:200]
        raise InvalidInputError(f"invalid EIP-712 typed data: {text or type(exc).__name__}") from None


def message_digest(signable: SignableMessage) -> bytes:
    """The EIP-191 digest ``keccak256(0x19 ‖ version ‖ header ‖ body)`` — the sign payload."""
    if len(signable.version) != 1:
        raise InvalidInputError("EIP-191 versions are one byte")
    return keccak256(b"\x19" + signable.version + signable.header + signable.body)


def wallet_signature(signature: EcdsaSignature) -> bytes:
    """The 65-byte ``r ‖ s ‖ v`` with ``v = 27 + y-parity``, as ``personal_sign`` returns it."""
    if signature.recovery_id & 2:
        raise SignatureVerificationError("recovery id 2/3 (R.x ≥ n) cannot be expressed as an EVM signature")
    return signature.rs_bytes() + bytes([27 + signature.y_parity])


def recover_signer(signable: SignableMessage, signature: bytes) -> str:
    """The address that made the 65-byte ``signature`` over ``signable`` (eth-account).

    Raises
    ------
    SignatureVerificationError
    """
    from eth_account import Account

    try:
        return str(Account.recover_message(signable, signature=signature))
    except Exception as exc:
        raise SignatureVerificationError(f"cannot recover the message signer: {type(exc).__name__}") from None


@dataclass(frozen=True)
class SignedMessage:
    """A message signature that recovers to ``address``."""

    kind: MessageKind
    address: str
    digest: bytes
    signature: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "address": self.address,
            "digest": "0x" + self.digest.hex(),
            "signature": "0x" + self.signature.hex(),
            "r": "0x" + self.signature[:32].hex(),
            "s": "0x" + self.signature[32:64].hex(),
            "v": self.signature[64],
        }


def sign_message(
    signer: Signer, account: str, path: str, signable: SignableMessage, kind: MessageKind = "personal_sign",
    domain_id: int = 0,
) -> SignedMessage:
    """Sign an EIP-191/EIP-712 message with the key ``(account, path)`` controls.

    Parameters
    ----------
    signer:
        Any chainsig signer (``get_signer("dev")``, the NEAR contract signer …).
    account, path:
        The NEAR account and derivation path.
    signable:
        From :func:`personal_sign_message` or :func:`typed_data_message`.
    kind:
        For the result's ``kind``.
    domain_id:
        The signer domain of the key: 0, or a secp256k1 domain the contract added.

    Returns
    -------
    SignedMessage
        Verified: the signature recovers to the derived address.

    Raises
    ------
    SignatureVerificationError
        If the signature does not recover to the derived address (never returned).
    SigningError, RpcError, InvalidInputError
    """
    from chainsig_core.signers import SignRequest

    address = address_from_public_key(signer.derived_public_key(account, path, domain_id))
    digest = validate_payload(Curve.SECP256K1, message_digest(signable))
    result = signer.sign(SignRequest(account, path, domain_id, digest, Curve.SECP256K1))
    if not isinstance(result.signature, EcdsaSignature):
        raise SignatureVerificationError("the signer did not answer with an ECDSA signature")
    signature = wallet_signature(result.signature)
    recovered = recover_signer(signable, signature)
    if recovered != address:
        raise SignatureVerificationError(f"the signature recovers to {recovered}, not {address}: refused")
    return SignedMessage(kind, address, digest, signature)
