"""From (NEAR network, account, path) to a chain address — the library form of ``derive``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from json.encoder import encode_basestring as _json_string
from typing import Any, TypeVar

from .chain import Chain
from .config import Config, load_config
from .errors import ChainsigError, InvalidInputError
from .kdf import derive_public_key, public_key_deriver
from .keys import Curve, PublicKey, check_domain_id
from .plugins import chain_object
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
    domain_id: int | None = None
    """The signer domain whose root key derived the key (:func:`derive_address` always sets
    it); ``None`` is the default domain of the key's curve (0 secp256k1, 1 ed25519)."""

    @property
    def derived_account(self) -> DerivedAccount:
        """The sender of a transfer from this address (its payloads are signed in
        :attr:`domain_id`)."""
        return DerivedAccount(self.network, self.account, self.path, self.public_key, self.domain_id)

    def to_json(self) -> dict[str, Any]:
        """The ``derive --json`` object (ARCHITECTURE.md); ``domain_id`` only when it is not
        the default domain of the key's curve (like ``address_type``, only when it applies)."""
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
        if self.domain_id is not None and self.domain_id != self.public_key.curve.domain_id:
            out["domain_id"] = self.domain_id
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
    domain_id: int

    @classmethod
    def resolve(
        cls, config: Config, network: str, chain: str | Chain, chain_network: str | None,
        address_type: str | None, domain_id: int | None = None,
    ) -> _DerivationTarget:
        near = config.network(network)
        chain_obj = chain_object(chain)
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
        return cls(network, chain_obj, chain_net, kind, root, domain)

    def derive(self, account: str, path: str) -> DerivedAddress:
        public_key = derive_public_key(self.root, account, path)
        address = self.chain.address(public_key, self.chain_network, address_type=self.address_type)
        return DerivedAddress(
            self.network, self.chain.name, self.chain_network, account, path, public_key, address,
            self.address_type, self.domain_id,
        )

    def derive_json(self, account: str, path: str) -> dict[str, Any]:
        """:meth:`DerivedAddress.to_json` of :meth:`derive`."""
        return self.derive(account, path).to_json()

    def json_line(self, account: str, path: str) -> str:
        """The ``--from-file`` output line of :meth:`derive`, line feed included.

        The same text as encoding :meth:`derive_json` with ``_JSON_LINE`` (tests compare the
        two), built without the intermediate objects: this is the batch hot path.
        """
        parts = self._json_parts
        if parts is None:
            return _JSON_LINE(self.derive_json(account, path)) + "\n"
        public_key = self._derive_key(account, path)
        address = self.chain.address(public_key, self.chain_network, address_type=self.address_type)
        # The account id was validated by the derivation (a-z, 0-9, '-', '_', '.') and a NEAR key
        # string is a curve name, ':' and base58: neither needs JSON escaping.
        return (
            f'{parts[0]}"{account}","path":{_json_string(path)},'
            f'"public_key":"{public_key.to_near_string()}","address":{_json_string(address)}{parts[1]}'
        )

    @cached_property
    def _derive_key(self) -> Callable[[str, str], PublicKey]:
        return public_key_deriver(self.root)

    @cached_property
    def _json_parts(self) -> tuple[str, str] | None:
        """The text of :meth:`DerivedAddress.to_json` before ``"account"`` and after
        ``"address"`` — the members every row of this target shares (network, chain, …,
        ``address_type`` and any other optional ones) — taken from ``to_json`` itself for a sample
        row, so batch lines cannot drift from it. ``None`` (encode each row) if the sample fails
        or ``to_json`` is not laid out as expected."""
        try:
            members = self.derive_json("sample.near", "")
        except ChainsigError:
            return None
        names = list(members)
        start = names.index("account") if "account" in names else -1
        if start < 0 or names[start:start + 4] != ["account", "path", "public_key", "address"]:
            return None
        head = "".join(f"{_json_string(name)}:{_JSON_LINE(members[name])}," for name in names[:start])
        tail = "".join(f",{_json_string(name)}:{_JSON_LINE(members[name])}" for name in names[start + 4:])
        return f'{{{head}"account":', f"{tail}}}\n"


_Out = TypeVar("_Out")


_BATCH_FIELDS = frozenset({"chain", "account", "path", "network", "chain_network", "address_type", "domain_id"})
_REQUIRED_FIELDS = ("chain", "account", "path")


def derive_batch(
    lines: Iterable[str],
    *,
    network: str = "mainnet",
    config: Config | None = None,
    first_line: int = 1,
) -> Iterator[dict[str, Any]]:
    """Derive one JSON line at a time; yields one output object per input line, in order.

    Each input line is a JSON object with ``chain``, ``account``, ``path`` and optionally
    ``network`` (default ``network``), ``chain_network``, ``address_type`` and ``domain_id`` (an
    integer: the signer domain to derive in, checked as :func:`derive_address` checks it; default
    the chain's own). Output objects are :meth:`DerivedAddress.to_json`'s: ``domain_id`` only when
    it is not the chain's default. Blank lines are skipped. A bad line yields ``{"line": N,
    "error": "..."}`` and the run goes on.
    """
    rows = _BatchDeriver(config or load_config(), network)
    return rows.derive(lines, first_line, _DerivationTarget.derive_json, _error_object)


PARALLEL_MIN_ROWS = 2000
"""Inputs shorter than this are derived in process (forking workers would cost more)."""

PARALLEL_CHUNK = 500
"""Lines per work unit of :func:`derive_batch_parallel` (small units keep both cores busy to
the end of the input)."""


def derive_batch_parallel(
    lines: Iterable[str], *, network: str = "mainnet", workers: int | None = None
) -> Iterator[str]:
    """Like :func:`derive_batch`, as JSON lines, spread over ``workers`` processes (default:
    one per CPU). Output order is input order.

    Workers are forked so they start with the plugins already loaded; where ``fork`` is not
    available (or for one worker, or fewer than :data:`PARALLEL_MIN_ROWS` lines) this runs in
    process.
    """
    import multiprocessing
    import os
    from itertools import islice

    workers = workers or os.cpu_count() or 1
    iterator = iter(lines)
    first = list(islice(iterator, max(PARALLEL_MIN_ROWS, PARALLEL_CHUNK)))
    config = load_config()  # fail fast on a broken config, before forking
    serial = workers <= 1 or len(first) < PARALLEL_MIN_ROWS
    if serial or "fork" not in multiprocessing.get_all_start_methods():
        rows = _BatchDeriver(config, network)
        yield from rows.derive(_chain_lines(first, iterator), 1, _DerivationTarget.json_line, _error_line)
        return
    from .plugins import get_chains

    get_chains()

    def chunks() -> Iterator[tuple[int, list[str]]]:
        start, pending = 1, first
        while pending:
            chunk, pending = pending[:PARALLEL_CHUNK], pending[PARALLEL_CHUNK:]
            if not pending:
                pending = list(islice(iterator, PARALLEL_CHUNK))
            yield start, chunk
            start += len(chunk)

    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_start_worker, initargs=(config, network)) as pool:
        yield from pool.imap(_derive_chunk, chunks())


class _BatchDeriver:
    """Derives batch rows with the targets it resolved so far (rows mostly share them)."""

    def __init__(self, config: Config, network: str) -> None:
        self.config = config
        self.network = network
        self.targets: dict[tuple[Any, ...], _DerivationTarget] = {}

    def derive(
        self,
        lines: Iterable[str],
        first_line: int,
        render: Callable[[_DerivationTarget, str, str], _Out],
        render_error: Callable[[int, str], _Out],
    ) -> Iterator[_Out]:
        """One ``render(target, account, path)`` per non-blank line, or ``render_error(line
        number, message)`` for a bad one."""
        targets, network = self.targets, self.network
        for number, line in enumerate(lines, start=first_line):
            if not line or line.isspace():
                continue
            try:
                row = _parse_row(line)
                if len(row) == 3:  # chain, account and path only (_parse_row checked): most rows
                    key = (network, row["chain"], None, None, None)
                else:
                    get = row.get
                    key = (
                        get("network") or network, row["chain"], get("chain_network"), get("address_type"),
                        get("domain_id"),
                    )
                target = targets.get(key)
                if target is None:
                    target = targets[key] = _DerivationTarget.resolve(self.config, *key)
                yield render(target, row["account"], row["path"])
            except ChainsigError as exc:
                yield render_error(number, str(exc))


def _chain_lines(first: list[str], rest: Iterator[str]) -> Iterator[str]:
    yield from first
    yield from rest


_JSON_LINE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _error_object(number: int, message: str) -> dict[str, Any]:
    return {"line": number, "error": message}


def _error_line(number: int, message: str) -> str:
    return _JSON_LINE(_error_object(number, message)) + "\n"


_WORKER: _BatchDeriver | None = None


def _start_worker(config: Config, network: str) -> None:
    """Pool initializer (in the forked worker): one deriver, so targets resolve once per worker."""
    global _WORKER
    _WORKER = _BatchDeriver(config, network)


def _derive_chunk(work: tuple[int, list[str]]) -> str:
    start, chunk = work
    assert _WORKER is not None, "derive worker started without _start_worker"
    return "".join(_WORKER.derive(chunk, start, _DerivationTarget.json_line, _error_line))


_json_loads = json.JSONDecoder().decode


def _parse_row(line: str) -> Mapping[str, Any]:
    if not line.isascii():
        try:  # the CLI decodes with surrogateescape: bytes that are not UTF-8 stay as surrogates
            line.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInputError("line is not UTF-8 text") from None
    try:
        row = _json_loads(line)
    except ValueError:
        raise InvalidInputError("line is not valid JSON") from None
    if type(row) is not dict:
        raise InvalidInputError("line must be a JSON object")
    if "chain" not in row or "account" not in row or "path" not in row:
        missing = [key for key in _REQUIRED_FIELDS if key not in row]
        raise InvalidInputError(f"missing field(s): {', '.join(missing)}")
    fields = row.keys()
    if not fields <= _BATCH_FIELDS:
        raise InvalidInputError(f"unknown field(s): {', '.join(sorted(fields - _BATCH_FIELDS))}")
    for key, value in row.items():
        if type(value) is not str and (value is not None or key in _REQUIRED_FIELDS):
            if key != "domain_id":
                raise InvalidInputError(f"field {key!r} must be a string")
            if type(value) is not int:  # true, 2.0 (1 == True == 1.0 as target keys): refused here
                check_domain_id(value)
    # A domain_id given as text, or out of 0 … 2**64 − 1, is refused by check_domain_id when its
    # row's target resolves, with the message derive_address(domain_id=) gives.
    return row
