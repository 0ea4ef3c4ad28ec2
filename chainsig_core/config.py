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

Every table is validated when the file is read (:func:`load_config`): wrong types, unknown
keys and unknown top-level tables are one :class:`ConfigError` naming the file and the table.
Top-level keys are ``networks``, ``chains`` and one table per installed plugin (``[evm]``,
``[cosmos]``); chain settings are :data:`CHAIN_SETTING_KEYS` plus what a chain declares.

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
from .errors import ConfigError, InvalidInputError, InvalidKeyError, UnknownNameError
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
        """The ``[chains.<chain>.<chain_network>]`` table, empty if absent (:func:`load_config`
        has validated it)."""
        table: Any = self.raw.get("chains", {})
        for key in (chain, chain_network):
            table = table.get(key, {}) if isinstance(table, Mapping) else {}
        return MappingProxyType(dict(table)) if isinstance(table, Mapping) else MappingProxyType({})


def load_config(path: Path | str | None = None, *, check_declared_keys: bool = True) -> Config:
    """Read and validate the configuration file (a missing file is an empty configuration).

    Every table chainsig reads is checked here: ``[networks.*]``, ``[chains.<chain>.<chain
    network>]`` (types of known keys, unknown keys) and the top-level keys.

    Parameters
    ----------
    path:
        The file; default :func:`default_config_path`.
    check_declared_keys:
        Ask the installed chains about a ``[chains.*.*]`` key outside
        :data:`CHAIN_SETTING_KEYS` (their ``settings_keys``; this loads the plugins). Plugin
        loading itself reads the config with ``False``: such keys are then not judged.

    Raises
    ------
    ConfigError
        One line naming the file and the table or key: the file is not valid TOML, cannot be
        read (a directory, no permission), or a table is malformed.
    """
    path = Path(path) if path is not None else default_config_path()
    raw = _read_toml(path)
    _check_top_level(path, raw)
    networks = _builtin_networks()
    tables = raw.get("networks", {})
    if not isinstance(tables, Mapping):
        raise ConfigError(f"{path}: [networks] must be a table of NEAR networks")
    for name, table in tables.items():
        networks[name] = _parse_network(path, name, table, networks.get(name))
    _check_chain_tables(path, raw.get("chains", {}), strict=check_declared_keys)
    return Config(path, MappingProxyType(networks), MappingProxyType(raw))


def _read_toml(path: Path) -> dict[str, Any]:
    """The parsed file, ``{}`` when it does not exist.

    Raises
    ------
    ConfigError
        Not valid TOML or UTF-8, a directory, or unreadable.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except IsADirectoryError:
        raise ConfigError(
            f"config file {path} is a directory ({CONFIG_ENV} must name a TOML file)"
        ) from None
    except NotADirectoryError:
        raise ConfigError(f"cannot read config file {path}: a parent of it is not a directory") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


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
    if not isinstance(family, str) or family not in NETWORK_FAMILIES:
        raise ConfigError(f"{where}: family must be one of {', '.join(NETWORK_FAMILIES)}")
    if "rpc_url" in table:
        _check_url(where, table["rpc_url"])
    if "contract_id" in table and not isinstance(table["contract_id"], str):
        raise ConfigError(f"{where}: contract_id must be a string NEAR account id")
    contract_id = table.get("contract_id", base.contract_id if base else None)
    rpc_url = table.get("rpc_url", base.rpc_url if base else None)
    if rpc_url is None:
        raise ConfigError(f"{where}: rpc_url is required")
    if contract_id is None:
        raise ConfigError(f"{where}: contract_id is required")
    try:
        validate_account_id(contract_id)
    except ValueError as exc:
        raise ConfigError(f"{where}: contract_id: {exc}") from None
    creds = table.get("credentials_dir")
    if creds is not None and (not isinstance(creds, str) or not creds.strip()):
        raise ConfigError(f"{where}: credentials_dir must be a string path")
    if creds:
        credentials_dir = Path(creds).expanduser()
    else:
        credentials_dir = base.credentials_dir if base else _default_credentials_dir()
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


def _check_url(where: str, value: Any, key: str = "rpc_url") -> None:
    """Refuse an ``rpc_url`` that is not an ``http(s)://host`` URL string (a NEAR network's or
    a chain's). Its value is never echoed: a provider URL may carry an API key.
    """
    from .urls import check_http_url

    if not isinstance(value, str) or not value.strip():
        got = f"not {_toml_type(value)}" if not isinstance(value, str) else "not an empty string"
        raise ConfigError(f'{where}: {key} must be a string URL such as "https://rpc.example", {got}')
    try:
        check_http_url(value, key)
    except InvalidInputError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _toml_type(value: Any) -> str:
    """The TOML name of ``value``'s type, for messages."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return "a date/time"


def _is_string(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _is_seconds(value: Any) -> bool:
    return (
        not isinstance(value, bool) and isinstance(value, int | float) and 0 <= value < float("inf")
    )


def _is_count(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and value >= 0


def _is_chain_id(value: Any) -> bool:
    return (not isinstance(value, bool) and isinstance(value, int) and value > 0) or _is_string(value)


def _is_exact_number(value: Any) -> bool:
    # Fee and gas prices are money: a decimal string or an integer, never a float.
    return (not isinstance(value, bool) and isinstance(value, int)) or _is_string(value)


#: Keys a ``[chains.<chain>.<chain network>]`` table may hold: what chainsig's own chains read
#: (``grep settings`` in plugins/*), with what each value must be. A plugin reading other keys
#: declares them as ``settings_keys`` on its Chain class; the plugin checks the values' ranges.
CHAIN_SETTING_KEYS: Mapping[str, tuple[Callable[[Any], bool], str]] = MappingProxyType({
    "rpc_url": (lambda v: True, "an http(s) URL string"),  # checked by _check_url
    "chain_id": (_is_chain_id, "a positive integer (EVM) or a string (Cosmos)"),
    "timeout": (_is_seconds, "a number of seconds"),
    "retries": (_is_count, "a whole number ≥ 0"),
    "receipt_timeout": (_is_seconds, "a number of seconds"),
    "confirm_timeout": (_is_seconds, "a number of seconds"),
    "poll_interval": (_is_seconds, "a number of seconds"),
    "gas_price": (_is_exact_number, 'a decimal string such as "0.005" or an integer'),
    "backend": (_is_string, 'a string ("esplora" or "core")'),
    "rpc_user": (_is_string, "a string"),
    "rpc_password": (_is_string, "a string"),
    "rpc_cookie_file": (_is_string, "a string path"),
    "utxo_source": (_is_string, 'a string ("scantxoutset" or "listunspent")'),
    "min_relay_fee_rate": (_is_exact_number, 'a number of sat/vB as a string ("1.5") or an integer'),
    "max_fee_rate": (_is_exact_number, 'a number of sat/vB as a string ("1.5") or an integer'),
})

#: Top-level keys chainsig itself reads; besides these, a table may be named after any
#: installed plugin (``[evm]``, ``[cosmos]``: the plugin reads it).
CORE_TOP_LEVEL_KEYS = ("networks", "chains")


def _check_top_level(path: Path, raw: Mapping[str, Any]) -> None:
    unknown = set(raw) - set(CORE_TOP_LEVEL_KEYS)
    if not unknown:
        return
    from .plugins import installed_plugin_names

    installed = installed_plugin_names()
    unknown -= set(installed)
    if unknown:
        known = ", ".join([*CORE_TOP_LEVEL_KEYS, *(f"{name} (plugin)" for name in installed)])
        raise ConfigError(f"{path}: unknown top-level keys {sorted(unknown)} (known: {known})")


def _check_chain_tables(path: Path, chains: Any, *, strict: bool) -> None:
    """Validate ``[chains]``: chain → chain network → settings (see :data:`CHAIN_SETTING_KEYS`).

    With ``strict``, a key outside :data:`CHAIN_SETTING_KEYS` is checked against the
    ``settings_keys`` the chain declares (this loads the plugins, and only happens then).
    """
    if not isinstance(chains, Mapping):
        raise ConfigError(
            f"{path}: [chains] must be a table of chains ([chains.<chain>.<chain network>]), "
            f"not {_toml_type(chains)}"
        )
    for chain, networks in chains.items():
        if not isinstance(networks, Mapping):
            raise ConfigError(
                f"{path}: [chains.{chain}] must be a table of chain networks "
                f"([chains.{chain}.<chain network>]), not {_toml_type(networks)}"
            )
        for chain_network, table in networks.items():
            where = f"{path}: [chains.{chain}.{chain_network}]"
            if not isinstance(table, Mapping):
                raise ConfigError(
                    f"{where} must be a table of settings (rpc_url = …), not {_toml_type(table)}"
                )
            unknown = sorted(set(table) - set(CHAIN_SETTING_KEYS))
            if unknown and strict:
                unknown = [key for key in unknown if key not in _declared_setting_keys(chain)]
            if unknown and strict:
                raise ConfigError(
                    f"{where}: unknown keys {unknown} (known: {', '.join(_known_keys(chain))})"
                )
            for key, value in table.items():
                if key == "rpc_url":
                    _check_url(where, value)
                elif key in CHAIN_SETTING_KEYS:
                    check, must_be = CHAIN_SETTING_KEYS[key]
                    if not check(value):
                        got = "" if _type_accepted(check, value) else f", not {_toml_type(value)}"
                        raise ConfigError(f"{where}: {key} must be {must_be}{got}")


def _type_accepted(check: Callable[[Any], bool], value: Any) -> bool:
    """Whether ``check`` takes values of ``value``'s type (so ``value`` failed on its range and
    the message need not say "not an integer")."""
    if not isinstance(value, bool | int | float | str):
        return False
    return check(type(value)(1))


def _declared_setting_keys(chain: str) -> frozenset[str]:
    """The extra setting keys chain ``chain`` declares (empty when it is not installed)."""
    from .plugins import get_chains

    declared = getattr(get_chains().get(chain), "settings_keys", ())
    try:
        return frozenset(k for k in declared if isinstance(k, str))
    except TypeError:  # a plugin declared something that is not a collection of names
        return frozenset()


def _known_keys(chain: str) -> list[str]:
    return sorted(set(CHAIN_SETTING_KEYS) | _declared_setting_keys(chain))


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
        _subtable(raw, "networks", "[networks]")[name] = table

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
        chains = _subtable(raw, "chains", "[chains]")
        for chain, networks in endpoints.items():
            for chain_network, url in networks.items():
                table = _subtable(_subtable(chains, chain, f"[chains.{chain}]"), chain_network,
                                  f"[chains.{chain}.{chain_network}]")
                table["rpc_url"] = url

    return update_config(mutate, path)


def _subtable(parent: dict[str, Any], key: str, name: str) -> dict[str, Any]:
    """``parent[key]``, created empty if absent.

    Raises
    ------
    ConfigError
        If the file holds something other than a table there.
    """
    table = parent.setdefault(key, {})
    if not isinstance(table, dict):
        raise ConfigError(f"cannot update {name}: the file holds {_toml_type(table)} there, not a table")
    return table


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
    try:
        mutate(raw)
    except ConfigError as exc:
        raise ConfigError(f"{target}: {exc}") from None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
        tmp.write_text(tomli_w.dumps(raw), "utf-8")
        os.replace(tmp, target)
    except OSError as exc:
        raise ConfigError(f"cannot write config file {target}: {exc.strerror}") from None
    return target
