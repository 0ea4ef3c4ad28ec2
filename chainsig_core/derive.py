"""From (NEAR network, account, path) to a chain address — the library form of ``derive``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .chain import Chain
from .config import Config, load_config
from .errors import ChainsigError, InvalidInputError
from .kdf import derive_public_key
from .keys import Curve, PublicKey, check_domain_id
from .plugins import get_chain
from .types import DerivedAccount


@dataclass(frozen=True)
class DerivedAddress:
    """An address the signer contract controls for ``(account, path)``."""

    network: str
    chain: str
    chain_network: str
    account: str
    path: str
    public_key: PublicKey
    address: str
    address_type: str | None = None

    @property
    def derived_account(self) -> DerivedAccount:
        return DerivedAccount(self.network, self.account, self.path, self.public_key)

    def to_json(self) -> dict[str, Any]:
        """The ``derive --json`` object (ARCHITECTURE.md)."""
        out: dict[str, Any] = {
            "network": self.network,
            "chain": self.chain,
            "chain_network": self.chain_network,
            "account": self.account,
            "path": self.path,
            "public_key": self.public_key.to_near_string(),
            "address": self.address,
        }
        if self.address_type is not None:
            out["address_type"] = self.address_type
        return out


def resolve_chain_network(chain: Chain, network_family: str, chain_network: str | None) -> str:
    """``chain_network`` checked against the chain, or the chain's default for the family."""
    if chain_network is None:
        return chain.default_chain_network(network_family)
    return chain.check_chain_network(chain_network)


def derive_address(
    *,
    chain: str | Chain,
    account: str,
    path: str,
    network: str = "mainnet",
    chain_network: str | None = None,
    address_type: str | None = None,
    config: Config | None = None,
    domain_id: int | None = None,
) -> DerivedAddress:
    """Derive the key and address ``v1.signer`` controls for ``(account, path)`` on a chain.

    Parameters
    ----------
    chain:
        Chain name (``"ethereum"``) or a :class:`Chain`.
    account, path:
        The NEAR predecessor account and the derivation path.
    network:
        NEAR network whose root key is used.
    chain_network:
        The chain's network; default follows ``network`` (ARCHITECTURE.md, "Names").
    address_type:
        For chains with several address forms (Bitcoin ``p2wpkh``/``p2pkh``).
    domain_id:
        The signer domain whose root key derives; default the chain's own (0 for secp256k1
        chains, 1 for ed25519 chains). Another domain — one the contract added — must have a
        root key of the chain's curve, known to the configuration (``root_public_keys``).

    Raises
    ------
    InvalidAccountIdError, TweakOutOfRangeError, UnknownNameError, InvalidInputError
        ``InvalidInputError`` also when the domain's root key is not on the chain's curve.
    """
    target = _DerivationTarget.resolve(
        config or load_config(), network, chain, chain_network, address_type, domain_id
    )
    return target.derive(account, path)


@dataclass(frozen=True)
class _DerivationTarget:
    """Everything about a derivation that does not depend on (account, path), resolved once."""

    network: str
    chain: Chain
    chain_network: str
    address_type: str | None
    root: PublicKey

    @classmethod
    def resolve(
        cls, config: Config, network: str, chain: str | Chain, chain_network: str | None,
        address_type: str | None, domain_id: int | None = None,
    ) -> _DerivationTarget:
        near = config.network(network)
        chain_obj = get_chain(chain) if isinstance(chain, str) else chain
        chain_net = resolve_chain_network(chain_obj, near.family, chain_network)
        kind = chain_obj.check_address_type(address_type)
        domain = chain_obj.domain_id if domain_id is None else check_domain_id(domain_id)
        root = near.root_public_key(domain)
        wanted = Curve.default_for_domain(chain_obj.domain_id)
        if wanted is not None and root.curve is not wanted:
            raise InvalidInputError(
                f"{chain_obj.name} needs a {wanted.value} key, but the root key of domain {domain} "
                f"on network {network!r} is {root.curve.value}"
            )
        return cls(network, chain_obj, chain_net, kind, root)

    def derive(self, account: str, path: str) -> DerivedAddress:
        public_key = derive_public_key(self.root, account, path)
        address = self.chain.address(public_key, self.chain_network, address_type=self.address_type)
        return DerivedAddress(
            self.network, self.chain.name, self.chain_network, account, path, public_key, address,
            self.address_type,
        )


_BATCH_FIELDS = {"chain", "account", "path", "network", "chain_network", "address_type"}


def derive_batch(
    lines: Iterable[str],
    *,
    network: str = "mainnet",
    config: Config | None = None,
    first_line: int = 1,
) -> Iterator[dict[str, Any]]:
    """Derive one JSON line at a time; yields one output object per input line, in order.

    Each input line is a JSON object with ``chain``, ``account``, ``path`` and optionally
    ``network`` (default ``network``), ``chain_network`` and ``address_type``. Blank lines are
    skipped. A bad line yields ``{"line": N, "error": "..."}`` and the run goes on.
    """
    config = config or load_config()
    targets: dict[tuple[Any, ...], _DerivationTarget] = {}  # rows mostly share these
    for number, line in enumerate(lines, start=first_line):
        if not line.strip():
            continue
        try:
            row = _parse_row(line)
            key = (row.get("network") or network, row["chain"], row.get("chain_network"), row.get("address_type"))
            target = targets.get(key)
            if target is None:
                target = targets[key] = _DerivationTarget.resolve(config, *key)
            yield target.derive(row["account"], row["path"]).to_json()
        except ChainsigError as exc:
            yield {"line": number, "error": str(exc)}


PARALLEL_CHUNK = 2000
"""Lines per work unit of :func:`derive_batch_parallel`."""


def derive_batch_parallel(
    lines: Iterable[str], *, network: str = "mainnet", workers: int | None = None
) -> Iterator[str]:
    """Like :func:`derive_batch`, as JSON lines, spread over ``workers`` processes (default:
    one per CPU). Output order is input order.

    Workers are forked so they start with the plugins already loaded; where ``fork`` is not
    available (or for one worker) this runs in process.
    """
    import multiprocessing
    import os
    from itertools import islice

    workers = workers or os.cpu_count() or 1
    iterator = iter(lines)
    first = list(islice(iterator, PARALLEL_CHUNK))
    if workers <= 1 or len(first) < PARALLEL_CHUNK or "fork" not in multiprocessing.get_all_start_methods():
        rows = derive_batch(_chain_lines(first, iterator), network=network)
        yield from (_JSON_LINE(row) for row in rows)
        return
    load_config()  # fail fast on a broken config, before forking
    from .plugins import get_chains

    get_chains()

    def chunks() -> Iterator[tuple[int, list[str], str]]:
        start, chunk = 1, first
        while chunk:
            yield start, chunk, network
            start += len(chunk)
            chunk = list(islice(iterator, PARALLEL_CHUNK))

    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        for text in pool.imap(_derive_chunk, chunks()):
            yield text


def _chain_lines(first: list[str], rest: Iterator[str]) -> Iterator[str]:
    yield from first
    yield from rest


_JSON_LINE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _derive_chunk(work: tuple[int, list[str], str]) -> str:
    start, chunk, network = work
    rows = derive_batch(chunk, network=network, first_line=start)
    return "".join(_JSON_LINE(row) + "\n" for row in rows)


def _parse_row(line: str) -> Mapping[str, Any]:
    try:
        row = json.loads(line)
    except ValueError:
        raise InvalidInputError("line is not valid JSON") from None
    if not isinstance(row, dict):
        raise InvalidInputError("line must be a JSON object")
    missing = [k for k in ("chain", "account", "path") if k not in row]
    if missing:
        raise InvalidInputError(f"missing field(s): {', '.join(missing)}")
    unknown = set(row) - _BATCH_FIELDS
    if unknown:
        raise InvalidInputError(f"unknown field(s): {', '.join(sorted(unknown))}")
    for key in _BATCH_FIELDS & set(row):
        if row[key] is not None and not isinstance(row[key], str):
            raise InvalidInputError(f"field {key!r} must be a string")
    return row
