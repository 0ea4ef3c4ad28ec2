"""Which EVM chains exist: the built-in Ethereum and Base, and custom chains from the config.

A custom chain is a table of the config file (see docs/evm.md)::

    [evm.chains.polygon]
    symbol = "POL"                 # native asset (default "ETH")
    decimals = 18                  # its decimals (default 18)
    default_chain_networks = { mainnet = "mainnet", testnet = "amoy", local = "local" }

    [evm.chains.polygon.networks.mainnet]
    chain_id = 137
    rpc_url = "https://polygon.example"      # optional default; [chains.polygon.mainnet] wins

    [evm.chains.polygon.networks.amoy]
    chain_id = 80002

Every chain also has the chain network ``local`` (an anvil or other dev node) whose chain id is
whatever the node reports, unless the config gives one. RPC URLs are data: the public defaults
below are used only when the config names none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from chainsig_core.errors import ConfigError

LOCAL = "local"
LOCAL_RPC_URL = "http://127.0.0.1:8545"
_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")


@dataclass(frozen=True)
class EvmChainSpec:
    """The facts of one EVM chain.

    Parameters
    ----------
    name:
        The ``--chain`` name.
    chain_ids:
        Chain id per chain network; ``None`` means "ask the node" (``local``).
    symbol, decimals:
        The native asset.
    default_chain_networks:
        Chain network per NEAR network family (``mainnet``/``testnet``/``local``).
    default_rpc_urls:
        Public endpoints per chain network, used when the config names none.
    """

    name: str
    chain_ids: Mapping[str, int | None]
    symbol: str = "ETH"
    decimals: int = 18
    default_chain_networks: Mapping[str, str] = field(default_factory=dict)
    default_rpc_urls: Mapping[str, str] = field(default_factory=dict)


ETHEREUM = EvmChainSpec(
    name="ethereum",
    chain_ids=MappingProxyType({"mainnet": 1, "sepolia": 11155111, LOCAL: None}),
    default_chain_networks=MappingProxyType({"mainnet": "mainnet", "testnet": "sepolia", "local": LOCAL}),
    default_rpc_urls=MappingProxyType({
        "mainnet": "https://ethereum-rpc.publicnode.com",
        "sepolia": "https://ethereum-sepolia-rpc.publicnode.com",
        LOCAL: LOCAL_RPC_URL,
    }),
)

BASE = EvmChainSpec(
    name="base",
    chain_ids=MappingProxyType({"mainnet": 8453, "sepolia": 84532, LOCAL: None}),
    default_chain_networks=MappingProxyType({"mainnet": "mainnet", "testnet": "sepolia", "local": LOCAL}),
    default_rpc_urls=MappingProxyType({
        "mainnet": "https://mainnet.base.org",
        "sepolia": "https://sepolia.base.org",
        LOCAL: LOCAL_RPC_URL,
    }),
)

BUILTIN_CHAINS = (ETHEREUM, BASE)


def custom_chain_specs(config: Mapping[str, Any]) -> tuple[list[EvmChainSpec], list[str]]:
    """Parse ``[evm.chains.*]`` of the config.

    Returns
    -------
    (specs, errors)
        The well-formed chains, and one message per malformed one (a bad table must not hide
        the good ones, nor Ethereum and Base).
    """
    evm = config.get("evm", {})
    if not isinstance(evm, Mapping):
        return [], ["config: [evm] must be a table"]
    tables = evm.get("chains", {})
    if not isinstance(tables, Mapping):
        return [], ["config: [evm.chains] must be a table"]
    specs: list[EvmChainSpec] = []
    errors: list[str] = []
    for name, table in tables.items():
        try:
            specs.append(parse_chain_table(name, table))
        except ConfigError as exc:
            errors.append(str(exc))
    return specs, errors


def parse_chain_table(name: str, table: Any) -> EvmChainSpec:
    """One ``[evm.chains.<name>]`` table.

    Raises
    ------
    ConfigError
        Naming the table and what is wrong with it.
    """
    where = f"config [evm.chains.{name}]"
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where} must be a table")
    if not _NAME.fullmatch(name):
        raise ConfigError(f"{where}: a chain name is lowercase letters, digits and '-'")
    if name in {spec.name for spec in BUILTIN_CHAINS}:
        raise ConfigError(
            f"{where}: {name} is built in; set its RPC URLs under [chains.{name}.<chain network>]"
        )
    unknown = set(table) - {"symbol", "decimals", "networks", "default_chain_networks"}
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
    symbol = table.get("symbol", "ETH")
    if not isinstance(symbol, str) or not symbol.strip():
        raise ConfigError(f"{where}: symbol must be a non-empty string")
    decimals = table.get("decimals", 18)
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 36:
        raise ConfigError(f"{where}: decimals must be an integer 0–36")
    networks = table.get("networks")
    if not isinstance(networks, Mapping) or not networks:
        raise ConfigError(f"{where}: needs at least one [evm.chains.{name}.networks.<name>] table")
    chain_ids: dict[str, int | None] = {}
    rpc_urls: dict[str, str] = {}
    for net_name, net in networks.items():
        net_where = f"config [evm.chains.{name}.networks.{net_name}]"
        if not isinstance(net, Mapping):
            raise ConfigError(f"{net_where} must be a table")
        if not _NAME.fullmatch(net_name):
            raise ConfigError(f"{net_where}: a chain network name is lowercase letters, digits and '-'")
        extra = set(net) - {"chain_id", "rpc_url"}
        if extra:
            raise ConfigError(f"{net_where}: unknown keys {sorted(extra)}")
        chain_id = net.get("chain_id")
        if chain_id is None and net_name != LOCAL:
            raise ConfigError(f"{net_where}: chain_id is required (only '{LOCAL}' may ask the node)")
        if chain_id is not None and (
            isinstance(chain_id, bool) or not isinstance(chain_id, int) or not 0 < chain_id < 2**64
        ):
            raise ConfigError(f"{net_where}: chain_id must be a positive integer")
        chain_ids[net_name] = chain_id
        url = net.get("rpc_url")
        if url is not None:
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise ConfigError(f"{net_where}: rpc_url must be an http(s) URL")
            rpc_urls[net_name] = url
    chain_ids.setdefault(LOCAL, None)
    rpc_urls.setdefault(LOCAL, LOCAL_RPC_URL)
    defaults = _default_networks(list(chain_ids))
    given = table.get("default_chain_networks", {})
    if not isinstance(given, Mapping):
        raise ConfigError(f"{where}: default_chain_networks must be a table")
    for family, net_name in given.items():
        if family not in ("mainnet", "testnet", "local"):
            raise ConfigError(f"{where}: default_chain_networks keys are mainnet, testnet, local")
        if net_name not in chain_ids:
            raise ConfigError(f"{where}: default_chain_networks.{family} = {net_name!r} is not one of its networks")
        defaults[family] = net_name
    return EvmChainSpec(
        name=name,
        chain_ids=MappingProxyType(chain_ids),
        symbol=symbol.strip(),
        decimals=decimals,
        default_chain_networks=MappingProxyType(defaults),
        default_rpc_urls=MappingProxyType(rpc_urls),
    )


def _default_networks(names: list[str]) -> dict[str, str]:
    """mainnet → ``mainnet`` if declared, else the first; testnet → the first that is neither
    ``mainnet`` nor ``local``; local → ``local``."""
    first = names[0]
    testnets = [n for n in names if n not in ("mainnet", LOCAL)]
    return {
        "mainnet": "mainnet" if "mainnet" in names else first,
        "testnet": testnets[0] if testnets else first,
        "local": LOCAL,
    }
