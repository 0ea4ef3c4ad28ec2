"""What distinguishes one Cosmos SDK chain from another: prefix, denom, chain ids, endpoints.

Cosmos Hub is built in. Other Cosmos SDK chains come from the config file::

    [cosmos.chains.osmosis]
    prefix = "osmo"
    denom = "uosmo"
    symbol = "OSMO"
    decimals = 6
    gas_price = "0.025"            # fee per unit of gas, in base units (decimal string)
    gas_limit = 200000
    [cosmos.chains.osmosis.networks.mainnet]
    chain_id = "osmosis-1"
    rest_url = "https://lcd.osmosis.zone"

Per chain network, core's ``[chains.<chain>.<network>]`` table may override ``rpc_url`` (the
REST URL), ``chain_id`` and ``gas_price``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from chainsig_core import ConfigError

_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
_PREFIX = re.compile(r"[a-z][a-z0-9]{0,82}")
_DENOM = re.compile(r"[a-zA-Z][a-zA-Z0-9/:._-]{2,127}")  # the SDK's coin denom rule


@dataclass(frozen=True)
class CosmosNetwork:
    """One network of a Cosmos SDK chain."""

    chain_id: str
    rest_url: str | None = None


@dataclass(frozen=True)
class CosmosSpec:
    """A Cosmos SDK chain as chainsig sees it."""

    name: str
    prefix: str
    denom: str
    symbol: str
    decimals: int
    networks: Mapping[str, CosmosNetwork]
    gas_price: Fraction = Fraction(5, 1000)
    gas_limit: int = 200_000
    defaults: Mapping[str, str] = field(default_factory=dict)

    def default_network(self, family: str) -> str:
        """The chain network for a NEAR network family."""
        if family in self.defaults:
            return self.defaults[family]
        return family if family in self.networks else next(iter(self.networks))


COSMOS_HUB = CosmosSpec(
    name="cosmos",
    prefix="cosmos",
    denom="uatom",
    symbol="ATOM",
    decimals=6,
    networks={
        "mainnet": CosmosNetwork("cosmoshub-4", "https://cosmos-rest.publicnode.com"),
        # The Interchain Security public testnet that stands in for the Hub's testnet.
        "testnet": CosmosNetwork("provider", "https://rest.provider-sentry-01.ics-testnet.polypore.xyz"),
        # A local gaiad (``gaiad start`` serves REST on 1317 when api.enable = true).
        "local": CosmosNetwork("localcosmos", "http://127.0.0.1:1317"),
    },
    gas_price=Fraction(5, 1000),  # the Hub's minimum gas price, 0.005uatom
)


def parse_gas_price(value: object, where: str) -> Fraction:
    """A non-negative decimal string (or integer) of base units per gas, exactly.

    Raises
    ------
    ConfigError
    """
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ConfigError(f"{where}: gas_price must be a decimal string such as \"0.005\"")
    try:
        price = Fraction(str(value).strip())
    except (ValueError, ZeroDivisionError):
        raise ConfigError(f"{where}: gas_price {value!r} is not a decimal number") from None
    if price < 0:
        raise ConfigError(f"{where}: gas_price must not be negative")
    return price


def specs_from_config(config: Mapping[str, Any]) -> tuple[list[CosmosSpec], list[str]]:
    """The Cosmos SDK chains defined in ``[cosmos.chains.*]``, and one message per bad one."""
    table = config.get("cosmos", {})
    chains = table.get("chains", {}) if isinstance(table, Mapping) else None
    if not isinstance(chains, Mapping):
        return [], ["[cosmos.chains] must be a table"]
    specs: list[CosmosSpec] = []
    errors: list[str] = []
    for name, entry in chains.items():
        try:
            specs.append(_parse_chain(name, entry))
        except ConfigError as exc:
            errors.append(str(exc))
    return specs, errors


def _parse_chain(name: str, entry: Any) -> CosmosSpec:
    where = f"[cosmos.chains.{name}]"
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where} must be a table")
    if not _NAME.fullmatch(name) or name == COSMOS_HUB.name:
        raise ConfigError(f"{where}: chain name must be lowercase letters, digits, '-' and not 'cosmos'")
    unknown = set(entry) - {"prefix", "denom", "symbol", "decimals", "gas_price", "gas_limit", "networks", "default_networks"}
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
    prefix, denom = entry.get("prefix"), entry.get("denom")
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
        raise ConfigError(f"{where}: prefix must be a lowercase bech32 prefix such as \"osmo\"")
    if not isinstance(denom, str) or not _DENOM.fullmatch(denom):
        raise ConfigError(f"{where}: denom must be a Cosmos coin denom such as \"uosmo\"")
    decimals = entry.get("decimals", 6)
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 36:
        raise ConfigError(f"{where}: decimals must be an integer 0–36")
    gas_limit = entry.get("gas_limit", 200_000)
    if isinstance(gas_limit, bool) or not isinstance(gas_limit, int) or gas_limit <= 0:
        raise ConfigError(f"{where}: gas_limit must be a positive integer")
    networks = entry.get("networks")
    if not isinstance(networks, Mapping) or not networks:
        raise ConfigError(f"{where}: networks must name at least one network with its chain_id")
    parsed: dict[str, CosmosNetwork] = {}
    for net, values in networks.items():
        if not isinstance(values, Mapping) or not isinstance(values.get("chain_id"), str) or not values["chain_id"]:
            raise ConfigError(f"{where}: networks.{net} needs a chain_id string")
        rest = values.get("rest_url")
        if rest is not None and not (isinstance(rest, str) and rest.startswith(("http://", "https://"))):
            raise ConfigError(f"{where}: networks.{net}.rest_url must be an http(s) URL")
        parsed[str(net)] = CosmosNetwork(values["chain_id"], rest)
    defaults = entry.get("default_networks", {})
    if not isinstance(defaults, Mapping) or any(v not in parsed for v in defaults.values()):
        raise ConfigError(f"{where}: default_networks must map mainnet/testnet/local to its networks")
    return CosmosSpec(
        name=name, prefix=prefix, denom=denom, symbol=str(entry.get("symbol") or denom.upper()),
        decimals=decimals, networks=parsed,
        gas_price=parse_gas_price(entry.get("gas_price", "0"), where), gas_limit=gas_limit,
        defaults=dict(defaults),
    )
