"""FROST signing between nodes: nonce pools, signer and coordinator (MPC-PROTOCOLS.md §5, §6).

Round one is precomputed: a signer draws a nonce pair for (domain, epoch, owner, signer set)
with fresh OS randomness (RFC 9591 nonce_generate), keeps the secret half in its pool and sends
the commitment to the owner. To sign, the owner sends the signing package (request id, signer
set, one commitment per signer); each signer looks up the message and tweak in its own chain
view, checks that its commitment is one of its unused nonces bound to this owner and set, marks
the nonce consumed durably and only then sends z_i. The coordinator checks every share (a bad
one names its signer), aggregates, and verifies the result with PyNaCl under Y before output.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from chainsig_core.errors import SignatureVerificationError
from chainsig_core.kdf import derive_public_key_from_tweak, ed25519_tweak_scalar
from chainsig_core.keys import Curve
from chainsig_core.signatures import Ed25519Signature, verify_signature

from . import frost
from .errors import MessageError, ProtocolAbort, SigningRefusedError
from .frost_nonces import FrostNonce, PeerCommitment
from .groups import ED25519
from .keyshare import KeyShare
from .messages import (
    Message,
    decode,
    expect_keys,
    hex_field,
    parse_int,
    parse_point,
    parse_scalar,
    scalar_hex,
)
from .pools import Pool, PoolKey
from .session import session_id
from .shamir import check_participants, eval_point
from .signrequest import RequestLookup, look_up
from .storage import ConsumptionLog

CONSUMED_KIND = "frost-nonce"

MAX_POOLED_PER_SIGNER = 1024
"""Most unused commitments a coordinator keeps from one signer (bounds a flooding peer)."""

__all__ = [
    "FrostCoordinator",
    "FrostNonce",
    "FrostSigner",
    "PeerCommitment",
    "package_sid",
    "parse_package",
]


def _check_signer_set(key: KeyShare, signers: tuple[int, ...]) -> None:
    check_participants(signers)
    if not set(signers) <= set(key.participants) or len(signers) < key.threshold:
        raise SigningRefusedError("signer set must be at least K participants of the key")


def _parse_signers(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise MessageError("signers must be a list")
    return tuple(parse_int(s, "signers") for s in value)


def package_sid(
    key: KeyShare, owner: int, request_id: str, signers: tuple[int, ...], nonce_ids: dict[int, str]
) -> bytes:
    """Session id of one FROST signing."""
    return session_id(
        "frost-sign",
        domain=key.domain,
        epoch=key.epoch,
        key=key.commitment_hash,
        owner=owner,
        request=request_id,
        signers=list(signers),
        nonces={str(k): v for k, v in sorted(nonce_ids.items())},
    )


@dataclass
class FrostSigner:
    """A node's FROST signer role.

    Parameters
    ----------
    key:
        This node's ed25519 key share.
    nonces:
        Pool of this node's secret nonces.
    consumed:
        Durable consumption log (fsynced before z_i leaves).
    lookup:
        Own chain view: request id → request (payload = message, tweak).
    """

    key: KeyShare
    nonces: Pool[FrostNonce]
    consumed: ConsumptionLog
    lookup: RequestLookup

    def precommit(self, owner: int, signers: tuple[int, ...]) -> Message:
        """Draw a fresh nonce pair for (owner, signers); return its commitment message to owner.

        Raises
        ------
        SigningRefusedError
            This node is not in the set, or the set is invalid.
        """
        signers = tuple(sorted(signers))
        _check_signer_set(self.key, signers)
        if self.key.me not in signers or owner not in signers:
            raise SigningRefusedError("signer and owner must be in the signer set")
        nonce = FrostNonce(
            secrets.token_hex(32),
            self.key.domain,
            self.key.epoch,
            owner,
            signers,
            self.key.me,
            frost.nonce_generate(self.key.share, secrets.token_bytes(32)),
            frost.nonce_generate(self.key.share, secrets.token_bytes(32)),
        )
        self.nonces.add(nonce)
        c = nonce.commitment
        sid = session_id(
            "frost-commit",
            domain=self.key.domain,
            epoch=self.key.epoch,
            owner=owner,
            signers=list(signers),
        )
        return Message(
            "frost.commitment",
            sid,
            self.key.me,
            owner,
            {
                "nonce": nonce.nonce_id,
                "signers": list(signers),
                "hiding": c.hiding.hex(),
                "binding": c.binding.hex(),
            },
        )

    def handle_package(self, message: Message | bytes) -> Message:
        """Answer a signing package with z_i.

        Raises
        ------
        MessageError
            Malformed package or session id.
        SigningRefusedError
            Unknown/used nonce, nonce bound to another owner or signer set, commitment
            mismatch.
        """
        if isinstance(message, bytes | bytearray):
            message = decode(bytes(message))
        if message.kind != "frost.sign" or message.recipient != self.key.me:
            raise MessageError("not a FROST signing package for this signer")
        request_id, signers, commitments, nonce_ids = parse_package(message.body)
        if message.sid != package_sid(self.key, message.sender, request_id, signers, nonce_ids):
            raise MessageError("signing package has the wrong session id")
        _check_signer_set(self.key, signers)
        nonce_id = nonce_ids.get(self.key.me)
        if nonce_id is None:
            raise SigningRefusedError("this node is not in the package's signer set")
        if self.consumed.is_consumed(CONSUMED_KIND, nonce_id):
            raise SigningRefusedError("nonce was already used")
        nonce = self.nonces.get(nonce_id)
        if nonce is None:
            raise SigningRefusedError("unknown nonce")
        if nonce.owner != message.sender:
            raise SigningRefusedError("the nonce is not bound to the requesting coordinator")
        if nonce.signers != signers:
            raise SigningRefusedError("signer set differs from the one the nonce is bound to")
        if (nonce.domain, nonce.epoch) != (self.key.domain, self.key.epoch):
            raise SigningRefusedError("nonce belongs to another domain or epoch")
        mine = next(c for c in commitments if c.identifier == eval_point(self.key.me))
        if mine != nonce.commitment:
            raise SigningRefusedError("package carries a different commitment for this signer")
        request = look_up(self.lookup, request_id)
        eps = ed25519_tweak_scalar(request.tweak)
        group_key = ED25519.encode(ED25519.add(self.key.public_point, ED25519.base_mul(eps)))
        self.consumed.mark_consumed(CONSUMED_KIND, nonce_id)  # before z_i leaves
        self.nonces.remove(nonce_id)
        z = frost.sign_share(
            eval_point(self.key.me),
            self.key.share + eps,
            nonce.hiding,
            nonce.binding,
            request.payload,
            commitments,
            group_key,
        )
        return Message(
            "frost.share", message.sid, self.key.me, message.sender, {"z": scalar_hex(ED25519, z)}
        )


def parse_package(
    body: dict[str, Any],
) -> tuple[str, tuple[int, ...], list[frost.Commitment], dict[int, str]]:
    """Validate a signing-package body.

    Raises
    ------
    MessageError
    """
    expect_keys(body, ["request_id", "signers", "commitments"])
    request_id = body["request_id"]
    if not isinstance(request_id, str) or not 0 < len(request_id) <= 128:
        raise MessageError("request_id must be a short string")
    signers = _parse_signers(body["signers"])
    if list(signers) != sorted(set(signers)):
        raise MessageError("signers must be sorted and distinct")
    raw = body["commitments"]
    if not isinstance(raw, dict) or set(raw) != {str(s) for s in signers}:
        raise MessageError("package needs exactly one commitment per signer")
    commitments, nonce_ids = [], {}
    for s in signers:
        entry = raw[str(s)]
        if not isinstance(entry, dict):
            raise MessageError("commitment entry must be an object")
        expect_keys(entry, ["nonce", "hiding", "binding"])
        nonce_ids[s] = hex_field(entry["nonce"], 32, "nonce").hex()
        hiding = ED25519.encode(parse_point(ED25519, entry["hiding"], "hiding"))
        binding = ED25519.encode(parse_point(ED25519, entry["binding"], "binding"))
        commitments.append(frost.Commitment(eval_point(s), hiding, binding))
    return request_id, signers, commitments, nonce_ids


@dataclass
class FrostCoordinator:
    """The owner of a signing: pools peers' commitments, sends packages, aggregates.

    Parameters
    ----------
    signer:
        This node's own :class:`FrostSigner` (the coordinator signs too).
    commitments:
        Pool of commitments received from peers (and its own).
    """

    signer: FrostSigner
    commitments: Pool[PeerCommitment]
    _session: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> KeyShare:
        """The coordinator's key share."""
        return self.signer.key

    def add_commitment(self, message: Message | bytes) -> None:
        """Pool a signer's commitment message.

        Raises
        ------
        MessageError
        """
        if isinstance(message, bytes | bytearray):
            message = decode(bytes(message))
        if message.kind != "frost.commitment" or message.recipient != self.key.me:
            raise MessageError("not a FROST commitment for this coordinator")
        body = message.body
        expect_keys(body, ["nonce", "signers", "hiding", "binding"])
        signers = _parse_signers(body["signers"])
        if message.sender not in signers or message.sender not in self.key.participants:
            raise MessageError(f"commitment from non-participant {message.sender}")
        expected_sid = session_id(
            "frost-commit",
            domain=self.key.domain,
            epoch=self.key.epoch,
            owner=self.key.me,
            signers=list(signers),
        )
        if message.sid != expected_sid:
            raise MessageError("commitment has the wrong session id")
        if list(signers) != sorted(set(signers)) or self.key.me not in signers:
            raise MessageError("commitment names an invalid signer set for this coordinator")
        try:
            _check_signer_set(self.key, signers)
        except (SigningRefusedError, ProtocolAbort):
            raise MessageError("commitment names an invalid signer set") from None
        pooled = sum(1 for c in self.commitments if c.signer == message.sender)
        if pooled >= MAX_POOLED_PER_SIGNER:
            raise MessageError(f"signer {message.sender} already has {pooled} pooled commitments")
        entry = PeerCommitment(
            hex_field(body["nonce"], 32, "nonce").hex(),
            self.key.domain,
            self.key.epoch,
            self.key.me,
            signers,
            message.sender,
            ED25519.encode(parse_point(ED25519, body["hiding"], "hiding")),
            ED25519.encode(parse_point(ED25519, body["binding"], "binding")),
        )
        if self.commitments.get(entry.item_id) is not None:
            raise MessageError("duplicate commitment")
        self.commitments.add(entry)

    def start(self, request_id: str, signers: tuple[int, ...]) -> list[Message]:
        """Take one pooled commitment per signer and send the packages (own share included).

        Raises
        ------
        SigningRefusedError
            No complete set of commitments is pooled for this signer set.
        """
        signers = tuple(sorted(signers))
        key = PoolKey(self.key.domain, self.key.epoch, self.key.me, signers)
        chosen = {}
        for s in signers:
            entry = next((c for c in self.commitments if c.pool_key == key and c.signer == s), None)
            if entry is None:
                raise SigningRefusedError(f"no pooled commitment of signer {s} for this set")
            chosen[s] = entry
        for entry in chosen.values():
            self.commitments.remove(entry.item_id)
        nonce_ids = {s: c.nonce_id for s, c in chosen.items()}
        body = {
            "request_id": request_id,
            "signers": list(signers),
            "commitments": {
                str(s): {"nonce": c.nonce_id, "hiding": c.hiding.hex(), "binding": c.binding.hex()}
                for s, c in chosen.items()
            },
        }
        sid = package_sid(self.key, self.key.me, request_id, signers, nonce_ids)
        packages = [Message("frost.sign", sid, self.key.me, s, body) for s in signers]
        _, _, commitments, _ = parse_package(body)
        request = look_up(self.signer.lookup, request_id)
        self._session = {
            "sid": sid,
            "signers": signers,
            "commitments": commitments,
            "request": request,
            "shares": {},
            "done": False,
        }
        own = next(p for p in packages if p.recipient == self.key.me)
        self._accept(self.signer.handle_package(own))
        return [p for p in packages if p.recipient != self.key.me]

    def receive(self, message: Message | bytes) -> Ed25519Signature | None:
        """Take one z_i; when all arrived, check each, aggregate and verify.

        Raises
        ------
        MessageError
            Not a share of this session, or from a non-signer.
        ProtocolAbort
            Invalid shares (their signers named) or an aggregate that does not verify.
        """
        if isinstance(message, bytes | bytearray):
            message = decode(bytes(message))
        return self._accept(message)

    def _accept(self, message: Message) -> Ed25519Signature | None:
        s = self._session
        if not s or s["done"]:
            raise MessageError("no FROST signing session is waiting for shares")
        if message.kind != "frost.share" or message.sid != s["sid"]:
            raise MessageError("message is not a share of this FROST session")
        if message.sender not in s["signers"] or message.recipient != self.key.me:
            raise MessageError(f"share from non-signer {message.sender}")
        if message.sender in s["shares"]:
            raise MessageError(f"duplicate share from {message.sender}")
        try:
            expect_keys(message.body, ["z"])
            s["shares"][message.sender] = parse_scalar(ED25519, message.body["z"], "z")
        except MessageError:
            s["shares"][message.sender] = None
        if len(s["shares"]) < len(s["signers"]):
            return None
        s["done"] = True
        return self._aggregate()

    def _aggregate(self) -> Ed25519Signature:
        s = self._session
        request, commitments = s["request"], s["commitments"]
        eps = ed25519_tweak_scalar(request.tweak)
        offset = ED25519.base_mul(eps)
        group_key = ED25519.encode(ED25519.add(self.key.public_point, offset))
        ctx = frost.signing_context(group_key, commitments, request.payload)
        culprits = [
            j
            for j, z in sorted(s["shares"].items())
            if z is None
            or not frost.verify_share(
                eval_point(j),
                z,
                ED25519.add(self.key.public_share(j), offset),
                request.payload,
                commitments,
                group_key,
                ctx,
            )
        ]
        if culprits:
            raise ProtocolAbort("FROST signature share failed verification", culprits)
        signature = Ed25519Signature(
            frost.aggregate(
                commitments, list(s["shares"].values()), request.payload, group_key, ctx
            )
        )
        derived = derive_public_key_from_tweak(self.key.public_key, request.tweak)
        if derived.curve is not Curve.ED25519 or derived.data != group_key:
            raise ProtocolAbort("tweaked group key differs from chainsig_core's derived key")
        try:
            verify_signature(derived, request.payload, signature)
        except SignatureVerificationError:
            raise ProtocolAbort(
                "aggregate Ed25519 signature does not verify; nothing output"
            ) from None
        return signature
