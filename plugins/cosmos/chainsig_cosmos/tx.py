"""Bank ``MsgSend`` transactions in SIGN_MODE_DIRECT, built with cosmpy's protobuf classes.

SIGN_MODE_DIRECT signs ``SignDoc{body_bytes, auth_info_bytes, chain_id, account_number}``
serialised as protobuf; a Cosmos secp256k1 signature is ECDSA over SHA-256 of those bytes,
encoded as 64 bytes ``r‖s`` with low s. v1.signer signs 32-byte hashes, so the payload chainsig
asks it to sign is exactly that SHA-256 digest. The broadcast form is ``TxRaw{body_bytes,
auth_info_bytes, signatures}``; its transaction hash is upper-case hex SHA-256 of those bytes.

cosmpy (and protobuf) are imported inside the functions: importing them costs ~0.2 s, which
``chainsig derive`` must not pay.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import TypedDict

from chainsig_core import ChainError, InvalidInputError

MSG_SEND_TYPE_URL = "/cosmos.bank.v1beta1.MsgSend"
SECP256K1_PUBKEY_TYPE_URL = "/cosmos.crypto.secp256k1.PubKey"
MAX_MEMO_LENGTH = 256  # the Cosmos Hub's auth parameter max_memo_characters


class UnsignedTxJSON(TypedDict):
    """The ``tx`` of a cosmos :class:`~chainsig_core.Prepared` bundle."""

    body_bytes: str  # base64
    auth_info_bytes: str  # base64
    chain_id: str
    account_number: str
    sequence: str


@dataclass(frozen=True)
class Transfer:
    """The facts of one bank transfer."""

    from_address: str
    to_address: str
    amount: int
    denom: str
    fee: int
    gas_limit: int
    memo: str = ""


@dataclass(frozen=True)
class UnsignedTx:
    """The signed-over parts of a transaction."""

    body_bytes: bytes
    auth_info_bytes: bytes
    chain_id: str
    account_number: int
    sequence: int

    def sign_doc_bytes(self) -> bytes:
        """The protobuf ``SignDoc`` (SIGN_MODE_DIRECT)."""
        from cosmpy.protos.cosmos.tx.v1beta1.tx_pb2 import SignDoc

        doc = SignDoc(
            body_bytes=self.body_bytes, auth_info_bytes=self.auth_info_bytes,
            chain_id=self.chain_id, account_number=self.account_number,
        )
        return doc.SerializeToString(deterministic=True)

    def sign_digest(self) -> bytes:
        """SHA-256 of the sign doc: the 32-byte payload the signer signs."""
        return hashlib.sha256(self.sign_doc_bytes()).digest()

    def to_json(self) -> UnsignedTxJSON:
        return {
            "body_bytes": base64.b64encode(self.body_bytes).decode(),
            "auth_info_bytes": base64.b64encode(self.auth_info_bytes).decode(),
            "chain_id": self.chain_id,
            "account_number": str(self.account_number),
            "sequence": str(self.sequence),
        }

    @classmethod
    def from_json(cls, data: object) -> UnsignedTx:
        """Read the bundle's ``tx``.

        Raises
        ------
        InvalidInputError
        """
        if not isinstance(data, dict):
            raise InvalidInputError("cosmos bundle 'tx' must be an object")
        try:
            return cls(
                base64.b64decode(data["body_bytes"], validate=True),
                base64.b64decode(data["auth_info_bytes"], validate=True),
                str(data["chain_id"]),
                _uint64(data["account_number"], "account_number"),
                _uint64(data["sequence"], "sequence"),
            )
        except KeyError as exc:
            raise InvalidInputError(f"cosmos bundle 'tx' is missing {exc.args[0]!r}") from None
        except (ValueError, TypeError):
            raise InvalidInputError("cosmos bundle 'tx' has malformed base64 bytes") from None


def _uint64(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidInputError(f"{name} must be an unsigned integer")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InvalidInputError(f"{name} must be an unsigned integer, not {value!r}") from None
    if not 0 <= number < 2**64:
        raise InvalidInputError(f"{name} must be an unsigned 64-bit integer")
    return number


def build_transfer(
    transfer: Transfer, public_key: bytes, chain_id: str, account_number: int, sequence: int
) -> UnsignedTx:
    """Build the body and auth info of a one-message ``MsgSend`` signed by ``public_key``.

    Parameters
    ----------
    transfer:
        Addresses, amount and fee in base units of ``transfer.denom``.
    public_key:
        The sender's 33-byte compressed secp256k1 key.
    chain_id, account_number, sequence:
        Replay protection: the chain, the sender's account number and its next sequence.
    """
    from cosmpy.protos.cosmos.bank.v1beta1.tx_pb2 import MsgSend
    from cosmpy.protos.cosmos.base.v1beta1.coin_pb2 import Coin
    from cosmpy.protos.cosmos.crypto.secp256k1.keys_pb2 import PubKey
    from cosmpy.protos.cosmos.tx.signing.v1beta1.signing_pb2 import SignMode
    from cosmpy.protos.cosmos.tx.v1beta1.tx_pb2 import AuthInfo, Fee, ModeInfo, SignerInfo, TxBody
    from google.protobuf.any_pb2 import Any as ProtoAny

    if len(transfer.memo) > MAX_MEMO_LENGTH:
        raise InvalidInputError(f"memo is longer than {MAX_MEMO_LENGTH} characters")
    msg = MsgSend(
        from_address=transfer.from_address, to_address=transfer.to_address,
        amount=[Coin(denom=transfer.denom, amount=str(transfer.amount))],
    )
    body = TxBody(
        messages=[ProtoAny(type_url=MSG_SEND_TYPE_URL, value=msg.SerializeToString(deterministic=True))],
        memo=transfer.memo,
    )
    signer = SignerInfo(
        public_key=ProtoAny(type_url=SECP256K1_PUBKEY_TYPE_URL, value=PubKey(key=public_key).SerializeToString()),
        mode_info=ModeInfo(single=ModeInfo.Single(mode=SignMode.SIGN_MODE_DIRECT)),
        sequence=sequence,
    )
    fee_coins = [Coin(denom=transfer.denom, amount=str(transfer.fee))] if transfer.fee else []
    auth_info = AuthInfo(signer_infos=[signer], fee=Fee(amount=fee_coins, gas_limit=transfer.gas_limit))
    return UnsignedTx(
        body.SerializeToString(deterministic=True), auth_info.SerializeToString(deterministic=True),
        chain_id, account_number, sequence,
    )


@dataclass(frozen=True)
class DecodedTx:
    """What a bundle's bytes actually say (checked by ``finalize`` against the sender)."""

    signer_public_key: bytes
    sign_mode_direct: bool
    sequence: int
    from_addresses: tuple[str, ...]


def decode(tx: UnsignedTx) -> DecodedTx:
    """Parse body and auth info back (to check a bundle before attaching a signature).

    Raises
    ------
    InvalidInputError
        If the bytes are not a single-signer transaction of bank sends.
    """
    from cosmpy.protos.cosmos.bank.v1beta1.tx_pb2 import MsgSend
    from cosmpy.protos.cosmos.crypto.secp256k1.keys_pb2 import PubKey
    from cosmpy.protos.cosmos.tx.signing.v1beta1.signing_pb2 import SignMode
    from cosmpy.protos.cosmos.tx.v1beta1.tx_pb2 import AuthInfo, TxBody
    from google.protobuf.message import DecodeError

    try:
        body = TxBody.FromString(tx.body_bytes)
        auth_info = AuthInfo.FromString(tx.auth_info_bytes)
        if len(auth_info.signer_infos) != 1:
            raise InvalidInputError("cosmos bundle must have exactly one signer")
        info = auth_info.signer_infos[0]
        if info.public_key.type_url != SECP256K1_PUBKEY_TYPE_URL:
            raise InvalidInputError("cosmos bundle signer is not a secp256k1 key")
        key = PubKey.FromString(info.public_key.value).key
        senders = []
        for message in body.messages:
            if message.type_url != MSG_SEND_TYPE_URL:
                raise InvalidInputError(f"cosmos bundle holds an unsupported message {message.type_url!r}")
            senders.append(MsgSend.FromString(message.value).from_address)
    except DecodeError:
        raise InvalidInputError("cosmos bundle bytes are not a valid transaction") from None
    direct = info.mode_info.WhichOneof("sum") == "single" and info.mode_info.single.mode == SignMode.SIGN_MODE_DIRECT
    return DecodedTx(key, direct, info.sequence, tuple(senders))


def assemble(tx: UnsignedTx, signature_rs: bytes) -> bytes:
    """The ``TxRaw`` bytes the chain accepts (``tx_bytes`` of the broadcast request)."""
    from cosmpy.protos.cosmos.tx.v1beta1.tx_pb2 import TxRaw

    if len(signature_rs) != 64:
        raise ChainError("a Cosmos secp256k1 signature is 64 bytes r‖s")
    raw = TxRaw(body_bytes=tx.body_bytes, auth_info_bytes=tx.auth_info_bytes, signatures=[signature_rs])
    return raw.SerializeToString(deterministic=True)


def tx_hash(tx_bytes: bytes) -> str:
    """The hash the chain knows a transaction by: upper-case hex SHA-256 of ``TxRaw`` bytes."""
    return hashlib.sha256(tx_bytes).hexdigest().upper()


def verify_with_cosmpy(compressed_key: bytes, digest: bytes, signature_rs: bytes) -> bool:
    """Verify ``r‖s`` over ``digest`` the way a Cosmos client library does (cosmpy, which uses
    the ``ecdsa`` package) — independent of the coincurve check in chainsig_core."""
    from cosmpy.crypto.keypairs import PublicKey

    return PublicKey(compressed_key).verify_digest(digest, signature_rs)
