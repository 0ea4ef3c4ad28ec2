"""Configuration: NEAR networks, per-chain settings, and the environment variables.

One TOML file, ``$CHAINSIG_CONFIG`` or ``~/.config/chainsig/config.toml``::

    [networks.devnet]                    # NEAR networks beyond the built-in ones
    rpc_url = "http://127.0.0.1:3030"
    contract_id = "v1.signer.devnet"
    credentials_dir = "/home/me/.chainsig/devnet/credentials"
    family = "local"                     # which chain networks it defaults to
    root_public_keys = { 0 = "secp256k1:…", 1 = "ed25519:…" }   # any u64 domain, either curve

    [networks.mainnet]                   # overriding a built-in network's RPC URL
    rpc_url = "https://rpc.mainnet.example"

    [chains.ethereum.sepolia]            # per chain and chain network: RPC URL and settings
    rpc_url = "https://sepolia.example"

Environment: ``CHAINSIG_CONFIG``, ``CHAINSIG_DEV_SEED``, ``CHAINSIG_LOAD_PLUGINS``,
``CHAINSIG_BLOCK_PLUGINS``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .account_id import validate_account_id
from .errors import ConfigError, InvalidKeyError, UnknownNameError
from .keys import MAX_DOMAIN_ID, PublicKey

CONFIG_ENV = "CHAINSIG_CONFIG"
DEV_SEED_ENV = "CHAINSIG_DEV_SEED"

NETWORK_FAMILIES = ("mainnet", "testnet", "local")

MAINNET_ROOT_KEYS = {
    0: "secp256k1:3tFRbMqmoa6AAALMrEFAYCEoHcqKxeW38YptwowBVBtXK1vo36HDbUWuR6EZmoK4JcH6HDkNMGGqP1ouV7VZUWya",
    1: "ed25519:G9hwngxWNKdmqMCmU1Yt6LPhFpayJeKFxyAV1HqMNLtF",
}
TESTNET_ROOT_KEYS = {
    0: "secp256k1:4NfTiv3UsGahebgTaHyD9vF8KYKMBnfd6kh94mK6xv8fGBiJB8TBtFMP5WWXz6B89Ac1fbpzPwAvoyQebemHFwx3",
    1: "ed25519:6vSEtQxrQj6txUMh33WC4ERyCWmNMRTdufDWAaDY3Un2",
}


@dataclass(frozen=True)
class NearNetwork:
    """A NEAR network chainsig can sign through.

    Parameters
    ----------
    name:
        ``mainnet``, ``testnet``, ``dev``, ``devnet`` or a configured name.
    family:
        ``mainnet``, ``testnet`` or ``local``: picks the chains' default chain networks.
    rpc_url:
        NEAR JSON-RPC endpoint (``None`` for ``dev``).
    contract_id:
        The signer contract (``None`` for ``dev``).
    credentials_dir:
        near-cli credentials root; keys live in ``<dir>/<name>/<account>.json``.
    root_public_keys:
        Known root keys by domain id (any u64 id, either curve: the key's curve is the
        domain's). The NEAR contract signer compares each with the contract's ``public_key``
        view before signing and reads domains missing here from that view; offline derivation
        needs the key here.
    """

    name: str
    family: str
    rpc_url: str | None
    contract_id: str | None
    credentials_dir: Path
    root_public_keys: Mapping[int, PublicKey] = field(default_factory=dict)

    @property
    def is_dev(self) -> bool:
        """True for the in-process ``dev`` signer network (no contract, no MPC)."""
        return self.name == "dev"

    def root_public_key(self, domain_id: int) -> PublicKey:
        """The root key of ``domain_id`` on this network (the configured or built-in one; the
        NEAR contract signer also reads unconfigured domains from the contract).

        Raises
        ------
        UnknownNameError
            When the key is neither built in, configured nor (for ``dev``) computable.
        """
        if self.is_dev:
            from .signers.dev import dev_domain_curve, dev_root_public_key

            return dev_root_public_key(dev_domain_curve(domain_id))
        try:
            return self.root_public_keys[domain_id]
        except KeyError:
            raise UnknownNameError(
                f"the root key of domain {domain_id} on network {self.name!r} is not known yet: "
                f"set root_public_keys.{domain_id} in [networks.{self.name}] to the contract's "
                f"public_key view (chainsig sign reads it from the contract by itself)"
            ) from None


def default_config_path() -> Path:
    """``$CHAINSIG_CONFIG`` or ``~/.config/chainsig/config.toml``."""
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "chainsig" / "config.toml"


def _default_credentials_dir() -> Path:
    return Path.home() / ".near-credentials"


def _builtin_networks() -> dict[str, NearNetwork]:
    creds = _default_credentials_dir()

    def roots(table: Mapping[int, str]) -> dict[int, PublicKey]:
        return {d: PublicKey.from_near_string(k) for d, k in table.items()}

    return {
        "mainnet": NearNetwork(
            "mainnet", "mainnet", "https://rpc.mainnet.fastnear.com", "v1.signer", creds,
            roots(MAINNET_ROOT_KEYS),
        ),
        "testnet": NearNetwork(
            "testnet", "testnet", "https://rpc.testnet.fastnear.com", "v1.signer-prod.testnet",
            creds, roots(TESTNET_ROOT_KEYS),
        ),
        "dev": NearNetwork("dev", "local", None, None, creds, {}),
    }


@dataclass(frozen=True)
class Config:
    """The parsed configuration.

    Parameters
    ----------
    path:
        The file it was read from (it may not exist).
    networks:
        Every NEAR network, built-in ones merged with the file's ``[networks.*]``.
    raw:
        The file's content as parsed TOML (read-only); plugins read their own tables.
    """

    path: Path
    networks: Mapping[str, NearNetwork]
    raw: Mapping[str, Any]

    def network(self, name: str) -> NearNetwork:
        """The NEAR network ``name``.

        Raises
        ------
        UnknownNameError
        """
        try:
            return self.networks[name]
        except KeyError:
            known = ", ".join(sorted(self.networks))
            hint = " (start it with 'chainsig devnet up')" if name == "devnet" else ""
            raise UnknownNameError(f"unknown NEAR network {name!r}{hint} (known: {known})") from None

    def chain_settings(self, chain: str, chain_network: str) -> Mapping[str, Any]:
        """The ``[chains.<chain>.<chain_network>]`` table, empty if absent."""
        table = self.raw.get("chains", {}).get(chain, {}).get(chain_network, {})
        return MappingProxyType(dict(table)) if isinstance(table, Mapping) else MappingProxyType({})


def load_config(path: Path | str | None = None) -> Config:
    """Read the configuration file (a missing file is an empty configuration).

    Raises
    ------
    ConfigError
        If the file is not valid TOML or a known table is malformed.
    """
    path = Path(path) if path is not None else default_config_path()
    raw = _read_toml(path)
    networks = _builtin_networks()
    tables = raw.get("networks", {})
    if not isinstance(tables, Mapping):
        raise ConfigError(f"{path}: [networks] must be a table")
    for name, table in tables.items():
        networks[name] = _parse_network(path, name, table, networks.get(name))
    return Config(path, MappingProxyType(networks), MappingProxyType(raw))


def _read_toml(path: Path) -> dict[str, Any]:
    """The parsed file, ``{}`` when it does not exist."""
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None


def _parse_network(
    path: Path, name: str, table: Any, base: NearNetwork | None
) -> NearNetwork:
    where = f"{path}: [networks.{name}]"
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where} must be a table")
    if name == "dev":
        raise ConfigError(f"{where}: the dev network is built in and cannot be configured")
    unknown = set(table) - {"rpc_url", "contract_id", "credentials_dir", "family", "root_public_keys"}
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
    family = table.get("family", base.family if base else "local")
    if family not in NETWORK_FAMILIES:
        raise ConfigError(f"{where}: family must be one of {', '.join(NETWORK_FAMILIES)}")
    contract_id = table.get("contract_id", base.contract_id if base else None)
    rpc_url = table.get("rpc_url", base.rpc_url if base else None)
    if not isinstance(rpc_url, str) or not rpc_url:
        raise ConfigError(f"{where}: rpc_url is required")
    if not isinstance(contract_id, str):
        raise ConfigError(f"{where}: contract_id is required")
    try:
        validate_account_id(contract_id)
    except ValueError as exc:
        raise ConfigError(f"{where}: contract_id: {exc}") from None
    creds = table.get("credentials_dir")
    credentials_dir = Path(creds).expanduser() if creds else (base.credentials_dir if base else _default_credentials_dir())
    roots = dict(base.root_public_keys) if base else {}
    keys = table.get("root_public_keys", {})
    if not isinstance(keys, Mapping):
        raise ConfigError(f"{where}: root_public_keys must be a table")
    for domain, key in keys.items():
        domain_id = _domain_key(domain)
        if domain_id is None:
            raise ConfigError(
                f"{where}: root_public_keys.{domain}: a domain id is an integer 0 … {MAX_DOMAIN_ID}"
            )
        try:
            roots[domain_id] = PublicKey.from_near_string(key)
        except InvalidKeyError as exc:
            raise ConfigError(f"{where}: root_public_keys.{domain}: {exc}") from None
    if base is not None:
        return replace(
            base, family=family, rpc_url=rpc_url, contract_id=contract_id,
            credentials_dir=credentials_dir, root_public_keys=roots,
        )
    return NearNetwork(name, family, rpc_url, contract_id, credentials_dir, roots)


def _domain_key(text: str) -> int | None:
    """A ``root_public_keys`` key (TOML keys are strings) as a domain id, ``None`` if it is not
    one: decimal digits only, no sign or spaces, within u64."""
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value <= MAX_DOMAIN_ID else None


def register_network(
    name: str,
    *,
    rpc_url: str,
    contract_id: str,
    credentials_dir: Path | str,
    family: str = "local",
    root_public_keys: Mapping[int, PublicKey] | None = None,
    path: Path | str | None = None,
) -> Path:
    """Write (or replace) ``[networks.<name>]`` in the config file, keeping everything else.

    Used by ``chainsig devnet host``/``up``. Returns the file written.

    Raises
    ------
    ConfigError
        If the existing file is malformed or cannot be written.
    """
    table: dict[str, Any] = {
        "rpc_url": rpc_url,
        "contract_id": contract_id,
        "credentials_dir": str(credentials_dir),
        "family": family,
    }
    if root_public_keys:
        table["root_public_keys"] = {str(d): k.to_near_string() for d, k in sorted(root_public_keys.items())}

    def mutate(raw: dict[str, Any]) -> None:
        raw.setdefault("networks", {})[name] = table

    return update_config(mutate, path)


def register_chain_endpoints(
    endpoints: Mapping[str, Mapping[str, str]], path: Path | str | None = None
) -> Path:
    """Set ``[chains.<chain>.<chain_network>] rpc_url`` for each entry, keeping other settings.

    ``endpoints`` maps chain → chain network → RPC URL (``chainsig devnet up`` registers its
    local nodes this way).

    Raises
    ------
    ConfigError
    """

    def mutate(raw: dict[str, Any]) -> None:
        chains = raw.setdefault("chains", {})
        for chain, networks in endpoints.items():
            for chain_network, url in networks.items():
                chains.setdefault(chain, {}).setdefault(chain_network, {})["rpc_url"] = url

    return update_config(mutate, path)


def update_config(mutate: Callable[[dict[str, Any]], None], path: Path | str | None = None) -> Path:
    """Read the config file, apply ``mutate`` to its parsed content and write it back atomically.

    Raises
    ------
    ConfigError
        If the existing file is malformed or cannot be written.
    """
    import tomli_w

    target = Path(path) if path is not None else default_config_path()
    raw = _read_toml(target)
    mutate(raw)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
        tmp.write_text(tomli_w.dumps(raw), "utf-8")
        os.replace(tmp, target)
    except OSError as exc:
        raise ConfigError(f"cannot write config file {target}: {exc.strerror}") from None
    return target
