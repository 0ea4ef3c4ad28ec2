"""Node configuration (TOML) and ``chainsig mpc init``.

A node config::

    [node]
    account_id = "node0.devnet"          # this node's NEAR account (a participant)
    data_dir = "."                       # the encrypted store lives here (relative: to this file)
    listen = "127.0.0.1:21000"           # peer TLS listener (default: the port of the contract URL)
    metrics = "127.0.0.1:0"              # health + Prometheus text endpoint ("" disables it)

    [near]
    network = "devnet"
    rpc_url = "http://127.0.0.1:3030"
    contract_id = "v1.signer.devnet"
    credentials_dir = "credentials"      # near-cli layout: <dir>/<network>/<account>.json

    [keys]
    tls_identity = "tls_identity.pem"    # ed25519 PKCS#8; its public key is tls_public_key
    node_key_file = "node.key"           # 64 hex chars; or CHAINSIG_MPC_NODE_KEY
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chainsig_core.account_id import validate_account_id
from chainsig_core.credentials import AccessKey, load_access_key, write_access_key

from ..node.errors import NodeConfigError
from ..node.identity import NodeIdentity, load_identity, save_identity
from .store import write_node_key


@dataclass(frozen=True)
class NodeConfig:
    """A parsed node configuration (paths absolute)."""

    path: Path
    account_id: str
    data_dir: Path
    listen: tuple[str, int] | None
    metrics: tuple[str, int] | None
    network: str
    rpc_url: str
    contract_id: str
    credentials_dir: Path
    tls_identity: Path
    node_key_file: Path | None

    @property
    def store_path(self) -> Path:
        """The encrypted SQLite store."""
        return self.data_dir / "node.sqlite"

    def identity(self) -> NodeIdentity:
        """The TLS identity (raises NodeConfigError)."""
        return load_identity(self.tls_identity)

    def access_key(self) -> AccessKey:
        """The account's NEAR access key (raises CredentialsError)."""
        return load_access_key(self.credentials_dir, self.network, self.account_id)


def _address(value: Any, what: str) -> tuple[str, int] | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or ":" not in value:
        raise NodeConfigError(f"node config: {what} must be \"host:port\"")
    host, _, port = value.rpartition(":")
    if not port.isdigit() or not 0 <= int(port) < 65536 or not host:
        raise NodeConfigError(f"node config: {what} must be \"host:port\"")
    return host, int(port)


def load_node_config(path: Path | str) -> NodeConfig:
    """Read and check a node config.

    Raises
    ------
    NodeConfigError
        Missing file, bad TOML, missing or malformed field (one line naming it).
    """
    source = Path(path).expanduser().resolve()
    try:
        raw = tomllib.loads(source.read_text("utf-8"))
    except OSError as exc:
        raise NodeConfigError(f"cannot read node config {source}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise NodeConfigError(f"node config {source} is not valid TOML: {exc}") from None
    base = source.parent

    def table(name: str) -> dict[str, Any]:
        value = raw.get(name, {})
        if not isinstance(value, dict):
            raise NodeConfigError(f"node config: [{name}] must be a table")
        return value

    def text(tab: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
        value = tab.get(key, default)
        if not isinstance(value, str) or not value:
            raise NodeConfigError(f"node config: {where}.{key} must be a non-empty string")
        return value

    def file(value: str) -> Path:
        p = Path(value).expanduser()
        return p if p.is_absolute() else base / p

    node, near, keys = table("node"), table("near"), table("keys")
    account = text(node, "account_id", "node")
    try:
        validate_account_id(account)
    except ValueError as exc:
        raise NodeConfigError(f"node config: node.account_id: {exc}") from None
    key_file = keys.get("node_key_file")
    return NodeConfig(
        path=source,
        account_id=account,
        data_dir=file(text(node, "data_dir", "node", ".")),
        listen=_address(node.get("listen"), "node.listen"),
        metrics=_address(node.get("metrics", "127.0.0.1:0"), "node.metrics"),
        network=text(near, "network", "near", "devnet"),
        rpc_url=text(near, "rpc_url", "near"),
        contract_id=text(near, "contract_id", "near"),
        credentials_dir=file(text(near, "credentials_dir", "near", "credentials")),
        tls_identity=file(text(keys, "tls_identity", "keys", "tls_identity.pem")),
        node_key_file=file(key_file) if isinstance(key_file, str) and key_file else None,
    )


def init_node(
    data_dir: Path,
    *,
    account_id: str,
    rpc_url: str,
    contract_id: str,
    network: str = "devnet",
    listen: str | None = None,
    metrics: str = "127.0.0.1:0",
    account_key: AccessKey | None = None,
    tls_seed: bytes | None = None,
) -> dict[str, Any]:
    """Create a node's directory: TLS identity, node key, config (and the account key if given).

    Never overwrites a key. Returns ``{config, account_id, tls_public_key}``.

    Raises
    ------
    NodeConfigError, NodeKeyError
        If a file exists already or cannot be written.
    """
    import tomli_w

    validate_account_id(account_id)
    data_dir = data_dir.expanduser().resolve()
    config_path = data_dir / "node.toml"
    if config_path.exists():
        raise NodeConfigError(f"{config_path} already exists; not overwriting it")
    identity = NodeIdentity(tls_seed) if tls_seed is not None else NodeIdentity.generate()
    save_identity(data_dir / "tls_identity.pem", identity)
    write_node_key(data_dir / "node.key")
    if account_key is not None:
        write_access_key(data_dir / "credentials", network, account_key)
    _address(listen, "listen")
    _address(metrics, "metrics")
    node: dict[str, Any] = {"account_id": account_id, "data_dir": ".", "metrics": metrics}
    if listen:
        node["listen"] = listen
    document = {
        "node": node,
        "near": {"network": network, "rpc_url": rpc_url, "contract_id": contract_id,
                 "credentials_dir": "credentials"},
        "keys": {"tls_identity": "tls_identity.pem", "node_key_file": "node.key"},
    }
    config_path.write_text(tomli_w.dumps(document), "utf-8")
    return {"config": str(config_path), "account_id": account_id,
            "tls_public_key": identity.tls_public_key}


def tls_seed_from_credentials_file(path: Path | str) -> bytes:
    """The ed25519 seed of a near-cli style key file (the devnet genesis writes participants'
    TLS keys that way), to import it as the node's TLS identity.

    Raises
    ------
    NodeConfigError
    """
    from chainsig_core.credentials import parse_secret_key

    try:
        data = json.loads(Path(path).read_text("utf-8"))
        key = parse_secret_key(data["account_id"], data.get("private_key") or data["secret_key"])
    except (OSError, ValueError, KeyError, TypeError):
        raise NodeConfigError(f"{path} is not a near-cli ed25519 key file") from None
    return key.seed
