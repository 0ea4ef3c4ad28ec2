"""Robust ECDSA signing with additive re-randomization (MPC-PROTOCOLS.md §4, sign phase).

One round to the coordinator, who owns the presignature. The coordinator sends only
(request id, presignature id, signer set); each signer takes h, ε and ρ from **its own** chain
view, refuses h = 0 or h ≥ n, a presignature it does not hold, one owned by someone else, a
different signer set or a used presignature; derives δ = HKDF-SHA256(ρ‖X‖ε‖h‖R‖P) mod n, marks
the presignature consumed durably, and only then sends μ_j = λ_j(w_j + δa_j) and
ν_j = λ_j(h·a_j + r̂(u_j + ε·a_j) + e_j). The coordinator computes s = Σν/Σμ, normalises to
low-s with the recovery id, and verifies under Y = X + ε·G before anything is output.

Identifiable abort (which signer sent a bad μ_j/ν_j) is not provided: a bad share makes the
signature fail verification, nothing is output, and the caller retries with another
presignature.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from chainsig_core.errors import SignatureVerificationError
from chainsig_core.kdf import derive_public_key_from_tweak, secp256k1_tweak_scalar
from chainsig_core.signatures import EcdsaSignature, verify_signature

from .errors import MessageError, ProtocolAbort, SigningRefusedError
from .groups import SECP256K1
from .keyshare import KeyShare
from .messages import Message, decode, expect_keys, hex_field, parse_int, parse_scalar, scalar_hex
from .pools import Pool
from .presign import Presignature
from .session import session_id
from .shamir import lagrange_at_zero
from .signrequest import RequestLookup, SignRequest, look_up
from .storage import ConsumptionLog

CONSUMED_KIND = "ecdsa-presignature"
_N = SECP256K1.order


def derive_delta(
    entropy: bytes,
    public_key: bytes,
    tweak: int,
    payload: int,
    big_r: bytes,
    signers: tuple[int, ...],
) -> int:
    """δ = HKDF-SHA256(ρ ‖ X ‖ ε ‖ h ‖ R ‖ sorted P) mod n.

    Raises
    ------
    ProtocolAbort
        If δ = 0 (probability ≈ 2⁻²⁵⁶).
    """
    ikm = (
        entropy
        + public_key
        + tweak.to_bytes(32, "big")
        + payload.to_bytes(32, "big")
        + big_r
        + b"".join(p.to_bytes(4, "big") for p in sorted(signers))
    )
    okm = HKDF(
        algorithm=hashes.SHA256(), length=48, salt=None, info=b"chainsig-mpc/ecdsa-rerandomize/v1"
    ).derive(ikm)
    delta = int.from_bytes(okm, "big") % _N
    if delta == 0:
        raise ProtocolAbort("re-randomizer δ is zero")
    return delta


def sign_sid(presignature: Presignature, request_id: str) -> bytes:
    """Session id of one signing: domain, epoch, presignature, request and signer set."""
    return session_id(
        "ecdsa-sign",
        domain=presignature.domain,
        epoch=presignature.epoch,
        presignature=presignature.presignature_id,
        request=request_id,
        signers=list(presignature.signers),
    )


def payload_scalar(payload: bytes) -> int:
    """h as an integer; refuses h = 0 and h ≥ n (the robust protocol never signs them).

    Raises
    ------
    SigningRefusedError
    """
    if len(payload) != 32:
        raise SigningRefusedError("an ECDSA payload is exactly 32 bytes")
    h = int.from_bytes(payload, "big")
    if h == 0 or h >= _N:
        raise SigningRefusedError("ECDSA payload must be non-zero and below the curve order")
    return h


@dataclass(frozen=True)
class _Rerandomized:
    h: int
    tweak: int
    delta: int
    big_r_hat: bytes
    r_hat: int


def _rerandomize(key: KeyShare, presignature: Presignature, request: SignRequest) -> _Rerandomized:
    h = payload_scalar(request.payload)
    eps = secp256k1_tweak_scalar(request.tweak)
    delta = derive_delta(
        request.entropy,
        SECP256K1.encode(key.public_point),
        eps,
        h,
        presignature.big_r,
        presignature.signers,
    )
    point = SECP256K1.add(SECP256K1.decode(presignature.big_r), SECP256K1.base_mul(delta))
    if SECP256K1.is_identity(point):
        raise ProtocolAbort("re-randomized nonce is the identity")
    r_hat = SECP256K1.x_coordinate(point) % _N
    if r_hat == 0:
        raise ProtocolAbort("re-randomized r is zero")
    return _Rerandomized(h, eps, delta, SECP256K1.encode(point), r_hat)


class EcdsaSigner:
    """A signer answering coordinators' requests with its share (one message out per request).

    Parameters
    ----------
    key:
        This node's secp256k1 key share.
    presignatures:
        The node's presignature pool.
    consumed:
        Durable consumption log (fsynced before a share leaves).
    lookup:
        The node's own chain view: request id → :class:`SignRequest`.
    """

    def __init__(
        self,
        key: KeyShare,
        presignatures: Pool[Presignature],
        consumed: ConsumptionLog,
        lookup: RequestLookup,
    ) -> None:
        self.key, self.presignatures, self.consumed, self.lookup = (
            key,
            presignatures,
            consumed,
            lookup,
        )

    def handle_request(self, message: Message | bytes) -> Message:
        """Answer one signing request with this signer's share.

        Raises
        ------
        MessageError
            Malformed request or wrong session id.
        SigningRefusedError
            Any refusal rule of §4 (nothing is sent; the presignature stays unused unless it
            was already consumed).
        """
        if isinstance(message, bytes | bytearray):
            message = decode(bytes(message))
        if message.kind != "ecdsa-sign.request" or message.recipient != self.key.me:
            raise MessageError("not a signing request for this signer")
        body = message.body
        expect_keys(body, ["request_id", "presignature", "signers"])
        request_id = body["request_id"]
        if not isinstance(request_id, str) or not 0 < len(request_id) <= 128:
            raise MessageError("request_id must be a short string")
        presig_id = hex_field(body["presignature"], 32, "presignature").hex()
        signers = body["signers"]
        if not isinstance(signers, list):
            raise MessageError("signers must be a list")
        signers = tuple(parse_int(s, "signers") for s in signers)
        if self.consumed.is_consumed(CONSUMED_KIND, presig_id):
            raise SigningRefusedError("presignature was already used")
        presignature = self.presignatures.get(presig_id)
        if presignature is None:
            raise SigningRefusedError("unknown presignature")
        if presignature.owner != message.sender:
            raise SigningRefusedError("the presignature is not owned by the requesting coordinator")
        if signers != presignature.signers:
            raise SigningRefusedError("signer set differs from the presignature's")
        if presignature.key_commitment_hash != self.key.commitment_hash:
            raise SigningRefusedError("presignature belongs to another key or epoch")
        if message.sid != sign_sid(presignature, request_id):
            raise MessageError("signing request has the wrong session id")
        request = look_up(self.lookup, request_id)
        mu, nu = compute_share(self.key, presignature, request, self.consumed)
        self.presignatures.remove(presig_id)
        return Message(
            "ecdsa-sign.share",
            message.sid,
            self.key.me,
            message.sender,
            {"mu": scalar_hex(SECP256K1, mu), "nu": scalar_hex(SECP256K1, nu)},
        )


def compute_share(
    key: KeyShare, presignature: Presignature, request: SignRequest, consumed: ConsumptionLog
) -> tuple[int, int]:
    """(μ_j, ν_j), after durably marking the presignature consumed.

    Raises
    ------
    SigningRefusedError
        Payload out of range or presignature already used.
    """
    rr = _rerandomize(key, presignature, request)
    consumed.mark_consumed(CONSUMED_KIND, presignature.presignature_id)  # before any share leaves
    lam = lagrange_at_zero(presignature.me, presignature.signers, _N)
    p = presignature
    mu = lam * (p.w + rr.delta * p.a) % _N
    nu = lam * (rr.h * p.a + rr.r_hat * (p.u + rr.tweak * p.a) + p.e) % _N
    return mu, nu


@dataclass
class EcdsaCoordinator:
    """The presignature owner: collects shares and outputs only a verified signature.

    Parameters
    ----------
    key, presignatures, consumed, lookup:
        As for :class:`EcdsaSigner` (the coordinator is also a signer).
    """

    key: KeyShare
    presignatures: Pool[Presignature]
    consumed: ConsumptionLog
    lookup: RequestLookup
    _session: dict[str, object] = field(default_factory=dict)

    def start(self, request_id: str, presignature: Presignature) -> list[Message]:
        """Consume the presignature, compute the own share, and ask the other signers.

        Raises
        ------
        SigningRefusedError
        """
        if presignature.owner != self.key.me:
            raise SigningRefusedError("a coordinator signs only with presignatures it owns")
        request = look_up(self.lookup, request_id)
        rr = _rerandomize(self.key, presignature, request)
        mu, nu = compute_share(self.key, presignature, request, self.consumed)
        self.presignatures.remove(presignature.presignature_id)
        sid = sign_sid(presignature, request_id)
        self._session = {
            "sid": sid,
            "presignature": presignature,
            "request": request,
            "rr": rr,
            "shares": {self.key.me: (mu, nu)},
            "done": False,
        }
        body = {
            "request_id": request_id,
            "presignature": presignature.presignature_id,
            "signers": list(presignature.signers),
        }
        return [
            Message("ecdsa-sign.request", sid, self.key.me, j, body)
            for j in presignature.signers
            if j != self.key.me
        ]

    def receive(self, message: Message | bytes) -> EcdsaSignature | None:
        """Take one share; when all arrived, combine and verify.

        Returns
        -------
        EcdsaSignature | None
            The verified signature, or None while shares are missing.

        Raises
        ------
        MessageError
            A message that is not a share of this session or comes from a non-signer.
        ProtocolAbort
            A malformed share (its sender named), or the combined signature does not verify
            (nothing output; retry with another presignature).
        """
        if isinstance(message, bytes | bytearray):
            message = decode(bytes(message))
        s = self._session
        if not s or s["done"]:
            raise MessageError("no signing session is waiting for shares")
        presignature: Presignature = s["presignature"]  # type: ignore[assignment]
        if message.sid != s["sid"] or message.kind != "ecdsa-sign.share":
            raise MessageError("message is not a share of this signing session")
        if message.sender not in presignature.signers or message.recipient != self.key.me:
            raise MessageError(f"share from non-signer {message.sender}")
        shares: dict[int, tuple[int, int]] = s["shares"]  # type: ignore[assignment]
        if message.sender in shares:
            raise MessageError(f"duplicate share from {message.sender}")
        try:
            expect_keys(message.body, ["mu", "nu"])
            share = (
                parse_scalar(SECP256K1, message.body["mu"], "mu"),
                parse_scalar(SECP256K1, message.body["nu"], "nu"),
            )
        except MessageError:
            s["done"] = True
            raise ProtocolAbort("malformed signature share", [message.sender]) from None
        shares[message.sender] = share
        if len(shares) < len(presignature.signers):
            return None
        s["done"] = True
        return self._combine(shares)

    def _combine(self, shares: dict[int, tuple[int, int]]) -> EcdsaSignature:
        s = self._session
        rr: _Rerandomized = s["rr"]  # type: ignore[assignment]
        request: SignRequest = s["request"]  # type: ignore[assignment]
        mu = sum(m for m, _ in shares.values()) % _N
        nu = sum(v for _, v in shares.values()) % _N
        if mu == 0:
            raise ProtocolAbort("combined μ is zero; signature refused")
        sig_s = nu * pow(mu, -1, _N) % _N
        if sig_s == 0:
            raise ProtocolAbort("combined s is zero; signature refused")
        x = int.from_bytes(rr.big_r_hat[1:], "big")
        recovery_id = (rr.big_r_hat[0] == 3) + 2 * (x >= _N)
        if sig_s > _N // 2:
            sig_s = _N - sig_s
            recovery_id ^= 1
        signature = EcdsaSignature(rr.big_r_hat, sig_s, recovery_id)
        derived = derive_public_key_from_tweak(self.key.public_key, request.tweak)
        try:
            verify_signature(derived, request.payload, signature)
        except SignatureVerificationError:
            raise ProtocolAbort(
                "combined ECDSA signature does not verify under the derived key; nothing output"
            ) from None
        return signature
