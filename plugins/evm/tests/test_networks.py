"""Chains and chain networks: built-in ethereum/base and custom EVM chains from the config."""

from __future__ import annotations

import pytest

from chainsig_core import ChainEndpoint, ConfigError, TransferRequest, derive_address
from chainsig_core.plugins import get_chain, get_chains, plugin_errors
from chainsig_evm.networks import parse_chain_table

RECIPIENT = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
POLYGON = """
[evm.chains.polygon]
symbol = "POL"

[evm.chains.polygon.networks.mainnet]
chain_id = 137
rpc_url = "https://polygon.example"

[evm.chains.polygon.networks.amoy]
chain_id = 80002
"""


def test_builtin_chains(chainsig_config) -> None:
    for name, ids in {"ethereum": (1, 11155111), "base": (8453, 84532)}.items():
        chain = get_chain(name)
        assert chain.chain_networks == ("mainnet", "sepolia", "local")
        assert dict(chain.chain_ids) == {"mainnet": ids[0], "sepolia": ids[1], "local": None}
        assert chain.default_chain_network("mainnet") == "mainnet"
        assert chain.default_chain_network("testnet") == "sepolia"
        assert chain.default_chain_network("local") == "local"
        assert (chain.symbol, chain.decimals, chain.base_unit, chain.domain_id) == ("ETH", 18, "wei", 0)


def test_derive_defaults_follow_the_near_network(chainsig_config) -> None:
    assert derive_address(chain="base", account="a.near", path="p", network="mainnet").chain_network == "mainnet"
    assert derive_address(chain="base", account="a.testnet", path="p", network="testnet").chain_network == "sepolia"
    assert derive_address(chain="base", account="a.near", path="p", network="dev").chain_network == "local"


def test_custom_chain_from_config(chainsig_config) -> None:
    chainsig_config.write_text(POLYGON)
    polygon = get_chain("polygon")
    assert polygon.chain_networks == ("mainnet", "amoy", "local")
    assert (polygon.symbol, polygon.decimals) == ("POL", 18)
    assert polygon.default_chain_network("testnet") == "amoy"
    assert polygon.default_rpc_urls["mainnet"] == "https://polygon.example"
    derived = derive_address(chain="polygon", account="dev.near", path="p", network="dev", chain_network="amoy")
    assert derived.address == derive_address(chain="ethereum", account="dev.near", path="p", network="dev").address
    options = {"nonce": 1, "gas": 21000, "max_fee": "50", "priority_fee": "30"}
    prepared = polygon.prepare(TransferRequest(derived.derived_account, RECIPIENT, "1.5 POL", options=options), "amoy", ChainEndpoint())
    assert prepared.tx["chainId"] == 80002 and prepared.tx["value"] == 15 * 10**17
    assert prepared.summary["symbol"] == "POL"


def test_config_rpc_url_wins_over_the_chain_table(chainsig_config) -> None:
    from chainsig_core.flow import chain_endpoint

    chainsig_config.write_text(POLYGON + '\n[chains.polygon.mainnet]\nrpc_url = "https://mine.example"\n')
    assert chain_endpoint(get_chain("polygon"), "mainnet").url == "https://mine.example"
    assert chain_endpoint(get_chain("polygon"), "amoy").url is None


def test_malformed_custom_chain_is_reported_and_others_survive(chainsig_config) -> None:
    chainsig_config.write_text(POLYGON + "\n[evm.chains.broken]\nsymbol = 3\n\n[evm.chains.base]\nsymbol = 'X'\n")
    chains = get_chains()
    assert {"ethereum", "base", "polygon"} <= set(chains) and "broken" not in chains
    errors = " ".join(plugin_errors())
    assert "evm.chains.broken" in errors and "built in" in errors


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"networks": {}}, "at least one"),
        ({"networks": {"main": {}}}, "chain_id is required"),
        ({"networks": {"main": {"chain_id": -1}}}, "positive"),
        ({"networks": {"main": {"chain_id": 5, "rpc_url": "ftp://x"}}}, "http"),
        ({"networks": {"main": {"chain_id": 5}}, "decimals": 99}, "decimals"),
        ({"networks": {"main": {"chain_id": 5}}, "colour": "red"}, "unknown keys"),
        ({"networks": {"main": {"chain_id": 5}}, "default_chain_networks": {"testnet": "nope"}}, "not one of"),
    ],
)
def test_bad_chain_tables(table, message) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_chain_table("mychain", table)


def test_local_network_may_name_its_chain_id() -> None:
    spec = parse_chain_table("dev-chain", {"networks": {"local": {"chain_id": 1337}}})
    assert dict(spec.chain_ids) == {"local": 1337}
    assert spec.default_chain_networks == {"mainnet": "local", "testnet": "local", "local": "local"}
