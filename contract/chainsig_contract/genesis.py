"""Devnet genesis: the file format, defaults, key generation and the contract's start state.

A genesis file (JSON, every field optional)::

    {"chain_id": "devnet", "contract_id": "v1.signer.devnet", "registrar": "devnet",
     "transaction_validity_period": 86400,
     "participants": 5,                 # or a list of {account_id, url?, amount?}
     "users": ["alice", "bob"],         # or a list of {account_id, amount?}
     "threshold": 3,                    # governance threshold (default: NEAR's 60 % rule)
     "amounts": {"user": "1000000000000000000000000000", ...},   # yoctoNEAR per role
     "contract": {"state": "running" | "initializing" | "uninitialized",
                  "domains": [{"id": 0, "protocol": "DamgardEtAl", "reconstruction_threshold": 2,
                               "purpose": "Sign"}, {"id": 1, "protocol": "Frost", ...}],
                  "root_public_keys": {"0": "secp256k1:…", "1": "ed25519:…"},   # running only
                  "init_config": {"key_event_timeout_blocks": 600}}}

Short account names get ``.<registrar>`` appended. ``running`` (the default) starts the
contract through ``init_running`` with the given root keys (default: the ``dev`` keys of
``chainsig_core.signers.dev``); ``initializing`` runs ``init`` and the participants'
``vote_add_domains`` so the MPC nodes can start key generation at once; ``uninitialized``
leaves the contract without state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chainsig_core.account_id import validate_account_id
from chainsig_core.credentials import AccessKey, generate_access_key, write_access_key
from chainsig_core.errors import InvalidInputError
from chainsig_core.keys import Curve, PublicKey

from .contract.rules import min_governance_threshold
from .host.chain import ChainConfig

NETWORK = "devnet"
NEAR = 10**24
DEFAULT_AMOUNTS = {"registrar": 10**9 * NEAR, "contract": 1000 * NEAR,
                   "participant": 1000 * NEAR, "user": 1000 * NEAR}
DEFAULT_DOMAINS = [
    {"id": 0, "protocol": "DamgardEtAl", "reconstruction_threshold": 2, "purpose": "Sign"},
    {"id": 1, "protocol": "Frost", "reconstruction_threshold": 2, "purpose": "Sign"},
]
DEFAULT_INIT_CONFIG = {"key_event_timeout_blocks": 600}
CONTRACT_STATES = ("running", "initializing", "uninitialized")


@dataclass
class GenesisAccount:
    account_id: str
    role: str
    amount: int
    url: str | None = None
    key: AccessKey | None = field(default=None, repr=False)
    tls_key: AccessKey | None = field(default=None, repr=False)


@dataclass
class Genesis:
    """A resolved genesis: accounts with fresh keys and the contract calls to run."""

    config: ChainConfig
    accounts: list[GenesisAccount]
    threshold: int
    contract_state: str
    domains: list[dict[str, Any]]
    root_public_keys: dict[int, PublicKey]
    init_config: dict[str, Any]

    def participants(self) -> list[GenesisAccount]:
        return [a for a in self.accounts if a.role == "participant"]

    def parameters(self) -> dict[str, Any]:
        entries = [[p.account_id, i, {"url": p.url, "tls_public_key": p.tls_key.public_key.to_near_string()}]
                   for i, p in enumerate(self.participants())]  # type: ignore[union-attr]
        return {"participants": {"next_id": len(entries), "participants": entries},
                "threshold": self.threshold}

    def contract_calls(self) -> list[tuple[str, str, dict[str, Any]]]:
        contract = self.config.contract_id
        if self.contract_state == "uninitialized":
            return []
        if self.contract_state == "initializing":
            calls = [(contract, "init", {"parameters": self.parameters(), "init_config": self.init_config})]
            voters = self.participants()[: self.threshold]
            calls += [(p.account_id, "vote_add_domains", {"domains": self.domains}) for p in voters]
            return calls
        keyset = {"epoch_id": 0, "domains": [
            {"domain_id": d["id"], "key": self.root_public_keys[d["id"]].to_near_string(), "attempt": 0}
            for d in self.domains]}
        return [(contract, "init_running", {
            "domains": self.domains, "next_domain_id": max((d["id"] for d in self.domains), default=-1) + 1,
            "keyset": keyset, "parameters": self.parameters(), "init_config": self.init_config})]

    def chain_accounts(self) -> list[dict[str, Any]]:
        return [{"account_id": a.account_id, "amount": a.amount,
                 "public_key": a.key.public_key.to_near_string() if a.key else None}
                for a in self.accounts]


def load_genesis_file(path: Path | str) -> dict[str, Any]:
    """Read a genesis JSON file.

    Raises
    ------
    InvalidInputError
        If it cannot be read or is not a JSON object.
    """
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except OSError as exc:
        raise InvalidInputError(f"cannot read genesis file {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise InvalidInputError(f"genesis file {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInputError(f"genesis file {path} must hold a JSON object")
    return data


def resolve_genesis(spec: dict[str, Any] | None = None) -> Genesis:
    """Fill defaults, validate, and generate every account's key.

    Raises
    ------
    InvalidInputError
        With the first problem found in ``spec``.
    """
    spec = dict(spec or {})
    known = {"chain_id", "contract_id", "registrar", "transaction_validity_period", "participants",
             "users", "threshold", "amounts", "contract"}
    unknown = set(spec) - known
    if unknown:
        raise InvalidInputError(f"genesis: unknown field {sorted(unknown)[0]!r}")
    registrar = _account(spec.get("registrar", "devnet"), None)
    contract_id = _account(spec.get("contract_id", f"v1.signer.{registrar}"), registrar)
    config = ChainConfig(chain_id=str(spec.get("chain_id", "devnet")), contract_id=contract_id,
                         registrar=registrar,
                         transaction_validity_period=_int(spec.get("transaction_validity_period", 86_400),
                                                          "transaction_validity_period", 1))
    amounts = dict(DEFAULT_AMOUNTS)
    for role, value in (spec.get("amounts") or {}).items():
        if role not in amounts:
            raise InvalidInputError(f"genesis: amounts has unknown role {role!r}")
        amounts[role] = _int(value, f"amounts.{role}", 0)
    accounts = [GenesisAccount(registrar, "registrar", amounts["registrar"]),
                GenesisAccount(contract_id, "contract", amounts["contract"])]
    participants = spec.get("participants", 5)
    if isinstance(participants, int) and not isinstance(participants, bool):
        participants = [{"account_id": f"node{i}"} for i in range(participants)]
    if not isinstance(participants, list) or len(participants) < 2:
        raise InvalidInputError("genesis: participants must be a number ≥ 2 or a list of ≥ 2 entries")
    for i, entry in enumerate(participants):
        entry = entry if isinstance(entry, dict) else {"account_id": entry}
        account = _account(entry.get("account_id"), registrar)
        accounts.append(GenesisAccount(account, "participant",
                                       _int(entry.get("amount", amounts["participant"]), "amount", 0),
                                       url=str(entry.get("url", f"https://127.0.0.1:{21000 + i}"))))
    for entry in spec.get("users", ["alice", "bob"]):
        entry = entry if isinstance(entry, dict) else {"account_id": entry}
        accounts.append(GenesisAccount(_account(entry.get("account_id"), registrar), "user",
                                       _int(entry.get("amount", amounts["user"]), "amount", 0)))
    ids = [a.account_id for a in accounts]
    if len(set(ids)) != len(ids):
        raise InvalidInputError("genesis: account ids must be unique")
    n = len(participants)
    threshold = _int(spec.get("threshold", min_governance_threshold(n)), "threshold", 0)
    contract = spec.get("contract") or {}
    if not isinstance(contract, dict):
        raise InvalidInputError("genesis: contract must be an object")
    state = contract.get("state", "running")
    if state not in CONTRACT_STATES:
        raise InvalidInputError(f"genesis: contract.state must be one of {', '.join(CONTRACT_STATES)}")
    domains = contract.get("domains", DEFAULT_DOMAINS)
    if not isinstance(domains, list):
        raise InvalidInputError("genesis: contract.domains must be a list")
    init_config = dict(DEFAULT_INIT_CONFIG)
    init_config.update(contract.get("init_config") or {})
    roots = _root_keys(contract.get("root_public_keys"), domains) if state == "running" else {}
    for account in accounts:
        account.key = generate_access_key(account.account_id)
        if account.role == "participant":
            account.tls_key = generate_access_key(account.account_id)
    return Genesis(config, accounts, threshold, state, domains, roots, init_config)


def _root_keys(value: Any, domains: list[Any]) -> dict[int, PublicKey]:
    from chainsig_core.signers.dev import dev_root_public_key

    keys: dict[int, PublicKey] = {}
    given = value or {}
    if not isinstance(given, dict):
        raise InvalidInputError("genesis: contract.root_public_keys must be an object")
    for domain in domains:
        if not isinstance(domain, dict) or not isinstance(domain.get("id"), int):
            raise InvalidInputError("genesis: each domain needs an integer id")
        curve = Curve.SECP256K1 if domain.get("protocol") in ("DamgardEtAl", "CaitSith") else Curve.ED25519
        text = given.get(str(domain["id"]))
        keys[domain["id"]] = PublicKey.from_near_string(text) if text else dev_root_public_key(curve)
    return keys


def _account(value: Any, parent: str | None) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInputError("genesis: account ids must be non-empty strings")
    account = value if parent is None or "." in value or len(value) == 64 else f"{value}.{parent}"
    validate_account_id(account)
    return account


def _int(value: Any, what: str, minimum: int) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInputError(f"genesis: {what} must be an integer ≥ {minimum} (no floats)")
    return value


def write_keys(genesis: Genesis, data_dir: Path) -> dict[str, Path]:
    """Write every account key (near-cli format) under ``<data_dir>/credentials/devnet/`` and
    the participants' TLS keys under ``<data_dir>/tls/``; returns account → credentials file."""
    files = {}
    for account in genesis.accounts:
        assert account.key is not None
        files[account.account_id] = write_access_key(data_dir / "credentials", NETWORK, account.key)
        if account.tls_key is not None:
            write_access_key(data_dir / "tls", NETWORK, account.tls_key)
    return files


def write_public_genesis(genesis: Genesis, data_dir: Path) -> None:
    """``<data_dir>/genesis.json``: the resolved genesis without secrets (for later tools)."""
    data = {
        "chain_id": genesis.config.chain_id, "contract_id": genesis.config.contract_id,
        "registrar": genesis.config.registrar,
        "transaction_validity_period": genesis.config.transaction_validity_period,
        "threshold": genesis.threshold, "contract_state": genesis.contract_state,
        "domains": genesis.domains, "init_config": genesis.init_config,
        "accounts": [{"account_id": a.account_id, "role": a.role, "amount": str(a.amount),
                      "public_key": a.key.public_key.to_near_string() if a.key else None,
                      **({"url": a.url, "tls_public_key": a.tls_key.public_key.to_near_string()}
                         if a.tls_key else {})} for a in genesis.accounts],
    }
    (data_dir / "genesis.json").write_text(json.dumps(data, indent=2) + "\n", "utf-8")
