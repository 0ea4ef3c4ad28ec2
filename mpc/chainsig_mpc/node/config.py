"""The node's TOML configuration (``chainsig mpc node --config F``)::

    [node]
    account_id = "node1.devnet"              # the node's own NEAR account (calls respond, votes)
    data_dir = "data"                        # the encrypted store lives here
    listen = "127.0.0.1:4001"                # where peers connect (TLS)
    public_url = "https://127.0.0.1:4001"    # the participant url in the contract (default: listen)
    tls_identity_file = "tls_identity.pem"   # ed25519 key = the participant's tls_public_key
    metrics = "127.0.0.1:9101"               # /health and /metrics; omit to disable

    [near]
    network = "devnet"                       # names the credentials sub-directory
    rpc_url = "http://127.0.0.1:3030"
    contract_id = "v1.signer.devnet"
    credentials_dir = "credentials"          # near-cli format: <dir>/<network>/<account_id>.json

    [node_key]                               # exactly one of:
    file = "node.key"                        #   64 hex characters, mode 600
    # env = "CHAINSIG_MPC_NODE_KEY"          #   or an environment variable holding them

Relative paths are relative to the config file's directory. Every problem found is reported
together, each naming its key, in one :class:`NodeConfigError`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from chainsig_core.account_id import is_valid_account_id

from .errors import NodeConfigError
from .nodekey import NodeKeySource

STORE_FILE = "store.sqlite"

_KNOWN = {
    "node": {"account_id", "data_dir", "listen", "public_url", "tls_identity_file", "metrics"},
    "near": {"network", "rpc_url", "contract_id", "credentials_dir"},
    "node_key": {"file", "env"},
}


@dataclass(frozen=True)
class Address:
    """A ``host:port`` pair."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class NodeConfig:
    """A validated node configuration (see the module docstring for the file format)."""

    path: Path
    account_id: str
    data_dir: Path
    listen: Address
    public_url: str
    tls_identity_file: Path
    metrics: Address | None
    network: str
    rpc_url: str
    contract_id: str
    credentials_dir: Path
    node_key: NodeKeySource

    @property
    def store_path(self) -> Path:
        """The encrypted store's database file."""
        return self.data_dir / STORE_FILE

    def load_access_key(self) -> Any:
        """The node account's NEAR access key (near-cli credentials file or ``NEAR_PRIVATE_KEY``).

        Raises
        ------
        CredentialsError
        """
        from chainsig_core.credentials import load_access_key

        return load_access_key(self.credentials_dir, self.network, self.account_id)

    def load_identity(self) -> Any:
        """The TLS identity (:class:`chainsig_mpc.node.identity.NodeIdentity`).

        Raises
        ------
        NodeConfigError
        """
        from .identity import load_identity

        return load_identity(self.tls_identity_file)

    def summary(self) -> dict[str, Any]:
        """The configuration as JSON-ready data (no secrets: paths and names only)."""
        return {
            "config": str(self.path), "account_id": self.account_id, "data_dir": str(self.data_dir),
            "listen": str(self.listen), "public_url": self.public_url,
            "tls_identity_file": str(self.tls_identity_file),
            "metrics": str(self.metrics) if self.metrics else None,
            "network": self.network, "rpc_url": self.rpc_url, "contract_id": self.contract_id,
            "credentials_dir": str(self.credentials_dir), "node_key": self.node_key.describe(),
        }


def load_node_config(path: Path | str) -> NodeConfig:
    """Read and validate a node configuration file.

    Raises
    ------
    NodeConfigError
        If the file cannot be read, is not TOML, or has problems (all listed, one per key).
    """
    source = Path(path)
    try:
        raw = tomllib.loads(source.read_text("utf-8"))
    except FileNotFoundError:
        raise NodeConfigError(f"node config {source} does not exist (create one with 'chainsig mpc init')") from None
    except OSError as exc:
        raise NodeConfigError(f"cannot read node config {source}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise NodeConfigError(f"node config {source} is not valid TOML: {exc}") from None
    return parse_node_config(raw, source)


def parse_node_config(raw: Mapping[str, Any], path: Path) -> NodeConfig:
    """Validate parsed TOML (see :func:`load_node_config`)."""
    problems: list[str] = []
    base = path.parent
    tables: dict[str, Mapping[str, Any]] = {}
    for name in sorted(set(raw) - set(_KNOWN)):
        problems.append(f"unknown table [{name}]")
    for name, keys in _KNOWN.items():
        table = raw.get(name, {})
        if not isinstance(table, Mapping):
            problems.append(f"[{name}] must be a table")
            table = {}
        for key in sorted(set(table) - keys):
            problems.append(f"unknown key {name}.{key}")
        tables[name] = table
    node, near, key_table = tables["node"], tables["near"], tables["node_key"]

    def text(table: str, key: str, required: bool = True) -> str | None:
        value = tables[table].get(key)
        if value is None:
            if required:
                problems.append(f"{table}.{key} is required")
            return None
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{table}.{key} must be a non-empty string")
            return None
        return value

    def directory(table: str, key: str) -> Path | None:
        value = text(table, key)
        return None if value is None else (base / Path(value).expanduser()).resolve()

    account_id = text("node", "account_id")
    if account_id is not None and not is_valid_account_id(account_id):
        problems.append(f"node.account_id {account_id!r} is not a valid NEAR account id")
    contract_id = text("near", "contract_id")
    if contract_id is not None and not is_valid_account_id(contract_id):
        problems.append(f"near.contract_id {contract_id!r} is not a valid NEAR account id")
    network = text("near", "network")
    if network is not None and (os.sep in network or network.startswith(".")):
        problems.append("near.network must be a plain name (it names a credentials sub-directory)")
    rpc_url = text("near", "rpc_url")
    if rpc_url is not None and not _is_http_url(rpc_url):
        problems.append(f"near.rpc_url {rpc_url!r} must be an http:// or https:// URL")
    listen = _address(text("node", "listen"), "node.listen", problems)
    metrics_text = text("node", "metrics", required=False)
    metrics = _address(metrics_text, "node.metrics", problems) if metrics_text is not None else None
    if listen and metrics and listen.port == metrics.port and listen.port != 0:
        problems.append("node.metrics must use another port than node.listen")
    public_url = text("node", "public_url", required=False)
    if public_url is not None and _port_of_url(public_url) is None:
        problems.append(f"node.public_url {public_url!r} needs a host and a port")
    data_dir = directory("node", "data_dir")
    identity_file = directory("node", "tls_identity_file") if "tls_identity_file" in node else (
        data_dir / "tls_identity.pem" if data_dir else None)
    credentials_dir = directory("near", "credentials_dir") if "credentials_dir" in near else (
        Path.home() / ".near-credentials")
    node_key = _node_key(key_table, base, problems)
    if problems:
        raise NodeConfigError(f"node config {path}: " + "; ".join(problems))
    assert account_id and data_dir and listen and network and rpc_url and contract_id
    assert identity_file and credentials_dir and node_key
    return NodeConfig(
        path=path, account_id=account_id, data_dir=data_dir, listen=listen,
        public_url=public_url or f"https://{listen}", tls_identity_file=identity_file,
        metrics=metrics, network=network, rpc_url=rpc_url, contract_id=contract_id,
        credentials_dir=credentials_dir, node_key=node_key,
    )


def write_node_config(path: Path | str, document: Mapping[str, Any]) -> Path:
    """Write a node configuration document as TOML (never overwrites).

    Raises
    ------
    NodeConfigError
    """
    import tomli_w

    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "x", encoding="utf-8") as handle:
            handle.write(tomli_w.dumps(dict(document)))
    except FileExistsError:
        raise NodeConfigError(f"node config {target} already exists; not overwriting it") from None
    except OSError as exc:
        raise NodeConfigError(f"cannot write node config {target}: {exc.strerror}") from None
    return target


def _node_key(table: Mapping[str, Any], base: Path, problems: list[str]) -> NodeKeySource | None:
    file, env = table.get("file"), table.get("env")
    if (file is None) == (env is None):
        problems.append("[node_key] needs exactly one of file and env")
        return None
    if file is not None:
        if not isinstance(file, str) or not file:
            problems.append("node_key.file must be a non-empty string")
            return None
        return NodeKeySource(file=(base / Path(file).expanduser()).resolve())
    if not isinstance(env, str) or not env.isidentifier():
        problems.append("node_key.env must be an environment variable name")
        return None
    return NodeKeySource(env=env)


def _address(value: str | None, where: str, problems: list[str]) -> Address | None:
    if value is None:
        return None
    host, sep, port_text = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port_text.isdigit() or not 0 <= int(port_text) < 65536:
        problems.append(f"{where} {value!r} must be host:port with a port 0-65535")
        return None
    return Address(host, int(port_text))


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _port_of_url(value: str) -> int | None:
    parts = urlsplit(value if "://" in value else f"tls://{value}")
    try:
        return parts.port if parts.hostname else None
    except ValueError:
        return None
