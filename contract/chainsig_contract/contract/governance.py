"""Governance: init, domains and key generation, resharing (contract 3.14's state machine).

States: ``NotInitialized`` → (``init``) Running without domains → (``vote_add_domains``)
Initializing → keygen per domain (``start_keygen_instance``, ``vote_pk``) → Running;
Running → (``vote_new_parameters``) Resharing → reshare per domain
(``start_reshare_instance``, ``vote_reshared``) → Running with the same keys. Cancel and
abort votes go back as in the real contract.
"""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

from . import errors as E
from .env import CallEnv, ContractPanic
from .rules import (
    as_uint,
    curve_of_domain,
    deserialize_error,
    extended_key,
    fail,
    leader,
    parse_domain,
    parse_keyset,
    parse_parameters,
    parse_public_key,
    participant_accounts,
    participant_id,
    validate_candidate_set,
    validate_domain,
    validate_reconstruction_threshold,
)

if TYPE_CHECKING:
    from .signer import SignerContract


def _empty_votes() -> dict[str, Any]:
    return {"proposal_by_account": {}}


def _running(domains: dict[str, Any], keyset: dict[str, Any], parameters: dict[str, Any],
             cancelled: int | None = None) -> dict[str, Any]:
    return {"Running": {
        "domains": domains, "keyset": keyset, "parameters": parameters,
        "parameters_votes": _empty_votes(), "add_domains_votes": _empty_votes(),
        "previously_cancelled_resharing_epoch_id": cancelled,
    }}


def _key_event(epoch_id: int, domain: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    return {"epoch_id": epoch_id, "domain": domain, "parameters": parameters,
            "instance": None, "next_attempt_id": 0}


def _require_signer(env: CallEnv) -> str:
    if env.predecessor_account_id != env.signer_account_id:
        fail(E.CALLER_NOT_SIGNER)
    return env.signer_account_id


def _state(contract: SignerContract, name: str, error: str) -> dict[str, Any]:
    protocol = contract.protocol
    if not isinstance(protocol, dict) or name not in protocol:
        fail(error)
    return protocol[name]


def _require_participant(parameters: dict[str, Any], account: str) -> int:
    pid = participant_id(parameters, account)
    if pid is None:
        fail(E.not_participant(account))
    return pid  # type: ignore[return-value]


def _parse_init_config(value: Any) -> dict[str, int]:
    from .signer import parse_init_config

    return parse_init_config(value)


# -- init -------------------------------------------------------------------------------------


def init(contract: SignerContract, args: dict[str, Any], env: CallEnv) -> None:
    """``init(parameters, init_config)``: Running with no domains yet."""
    if contract.state is not None:
        fail(E.ALREADY_INITIALIZED)
    parameters = parse_parameters(args.get("parameters"))
    config = _parse_init_config(args.get("init_config"))
    contract.state = {
        "protocol": _running({"domains": [], "next_domain_id": 0},
                             {"epoch_id": 0, "domains": []}, parameters),
        "config": config, "pending": {},
    }


def init_running(contract: SignerContract, args: dict[str, Any], env: CallEnv) -> None:
    """``init_running(domains, next_domain_id, keyset, parameters, init_config)`` (private)."""
    if env.predecessor_account_id != env.current_account_id:
        fail(E.METHOD_PRIVATE.format(method="init_running"))
    if contract.state is not None:
        fail(E.ALREADY_INITIALIZED)
    parameters = parse_parameters(args.get("parameters"))
    n = len(parameters["participants"]["participants"])
    raw_domains = args.get("domains")
    if not isinstance(raw_domains, list):
        raise deserialize_error("domains must be a list")
    domains = [parse_domain(d) for d in raw_domains]
    next_domain_id = as_uint(args.get("next_domain_id"), "next_domain_id")
    ids = [d["id"] for d in domains]
    if ids != sorted(set(ids)) or (ids and ids[-1] >= next_domain_id):
        fail(E.INVALID_DOMAINS)
    for domain in domains:
        validate_domain(domain, n)
    keyset = parse_keyset(args.get("keyset"), domains)
    config = _parse_init_config(args.get("init_config"))
    contract.state = {
        "protocol": _running({"domains": domains, "next_domain_id": next_domain_id},
                             keyset, parameters),
        "config": config, "pending": {},
    }


# -- adding domains and key generation -----------------------------------------------------------


def vote_add_domains(contract: SignerContract, args: dict[str, Any], env: CallEnv) -> None:
    account = _require_signer(env)
    running = _state(contract, "Running", E.NOT_RUNNING)
    parameters = running["parameters"]
    _require_participant(parameters, account)
    raw = args.get("domains")
    if not isinstance(raw, list):
        raise deserialize_error("domains must be a list")
    domains = [parse_domain(d) for d in raw]
    if not domains:
        fail(E.ADD_AT_LEAST_ONE_DOMAIN)
    expected = running["domains"]["next_domain_id"]
    for domain in domains:
        if domain["id"] != expected:
            fail(E.domain_ids_not_contiguous(expected))
        expected += 1
    n = len(parameters["participants"]["participants"])
    for domain in domains:
        validate_domain(domain, n)
    votes = running["add_domains_votes"]["proposal_by_account"]
    votes[account] = domains
    agreeing = sum(1 for proposal in votes.values() if proposal == domains)
    if agreeing < parameters["threshold"]:
        return
    registry = {"domains": running["domains"]["domains"] + domains,
                "next_domain_id": expected}
    contract.state["protocol"] = {"Initializing": {  # type: ignore[index]
        "domains": registry,
        "epoch_id": running["keyset"]["epoch_id"],
        "generated_keys": copy.deepcopy(running["keyset"]["domains"]),
        "generating_key": _key_event(running["keyset"]["epoch_id"], domains[0], parameters),
        "cancel_votes": [],
    }}


def _current_event(contract: SignerContract, kind: str) -> dict[str, Any]:
    if kind == "Initializing":
        return _state(contract, "Initializing", E.NOT_INITIALIZING)["generating_key"]
    return _state(contract, "Resharing", E.NOT_RESHARING)["resharing_key"]


def _parse_event_id(value: Any) -> tuple[int, int, int]:
    if not isinstance(value, dict):
        raise deserialize_error("key_event_id must be {epoch_id, domain_id, attempt_id}")
    return (as_uint(value.get("epoch_id"), "epoch_id"), as_uint(value.get("domain_id"), "domain_id"),
            as_uint(value.get("attempt_id"), "attempt_id"))


def _active_instance(event: dict[str, Any], height: int) -> dict[str, Any] | None:
    instance = event["instance"]
    if instance is not None and height < instance["expires_on"]:
        return instance
    return None


def start_instance(contract: SignerContract, args: dict[str, Any], env: CallEnv, kind: str) -> None:
    """``start_keygen_instance`` / ``start_reshare_instance`` (the leader only)."""
    account = _require_signer(env)
    event = _current_event(contract, kind)
    _require_participant(event["parameters"], account)
    if leader(event["parameters"]) != account:
        fail(E.VOTER_NOT_LEADER)
    wanted = (event["epoch_id"], event["domain"]["id"], event["next_attempt_id"])
    if _parse_event_id(args.get("key_event_id")) != wanted:
        fail(E.KEY_EVENT_ID_MISMATCH)
    if _active_instance(event, env.block_height) is not None:
        fail(E.ACTIVE_KEY_EVENT)
    timeout = contract.config["key_event_timeout_blocks"]
    event["instance"] = {"attempt_id": event["next_attempt_id"], "started_in": env.block_height,
                         "expires_on": env.block_height + timeout, "completed": [],
                         "public_key": None}
    event["next_attempt_id"] += 1


def _voting_instance(event: dict[str, Any], args: dict[str, Any], height: int) -> dict[str, Any]:
    instance = _active_instance(event, height)
    if instance is None:
        fail(E.NO_ACTIVE_KEY_EVENT)
    wanted = (event["epoch_id"], event["domain"]["id"], instance["attempt_id"])  # type: ignore[index]
    if _parse_event_id(args.get("key_event_id")) != wanted:
        fail(E.KEY_EVENT_ID_MISMATCH)
    return instance  # type: ignore[return-value]


def vote_pk(contract: SignerContract, args: dict[str, Any], env: CallEnv) -> None:
    account = _require_signer(env)
    initializing = _state(contract, "Initializing", E.NOT_INITIALIZING)
    event = initializing["generating_key"]
    pid = _require_participant(event["parameters"], account)
    instance = _voting_instance(event, args, env.block_height)
    key = parse_public_key(args.get("public_key"))
    if key.curve is not curve_of_domain(event["domain"]):
        fail(E.KEY_EVENT_ID_MISMATCH)
    extended = extended_key(key)
    if instance["public_key"] is not None and instance["public_key"] != extended:
        event["instance"] = None  # disagreement aborts the attempt
        return
    if pid in instance["completed"]:
        fail(E.VOTE_ALREADY_SUBMITTED)
    instance["public_key"] = extended
    instance["completed"].append(pid)
    if len(instance["completed"]) < len(event["parameters"]["participants"]["participants"]):
        return
    initializing["generated_keys"].append(
        {"domain_id": event["domain"]["id"], "key": extended, "attempt": instance["attempt_id"]})
    done = {k["domain_id"] for k in initializing["generated_keys"]}
    remaining = [d for d in initializing["domains"]["domains"] if d["id"] not in done]
    if remaining:
        initializing["generating_key"] = _key_event(event["epoch_id"], remaining[0],
                                                    event["parameters"])
        return
    contract.state["protocol"] = _running(  # type: ignore[index]
        initializing["domains"],
        {"epoch_id": initializing["epoch_id"], "domains": initializing["generated_keys"]},
        event["parameters"])


def vote_cancel_keygen(contract: SignerContract, args: dict[str, Any], env: CallEnv) -> None:
    account = _require_signer(env)
    initializing = _state(contract, "Initializing", E.NOT_INITIALIZING)
    parameters = initializing["generating_key"]["parameters"]
    pid = _require_participant(parameters, account)
    if as_uint(args.get("next_domain_id"), "next_domain_id") != initializing["domains"]["next_domain_id"]:
        fail(E.NEXT_DOMAIN_ID_MISMATCH)
    if pid not in initializing["cancel_votes"]:
        initializing["cancel_votes"].append(pid)
    if len(initializing["cancel_votes"]) < parameters["threshold"]:
        return
    done = {k["domain_id"] for k in initializing["generated_keys"]}
    registry = {"domains": [d for d in initializing["domains"]["domains"] if d["id"] in done],
                "next_domain_id": initializing["domains"]["next_domain_id"]}
    contract.state["protocol"] = _running(  # type: ignore[index]
        registry, {"epoch_id": initializing["epoch_id"], "domains": initializing["generated_keys"]},
        parameters)


def vote_abort(contract: SignerContract, args: dict[str, Any], env: CallEnv) -> None:
    """``vote_abort_key_event_instance``: one participant's vote aborts the current attempt."""
    account = _require_signer(env)
    protocol = contract.protocol
    if isinstance(protocol, dict) and "Initializing" in protocol:
        event = protocol["Initializing"]["generating_key"]
    elif isinstance(protocol, dict) and "Resharing" in protocol:
        event = protocol["Resharing"]["resharing_key"]
    else:
        fail(E.unexpected_state(protocol if isinstance(protocol, str) else next(iter(protocol))))
    _require_participant(event["parameters"], account)
    _voting_instance(event, args, env.block_height)
    event["instance"] = None


# -- resharing ----------------------------------------------------------------------------------


def _parse_proposal(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or "parameters" not in value:
        raise deserialize_error("proposal must be {parameters, per_domain_thresholds}")
    parameters = parse_parameters(value["parameters"])
    thresholds = value.get("per_domain_thresholds") or {}
    if not isinstance(thresholds, dict):
        raise deserialize_error("per_domain_thresholds must be an object")
    parsed: dict[str, int] = {}
    for key, item in thresholds.items():
        try:
            domain_id = int(key)
        except ValueError:
            raise deserialize_error("per_domain_thresholds keys are domain ids") from None
        parsed[str(domain_id)] = as_uint(item, "reconstruction threshold")
    return {"parameters": parameters, "per_domain_thresholds": parsed}


def _apply_thresholds(domains: list[dict[str, Any]], thresholds: dict[str, int]) -> list[dict[str, Any]]:
    out = copy.deepcopy(domains)
    for domain in out:
        if str(domain["id"]) in thresholds:
            domain["reconstruction_threshold"] = thresholds[str(domain["id"])]
    return out


def vote_new_parameters(contract: SignerContract, args: dict[str, Any], env: CallEnv) -> None:
    account = _require_signer(env)
    protocol = contract.protocol
    if isinstance(protocol, dict) and "Running" in protocol:
        running = protocol["Running"]
        base = running["previously_cancelled_resharing_epoch_id"]
        expected = max(running["keyset"]["epoch_id"], base if base is not None else 0) + 1
    elif isinstance(protocol, dict) and "Resharing" in protocol:
        running = protocol["Resharing"]["previous_running_state"]
        expected = protocol["Resharing"]["resharing_key"]["epoch_id"] + 1
    else:
        fail(E.NOT_RUNNING_NOR_RESHARING)
    epoch = as_uint(args.get("prospective_epoch_id"), "prospective_epoch_id")
    if epoch != expected:
        fail(E.epoch_mismatch(epoch, expected))
    proposal = _parse_proposal(args.get("proposal"))
    old, new = running["parameters"], proposal["parameters"]
    validate_candidate_set(old, new)
    n = len(new["participants"]["participants"])
    known = {str(d["id"]): d for d in running["domains"]["domains"]}
    for key in proposal["per_domain_thresholds"]:
        if key not in known:
            fail(E.unknown_domain_in_proposal(int(key)))
    for domain in _apply_thresholds(running["domains"]["domains"], proposal["per_domain_thresholds"]):
        validate_reconstruction_threshold(domain["protocol"], domain["reconstruction_threshold"], n)
    old_accounts = set(participant_accounts(old))
    new_accounts = set(participant_accounts(new))
    if account not in old_accounts and account not in new_accounts:
        fail(E.not_participant(account))
    votes = running["parameters_votes"]["proposal_by_account"]
    same = [a for a, p in votes.items() if p == proposal]
    if account not in old_accounts and len([a for a in same if a in old_accounts]) < old["threshold"]:
        fail(E.VOTER_PENDING)
    votes[account] = proposal
    voters = {a for a, p in votes.items() if p == proposal}
    if len(voters & old_accounts) < old["threshold"] or not (new_accounts - old_accounts) <= voters:
        return
    previous = copy.deepcopy(running)
    previous["parameters_votes"] = _empty_votes()
    previous["add_domains_votes"] = _empty_votes()
    domains = _apply_thresholds(previous["domains"]["domains"], proposal["per_domain_thresholds"])
    if not domains:
        previous["parameters"] = new
        previous["keyset"]["epoch_id"] = epoch
        contract.state["protocol"] = {"Running": previous}  # type: ignore[index]
        return
    contract.state["protocol"] = {"Resharing": {  # type: ignore[index]
        "previous_running_state": previous,
        "reshared_keys": [],
        "resharing_key": _key_event(epoch, domains[0], new),
        "cancellation_requests": [],
        "per_domain_thresholds": proposal["per_domain_thresholds"],
    }}


def vote_reshared(contract: SignerContract, args: dict[str, Any], env: CallEnv) -> None:
    account = _require_signer(env)
    resharing = _state(contract, "Resharing", E.NOT_RESHARING)
    event = resharing["resharing_key"]
    pid = _require_participant(event["parameters"], account)
    instance = _voting_instance(event, args, env.block_height)
    if pid in instance["completed"]:
        fail(E.VOTE_ALREADY_SUBMITTED)
    instance["completed"].append(pid)
    if len(instance["completed"]) < len(event["parameters"]["participants"]["participants"]):
        return
    previous = resharing["previous_running_state"]
    old_key = next(k for k in previous["keyset"]["domains"] if k["domain_id"] == event["domain"]["id"])
    resharing["reshared_keys"].append(
        {"domain_id": event["domain"]["id"], "key": old_key["key"], "attempt": instance["attempt_id"]})
    domains = _apply_thresholds(previous["domains"]["domains"], resharing["per_domain_thresholds"])
    done = {k["domain_id"] for k in resharing["reshared_keys"]}
    remaining = [d for d in domains if d["id"] not in done]
    if remaining:
        resharing["resharing_key"] = _key_event(event["epoch_id"], remaining[0], event["parameters"])
        return
    registry = {"domains": domains, "next_domain_id": previous["domains"]["next_domain_id"]}
    contract.state["protocol"] = _running(  # type: ignore[index]
        registry, {"epoch_id": event["epoch_id"], "domains": resharing["reshared_keys"]},
        event["parameters"])


def vote_cancel_resharing(contract: SignerContract, args: dict[str, Any], env: CallEnv) -> None:
    account = _require_signer(env)
    resharing = _state(contract, "Resharing", E.NOT_RESHARING)
    previous = resharing["previous_running_state"]
    _require_participant(previous["parameters"], account)
    if account not in resharing["cancellation_requests"]:
        resharing["cancellation_requests"].append(account)
    if len(resharing["cancellation_requests"]) < previous["parameters"]["threshold"]:
        return
    restored = copy.deepcopy(previous)
    restored["previously_cancelled_resharing_epoch_id"] = resharing["resharing_key"]["epoch_id"]
    contract.state["protocol"] = {"Running": restored}  # type: ignore[index]


def proposal_json(proposal: dict[str, Any]) -> str:
    """Canonical text of a proposal (tests and logs)."""
    return json.dumps(proposal, sort_keys=True)


__all__ = ["ContractPanic", "init", "init_running", "proposal_json", "start_instance",
           "vote_abort", "vote_add_domains", "vote_cancel_keygen", "vote_cancel_resharing",
           "vote_new_parameters", "vote_pk", "vote_reshared"]
