"""The node's configuration as the service uses it, read from the operator's ``node.toml``.

The file format, its validation and ``chainsig mpc init`` belong to the node building blocks
(:mod:`chainsig_mpc.node.config`); this module adapts that config for the service and adds
:func:`import_node` (``chainsig mpc import``): a node directory built from keys that already
exist — what ``chainsig devnet up`` needs, because the devnet genesis registers each
participant's NEAR key and TLS key in the contract before any node runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chainsig_core.credentials import AccessKey, parse_secret_key, write_access_key

from ..node.config import NodeConfig as OperatorConfig
from ..node.config import load_node_config as load_operator_config
from ..node.config import parse_node_config, write_node_config
from ..node.errors import NodeConfigError
from ..node.identity import NodeIdentity, save_identity
from ..node.nodekey import NodeKeySource, generate_node_key_file


@dataclass(frozen=True)
class NodeConfig:
    """What the service needs from ``node.toml`` (paths absolute)."""

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
    node_key: NodeKeySource
    store_path: Path

    @classmethod
    def from_operator(cls, config: OperatorConfig) -> NodeConfig:
        """Adapt the building blocks' config."""
        return cls(
            path=config.path, account_id=config.account_id, data_dir=config.data_dir,
            listen=(config.listen.host, config.listen.port),
            metrics=(config.metrics.host, config.metrics.port) if config.metrics else None,
            network=config.network, rpc_url=config.rpc_url, contract_id=config.contract_id,
            credentials_dir=config.credentials_dir, tls_identity=config.tls_identity_file,
            node_key=config.node_key, store_path=config.store_path,
        )

    def identity(self) -> NodeIdentity:
        """The TLS identity (raises NodeConfigError)."""
        from ..node.identity import load_identity

        return load_identity(self.tls_identity)

    def access_key(self) -> AccessKey:
        """The account's NEAR access key (raises CredentialsError)."""
        from chainsig_core.credentials import load_access_key

        return load_access_key(self.credentials_dir, self.network, self.account_id)


def load_node_config(path: Path | str) -> NodeConfig:
    """Read and validate ``node.toml``.

    Raises
    ------
    NodeConfigError
        One line listing every problem.
    """
    return NodeConfig.from_operator(load_operator_config(Path(path).expanduser().resolve()))


def read_key_file(path: Path | str, account_id: str) -> AccessKey:
    """An ed25519 key from a near-cli style JSON file, as ``account_id``'s key.

    Raises
    ------
    NodeConfigError
    """
    try:
        data = json.loads(Path(path).read_text("utf-8"))
        return parse_secret_key(account_id, data.get("private_key") or data["secret_key"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise NodeConfigError(f"{path} is not a near-cli ed25519 key file") from None


def import_node(
    data_dir: Path,
    *,
    account_key: AccessKey,
    tls_seed: bytes,
    rpc_url: str,
    contract_id: str,
    network: str = "devnet",
    listen: str,
    metrics: str | None = "127.0.0.1:0",
) -> dict[str, Any]:
    """Create a node directory from an existing NEAR key and TLS key (never overwrites).

    Writes ``node.toml`` (the operator format), ``tls_identity.pem``, a fresh ``node.key`` and
    the account key under ``credentials/``. Returns ``{config, account_id, tls_public_key, url}``.

    Raises
    ------
    NodeConfigError, NodeKeyError
    """
    data_dir = data_dir.expanduser().resolve()
    node: dict[str, Any] = {"account_id": account_key.account_id, "data_dir": str(data_dir), "listen": listen,
                            "tls_identity_file": str(data_dir / "tls_identity.pem")}
    if metrics:
        node["metrics"] = metrics
    document = {
        "node": node,
        "near": {"network": network, "rpc_url": rpc_url, "contract_id": contract_id,
                 "credentials_dir": str(data_dir / "credentials")},
        "node_key": {"file": str(data_dir / "node.key")},
    }
    config_path = data_dir / "node.toml"
    parsed = parse_node_config(document, config_path)  # every problem before any write
    if config_path.exists():
        raise NodeConfigError(f"{config_path} already exists: this data directory holds a node already")
    data_dir.mkdir(parents=True, exist_ok=True)
    identity = NodeIdentity(tls_seed)
    save_identity(parsed.tls_identity_file, identity)
    assert parsed.node_key.file is not None
    generate_node_key_file(parsed.node_key.file)
    write_access_key(parsed.credentials_dir, network, account_key)
    write_node_config(config_path, document)
    return {"config": str(config_path), "account_id": account_key.account_id,
            "tls_public_key": identity.tls_public_key, "url": parsed.public_url}
