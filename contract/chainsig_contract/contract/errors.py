"""The error texts of NEAR's ``v1.signer`` contract (mpc-contract ``errors.rs``).

A contract call that fails panics with one of these strings; the host reports it as NEAR
does: ``Smart contract panicked: <text>``. Texts with parameters are functions.
"""

from __future__ import annotations

# near-sdk's own texts
NOT_INITIALIZED = "The contract is not initialized"
ALREADY_INITIALIZED = "The contract has already been initialized"
METHOD_PRIVATE = "Method {method} is private"
DESERIALIZE = "Failed to deserialize input from JSON."
METHOD_NOT_FOUND = "MethodNotFound"
NOT_PAYABLE = "Method {method} doesn't accept deposit"

# RequestError
TIMEOUT = "Request has timed out."


def queue_full(limit: int) -> str:
    return (
        f"Pending-request queue is full for this request key (limit: {limit}). Try again once "
        "an in-flight response or timeout has cleared room."
    )


# RespondError
INVALID_SIGNATURE = "The provided signature is invalid."
RESPOND_DOMAIN_NOT_FOUND = "The provided domain was not found."
TWEAK_NOT_ON_CURVE = "The provided tweak is not on the curve of the public key."


def scheme_mismatch(mpc_scheme: str, user_scheme: str) -> str:
    return (
        f"The provided signature scheme does not match. MPC response: {mpc_scheme}, "
        f"user request: {user_scheme}"
    )


# KeyEventError
KEY_EVENT_ID_MISMATCH = "Key event Id mismatch"
ACTIVE_KEY_EVENT = (
    "Can not start a new reshare or keygen instance while the current instance is still active."
)
NO_ACTIVE_KEY_EVENT = "Expected ongoing reshare"

# VoteError
VOTER_NOT_LEADER = "Voting account is not the leader of the current reshare or keygen instance."
VOTE_ALREADY_SUBMITTED = "Vote already casted."
VOTER_PENDING = (
    "Candidates can only cast a vote after `threshold` participants casted one to admit them"
)


# InvalidParameters
def malformed_payload(reason: str) -> str:
    return f"Malformed payload: {reason}"


def insufficient_deposit(attached: int, required: int) -> str:
    return f"Attached deposit is lower than required. Attached: {attached}, required: {required}"


def insufficient_gas(provided: int, required: int) -> str:
    return f"Provided gas is lower than required. Provided: {provided}, required: {required}"


REQUEST_NOT_FOUND = "This sign request has timed out, was completed, or never existed."


def domain_not_found(provided: int) -> str:
    return f"The provided domain ID, {provided}, was not found."


def epoch_mismatch(provided: int, expected: int) -> str:
    return f"Provided Epoch Id, {provided}, does not match expected, {expected}."


NEXT_DOMAIN_ID_MISMATCH = "Next domain ID mismatch"
INVALID_DOMAIN_ID = "Invalid domain ID."


def wrong_domain_purpose(domain_id: int, expected: str, actual: str) -> str:
    return f"Domain {domain_id} has purpose {actual}, but this method requires {expected}."


CALLER_NOT_SIGNER = "Caller is not the signer account."

# InvalidState
NOT_RUNNING = "The protocol is not Running."
NOT_RESHARING = "Protocol state is not resharing."
NOT_INITIALIZING = "Protocol state is not initializing."
NOT_RUNNING_NOR_RESHARING = "Protocol state is not running, nor resharing."


def unexpected_state(name: str) -> str:
    return f"Unexpected protocol state: {name}"


def not_participant(account_id: str) -> str:
    return f"Not a participant: {account_id}"


# InvalidThreshold
THRESHOLD_MIN_ABS = "Threshold does not meet the minimum absolute requirement"


def threshold_min_rel(required: int, found: int) -> str:
    return (
        "Threshold does not meet the minimum relative requirement: require at least "
        f"{required}, found {found}"
    )


def threshold_max(maximum: int, found: int) -> str:
    return f"Threshold must not exceed number of participants: max {maximum}, found {found}"


# InvalidCandidateSet
INSUFFICIENT_OLD_PARTICIPANTS = (
    "Set of proposed participants must contain at least `threshold` old participants."
)


def participant_id_changed(account_id: str, old_id: int, new_id: int) -> str:
    return f"Existing participant {account_id} changed ID from {old_id} to {new_id}."


def participant_info_changed(account_id: str) -> str:
    return f"Existing participant {account_id} changed info (url or tls_public_key)."


def participant_id_not_less_than_next_id(pid: int, next_id: int) -> str:
    return f"Participant ID {pid} is not less than next_id {next_id}."


DUPLICATE_PARTICIPANT_IDS = "Duplicate participant IDs found."
DUPLICATE_ACCOUNT_IDS = "Duplicate account IDs found."
NEW_IDS_NOT_CONTIGUOUS = "New Participant ids need to be unique and contiguous."

# DomainError
NO_SUCH_DOMAIN = "No such domain."


def domain_ids_not_contiguous(expected_id: int) -> str:
    return f"Newly proposed domain IDs are not contiguous. Expected id: {expected_id}"


ADD_AT_LEAST_ONE_DOMAIN = "vote_add_domains must add at least one domain"
INVALID_DOMAINS = "Invalid list of domains provided"
DOMAINS_MISMATCH = "Domains from keyset do not match the provided domains"


def protocol_purpose(protocol: str, purpose: str) -> str:
    return (
        f"Invalid protocol-purpose combination: protocol {protocol} is not compatible with "
        f"purpose {purpose}"
    )


def reconstruction_too_low(minimum: int) -> str:
    return f"Reconstruction threshold must be at least {minimum}."


def reconstruction_exceeds(threshold: int, participants: int) -> str:
    return f"Reconstruction threshold {threshold} exceeds participant count {participants}."


def protocol_needs_participants(protocol: str, required: int, participants: int) -> str:
    return f"Protocol {protocol} requires at least {required} participants, found {participants}."


def unknown_domain_in_proposal(domain_id: int) -> str:
    return (
        f"Resharing proposal references domain ID {domain_id}, which is not in the current "
        "registry."
    )


# chainsig's own (no counterpart in v1.signer)
CAITSITH_REFUSED = (
    "Protocol CaitSith is not supported by chainsig's MPC nodes yet (planned); use DamgardEtAl "
    "for secp256k1 domains"
)
FAIL_ON_TIMEOUT_PRIVATE = "Method fail_on_timeout is private"
