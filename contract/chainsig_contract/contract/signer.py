"""The signer contract: state, call dispatch, sign / respond / yield callback, views."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from chainsig_core import kdf
from chainsig_core.errors import (
    InvalidKeyError,
    SignatureResponseError,
    SignatureVerificationError,
    TweakOutOfRangeError,
)
from chainsig_core.jsonlimits import JsonBodyError, loads_bounded
from chainsig_core.keys import Curve, PublicKey
from chainsig_core.signatures import (
    EcdsaSignature,
    Ed25519Signature,
    parse_signature_response,
    verify_signature,
)

from . import errors as E
from . import governance
from .env import CallEnv, CallResult, ContractPanic, ViewEnv
from .requests import (
    MAX_PENDING_REQUEST_FAN_OUT,
    check_payload,
    parse_sign_args,
    parse_signature_request,
    request_key,
    signature_request,
    tweak_for,
)
from .rules import as_uint, curve_of_domain, deserialize_error, key_of_extended, participant_id

CONTRACT_VERSION = "3.14.0"
"""The ``version`` view: the v1.signer release whose interface this contract mirrors."""

SIGN_DEPOSIT_YOCTONEAR = 1
TGAS = 10**12

DEFAULT_CONFIG: dict[str, int] = {
    "attestation_storage_fee_millinear": 0,
    "ckd_call_gas_attachment_requirement_tera_gas": 15,
    "clean_foreign_chain_data_tera_gas": 10,
    "clean_invalid_attestations_tera_gas": 10,
    "clean_tee_status_tera_gas": 10,
    "cleanup_orphaned_node_migrations_tera_gas": 3,
    "contract_upgrade_deposit_tera_gas": 50,
    "fail_attestation_submission_tera_gas": 3,
    "fail_on_timeout_tera_gas": 2,
    "key_event_timeout_blocks": 30,
    "launcher_hash_unused_ttl_seconds": 604800,
    "remove_non_participant_tee_verifier_votes_tera_gas": 5,
    "remove_non_participant_update_votes_tera_gas": 5,
    "resolve_verification_tera_gas": 5,
    "return_ck_and_clean_state_on_success_call_tera_gas": 7,
    "return_signature_and_clean_state_on_success_call_tera_gas": 7,
    "sign_call_gas_attachment_requirement_tera_gas": 15,
    "tee_upgrade_deadline_duration_seconds": 604800,
    "verifier_tera_gas": 10,
}

CALLBACK_METHOD = "return_signature_and_clean_state_on_success"


def parse_init_config(value: Any) -> dict[str, int]:
    """``InitConfig`` (every field optional) merged over :data:`DEFAULT_CONFIG`."""
    config = dict(DEFAULT_CONFIG)
    if value is None:
        return config
    if not isinstance(value, dict):
        raise deserialize_error("init_config must be an object or null")
    for key, item in value.items():
        if key not in config:
            raise deserialize_error(f"unknown init_config field {key[:60]!r}")
        if item is not None:
            config[key] = as_uint(item, key)
    return config


class SignerContract:
    """v1.signer's behaviour over a JSON state (``state`` is what the host persists).

    Parameters
    ----------
    state:
        A previous :attr:`state` (``None`` = not initialized).
    """

    CALLS = ("init", "init_running", "sign", "respond", CALLBACK_METHOD, "fail_on_timeout",
             "vote_add_domains", "start_keygen_instance", "vote_pk", "vote_cancel_keygen",
             "vote_abort_key_event_instance", "vote_new_parameters", "start_reshare_instance",
             "vote_reshared", "vote_cancel_resharing")
    PAYABLE = ("sign",)
    VIEWS = ("public_key", "derived_public_key", "latest_key_version", "state", "config",
             "version", "get_pending_request")

    def __init__(self, state: dict[str, Any] | None = None) -> None:
        self.state: dict[str, Any] | None = state

    # -- dispatch ---------------------------------------------------------------------------

    def call(self, method: str, args: bytes, env: CallEnv) -> CallResult:
        """Run a method in a transaction. On :class:`ContractPanic` the state is unchanged.

        View methods may be called too (as on NEAR); they return their value.
        """
        if method not in self.CALLS and method not in self.VIEWS:
            raise ContractPanic(E.METHOD_NOT_FOUND)
        if env.attached_deposit and method not in self.PAYABLE:
            raise ContractPanic(E.NOT_PAYABLE.format(method=method))
        parsed = _parse_args(args)
        snapshot = _snapshot(self.state)
        result = CallResult()
        try:
            if method in self.VIEWS:
                result.value = getattr(self, "_view_" + method)(
                    parsed, ViewEnv(env.current_account_id, env.block_height))
                return result
            handler: Callable[..., Any] = getattr(self, "_call_" + method)
            result.value = handler(parsed, env, result)
        except ContractPanic as panic:
            self.state = snapshot
            panic.logs = list(result.logs)
            raise
        return result

    def view(self, method: str, args: bytes, env: ViewEnv) -> Any:
        """Run a view method and return its JSON value."""
        if method in self.CALLS and method not in self.VIEWS:
            raise ContractPanic(f"HostError(ProhibitedInView {{ method_name: \"{method}\" }})")
        if method not in self.VIEWS:
            raise ContractPanic(E.METHOD_NOT_FOUND)
        return getattr(self, "_view_" + method)(_parse_args(args), env)

    # -- state helpers ----------------------------------------------------------------------

    @property
    def protocol(self) -> Any:
        if self.state is None:
            raise ContractPanic(E.NOT_INITIALIZED)
        return self.state["protocol"]

    @property
    def config(self) -> dict[str, int]:
        if self.state is None:
            raise ContractPanic(E.NOT_INITIALIZED)
        return self.state["config"]

    def running_view(self) -> dict[str, Any]:
        """The Running state, or the previous Running state while Resharing."""
        protocol = self.protocol
        if isinstance(protocol, dict) and "Running" in protocol:
            return protocol["Running"]
        if isinstance(protocol, dict) and "Resharing" in protocol:
            return protocol["Resharing"]["previous_running_state"]
        raise ContractPanic(E.NOT_RUNNING)

    def domain(self, domain_id: int) -> dict[str, Any]:
        for domain in self.running_view()["domains"]["domains"]:
            if domain["id"] == domain_id:
                return domain
        raise ContractPanic(E.domain_not_found(domain_id))

    def root_key(self, domain_id: int) -> PublicKey:
        for entry in self.running_view()["keyset"]["domains"]:
            if entry["domain_id"] == domain_id:
                return key_of_extended(entry["key"])
        raise ContractPanic(E.RESPOND_DOMAIN_NOT_FOUND)

    def pending(self) -> dict[str, list[str]]:
        return self.state.setdefault("pending", {})  # type: ignore[union-attr]

    # -- lifecycle (init, init_running) and governance --------------------------------------

    def _call_init(self, args: dict[str, Any], env: CallEnv, result: CallResult) -> None:
        governance.init(self, args, env)

    def _call_init_running(self, args: dict[str, Any], env: CallEnv, result: CallResult) -> None:
        governance.init_running(self, args, env)

    def _call_vote_add_domains(self, args: dict[str, Any], env: CallEnv, r: CallResult) -> None:
        governance.vote_add_domains(self, args, env)

    def _call_start_keygen_instance(self, args: dict[str, Any], env: CallEnv, r: CallResult) -> None:
        governance.start_instance(self, args, env, "Initializing")

    def _call_vote_pk(self, args: dict[str, Any], env: CallEnv, r: CallResult) -> None:
        governance.vote_pk(self, args, env)

    def _call_vote_cancel_keygen(self, args: dict[str, Any], env: CallEnv, r: CallResult) -> None:
        governance.vote_cancel_keygen(self, args, env)

    def _call_vote_abort_key_event_instance(self, args: dict[str, Any], env: CallEnv, r: CallResult) -> None:
        governance.vote_abort(self, args, env)

    def _call_vote_new_parameters(self, args: dict[str, Any], env: CallEnv, r: CallResult) -> None:
        governance.vote_new_parameters(self, args, env)

    def _call_start_reshare_instance(self, args: dict[str, Any], env: CallEnv, r: CallResult) -> None:
        governance.start_instance(self, args, env, "Resharing")

    def _call_vote_reshared(self, args: dict[str, Any], env: CallEnv, r: CallResult) -> None:
        governance.vote_reshared(self, args, env)

    def _call_vote_cancel_resharing(self, args: dict[str, Any], env: CallEnv, r: CallResult) -> None:
        governance.vote_cancel_resharing(self, args, env)

    # -- sign ---------------------------------------------------------------------------------

    def _call_sign(self, args: dict[str, Any], env: CallEnv, result: CallResult) -> None:
        if "request" not in args:
            raise deserialize_error("missing field `request`")
        path, kind, payload, domain_id = parse_sign_args(args["request"])
        result.logs.append(
            f"sign: predecessor={env.predecessor_account_id!r}, "
            f"request={json.dumps(args['request'], separators=(',', ':'))[:2000]}"
        )
        domain = self.domain(domain_id)
        if domain["purpose"] != "Sign":
            raise ContractPanic(E.wrong_domain_purpose(domain_id, "Sign", domain["purpose"]))
        required_gas = self.config["sign_call_gas_attachment_requirement_tera_gas"] * TGAS
        if env.prepaid_gas < required_gas:
            raise ContractPanic(E.insufficient_gas(env.prepaid_gas, required_gas))
        if env.attached_deposit < SIGN_DEPOSIT_YOCTONEAR:
            raise ContractPanic(E.insufficient_deposit(env.attached_deposit, SIGN_DEPOSIT_YOCTONEAR))
        curve = curve_of_domain(domain)
        check_payload(curve, kind, payload)
        tweak = tweak_for(env.predecessor_account_id, path)
        if curve is Curve.SECP256K1:
            try:
                kdf.secp256k1_tweak_scalar(tweak)
            except TweakOutOfRangeError:
                raise ContractPanic(E.TWEAK_NOT_ON_CURVE) from None
        key = request_key(domain_id, kind, payload, tweak)
        queue = self.pending().setdefault(key, [])
        if len(queue) >= MAX_PENDING_REQUEST_FAN_OUT:
            raise ContractPanic(E.queue_full(MAX_PENDING_REQUEST_FAN_OUT))
        request = signature_request(domain_id, kind, payload, tweak)
        data_id = env.create_yield(CALLBACK_METHOD, {"request": request})
        queue.append(data_id.hex())
        result.yields.append(data_id)
        if env.attached_deposit > SIGN_DEPOSIT_YOCTONEAR:
            result.transfers.append(
                (env.predecessor_account_id, env.attached_deposit - SIGN_DEPOSIT_YOCTONEAR)
            )

    # -- respond ------------------------------------------------------------------------------

    def _call_respond(self, args: dict[str, Any], env: CallEnv, result: CallResult) -> None:
        if env.predecessor_account_id != env.signer_account_id:
            raise ContractPanic(E.CALLER_NOT_SIGNER)
        if "request" not in args or "response" not in args:
            raise deserialize_error("missing field `request` or `response`")
        domain_id, kind, payload, tweak = parse_signature_request(args["request"])
        result.logs.append(
            f"respond: signer={env.signer_account_id}, "
            f"request={json.dumps(args['request'], separators=(',', ':'))[:2000]}"
        )
        running = self.running_view()
        if not self._is_responder(env.signer_account_id):
            raise ContractPanic(E.not_participant(env.signer_account_id))
        del running
        response = args["response"]
        try:
            signature = parse_signature_response(response)
        except SignatureResponseError as exc:
            raise deserialize_error(f"response: {exc}") from None
        root = self.root_key(domain_id)
        wanted = EcdsaSignature if root.curve is Curve.SECP256K1 else Ed25519Signature
        if not isinstance(signature, wanted):
            raise ContractPanic(E.scheme_mismatch(
                type(signature).__name__, root.curve.value))
        try:
            derived = kdf.derive_public_key_from_tweak(root, tweak)
        except (TweakOutOfRangeError, InvalidKeyError):
            raise ContractPanic(E.TWEAK_NOT_ON_CURVE) from None
        try:
            verify_signature(derived, payload, signature)
        except SignatureVerificationError:
            raise ContractPanic(E.INVALID_SIGNATURE) from None
        key = request_key(domain_id, kind, payload, tweak)
        queue = self.pending().pop(key, None)
        if not queue:
            raise ContractPanic(E.REQUEST_NOT_FOUND)
        body = json.dumps(signature.to_response(), separators=(",", ":")).encode()
        for data_id in queue:
            env.resume_yield(bytes.fromhex(data_id), body)

    def _is_responder(self, account_id: str) -> bool:
        protocol = self.protocol
        if "Running" in protocol:
            return participant_id(protocol["Running"]["parameters"], account_id) is not None
        resharing = protocol["Resharing"]
        return (
            participant_id(resharing["previous_running_state"]["parameters"], account_id) is not None
            or participant_id(resharing["resharing_key"]["parameters"], account_id) is not None
        )

    # -- yield callback -----------------------------------------------------------------------

    def _call_return_signature_and_clean_state_on_success(
        self, args: dict[str, Any], env: CallEnv, result: CallResult
    ) -> Any:
        if env.predecessor_account_id != env.current_account_id:
            raise ContractPanic(E.METHOD_PRIVATE.format(method=CALLBACK_METHOD))
        if env.promise_result is not None:
            try:
                return json.loads(env.promise_result)
            except ValueError:
                raise deserialize_error("callback result is not JSON") from None
        domain_id, kind, payload, tweak = parse_signature_request(args.get("request"))
        key = request_key(domain_id, kind, payload, tweak)
        queue = self.pending().get(key)
        if queue:
            queue.pop(0)
            if not queue:
                del self.pending()[key]
        result.self_calls.append(("fail_on_timeout", {}))
        return None

    def _call_fail_on_timeout(self, args: dict[str, Any], env: CallEnv, result: CallResult) -> None:
        if env.predecessor_account_id != env.current_account_id:
            raise ContractPanic(E.FAIL_ON_TIMEOUT_PRIVATE)
        raise ContractPanic(E.TIMEOUT)

    # -- views --------------------------------------------------------------------------------

    def _view_version(self, args: dict[str, Any], env: ViewEnv) -> str:
        return CONTRACT_VERSION

    def _view_config(self, args: dict[str, Any], env: ViewEnv) -> dict[str, int]:
        return dict(self.config)

    def _view_state(self, args: dict[str, Any], env: ViewEnv) -> Any:
        return copy.deepcopy(self.protocol)

    def _view_public_key(self, args: dict[str, Any], env: ViewEnv) -> str:
        domain_id = args.get("domain_id")
        domain_id = 0 if domain_id is None else as_uint(domain_id, "domain_id")
        self._require_running_or_resharing()
        try:
            return self.root_key(domain_id).to_near_string()
        except ContractPanic:
            raise ContractPanic(E.RESPOND_DOMAIN_NOT_FOUND) from None

    def _view_derived_public_key(self, args: dict[str, Any], env: ViewEnv) -> str:
        path = args.get("path")
        if not isinstance(path, str):
            raise deserialize_error("missing field `path`")
        predecessor = args.get("predecessor")
        if predecessor is None:
            raise ContractPanic(
                'HostError(ProhibitedInView { method_name: "predecessor_account_id" })'
            )
        domain_id = args.get("domain_id")
        domain_id = 0 if domain_id is None else as_uint(domain_id, "domain_id")
        self._require_running_or_resharing()
        try:
            root = self.root_key(domain_id)
        except ContractPanic:
            raise ContractPanic(E.RESPOND_DOMAIN_NOT_FOUND) from None
        tweak = tweak_for(predecessor, path) if isinstance(predecessor, str) else None
        if tweak is None:
            raise deserialize_error("predecessor must be an account id")
        try:
            return kdf.derive_public_key_from_tweak(root, tweak).to_near_string()
        except (TweakOutOfRangeError, InvalidKeyError):
            raise ContractPanic(E.TWEAK_NOT_ON_CURVE) from None

    def _view_latest_key_version(self, args: dict[str, Any], env: ViewEnv) -> int:
        scheme = args.get("signature_scheme") or "Secp256k1"
        if scheme not in ("Secp256k1", "Edwards25519", "Bls12381"):
            raise deserialize_error(f"unknown signature_scheme {str(scheme)[:40]!r}")
        self._require_running_or_resharing()
        ids = [d["id"] for d in self.running_view()["domains"]["domains"]
               if d["curve"] == scheme and d["purpose"] == "Sign"]
        if not ids:
            raise ContractPanic(E.NO_SUCH_DOMAIN)
        return max(ids)

    def _view_get_pending_request(self, args: dict[str, Any], env: ViewEnv) -> Any:
        if "request" not in args:
            raise deserialize_error("missing field `request`")
        domain_id, kind, payload, tweak = parse_signature_request(args["request"])
        queue = (self.state or {}).get("pending", {}).get(
            request_key(domain_id, kind, payload, tweak))
        if not queue:
            return None
        return {"data_id": list(bytes.fromhex(queue[0]))}

    def _require_running_or_resharing(self) -> None:
        protocol = self.protocol
        if not (isinstance(protocol, dict) and ("Running" in protocol or "Resharing" in protocol)):
            raise ContractPanic(E.NOT_RUNNING_NOR_RESHARING)


def _snapshot(state: dict[str, Any] | None) -> dict[str, Any] | None:
    """A copy of the state to restore after a panic.

    The pending-request map can hold many entries and calls only append to or remove whole
    queues, so it is copied one level deep (its queues are lists of strings); the rest of the
    state is small and copied deeply (a JSON round trip is faster than ``copy.deepcopy``).
    """
    if state is None:
        return None
    rest = json.loads(json.dumps({k: v for k, v in state.items() if k != "pending"}))
    rest["pending"] = {key: list(queue) for key, queue in state.get("pending", {}).items()}
    return rest


def _parse_args(raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    try:  # bounded like near-sdk's serde_json: the contract is safe without the host's guard
        value = loads_bounded(raw)
    except JsonBodyError:
        raise deserialize_error("arguments are not valid JSON") from None
    if not isinstance(value, dict):
        raise deserialize_error("arguments must be a JSON object")
    return value
