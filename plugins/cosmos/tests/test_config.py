"""Other Cosmos SDK chains from the config file, and malformed tables reported by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from chainsig_core import ChainEndpoint, TransferRequest, derive_address, sign_prepared
from chainsig_core.plugins import get_chain, get_chains, plugin_errors

OSMOSIS = """
[cosmos.chains.osmosis]
prefix = "osmo"
denom = "uosmo"
symbol = "OSMO"
decimals = 6
gas_price = "0.025"
gas_limit = 150000
[cosmos.chains.osmosis.networks.mainnet]
chain_id = "osmosis-1"
rest_url = "https://lcd.osmosis.zone"
[cosmos.chains.osmosis.networks.testnet]
chain_id = "osmo-test-5"
"""


@pytest.fixture
def only_cosmos(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINSIG_LOAD_PLUGINS", "cosmos")


def test_configured_chain(only_cosmos, chainsig_config: Path, chainsig_dev_signer) -> None:  # type: ignore[no-untyped-def]
    chainsig_config.write_text(OSMOSIS)
    osmosis = get_chain("osmosis")
    assert (osmosis.symbol, osmosis.decimals, osmosis.chain_networks) == ("OSMO", 6, ("mainnet", "testnet"))
    assert osmosis.default_chain_network("local") == "mainnet"  # no local network: the first one
    assert osmosis.default_rpc_urls == {"mainnet": "https://lcd.osmosis.zone"}
    hub = derive_address(chain="cosmos", account="alice.near", path="p", network="dev", chain_network="mainnet")
    osmo = derive_address(chain="osmosis", account="alice.near", path="p", network="dev", chain_network="mainnet")
    assert osmo.address.startswith("osmo1") and osmo.address[5:-6] == hub.address[7:-6]  # same key, other prefix
    request = TransferRequest(osmo.derived_account, osmo.address, "1uosmo", options={"account_number": 1, "sequence": 2})
    prepared = osmosis.prepare(request, "testnet", ChainEndpoint())
    assert prepared.summary["chain_id"] == "osmo-test-5" and prepared.summary["fee"] == "3750"
    assert prepared.summary["denom"] == "uosmo" and prepared.summary["base_units"] == "1"
    osmosis.finalize(prepared, sign_prepared(chainsig_dev_signer, prepared))


@pytest.mark.parametrize(("table", "message"), [
    ('[cosmos.chains.bad]\ndenom = "ubad"\nnetworks = { main = { chain_id = "b-1" } }', "prefix must be"),
    ('[cosmos.chains.bad]\nprefix = "bad"\ndenom = "u"\nnetworks = { main = { chain_id = "b-1" } }', "denom must be"),
    ('[cosmos.chains.bad]\nprefix = "bad"\ndenom = "ubad"', "networks must name"),
    ('[cosmos.chains.bad]\nprefix = "bad"\ndenom = "ubad"\ngas_price = "-1"\nnetworks = { main = { chain_id = "b-1" } }', "must not be negative"),
    ('[cosmos.chains.bad]\nprefix = "bad"\ndenom = "ubad"\nnetworks = { main = { rest_url = "x" } }', "needs a chain_id"),
    ('[cosmos.chains.bad]\nprefix = "bad"\ndenom = "ubad"\ncolour = 1\nnetworks = { main = { chain_id = "b" } }', "unknown keys"),
    ('[cosmos.chains.cosmos]\nprefix = "x"\ndenom = "ux1"\nnetworks = { main = { chain_id = "b" } }', "not 'cosmos'"),
    ('[cosmos]\nchains = 3', "must be a table"),
])
def test_bad_tables_reported_and_the_hub_still_works(only_cosmos, chainsig_config: Path, table: str, message: str) -> None:
    whole_table_bad = table.startswith("[cosmos]\n")
    chainsig_config.write_text(table if whole_table_bad else OSMOSIS + "\n" + table)
    chains = get_chains()
    assert "cosmos" in chains and "bad" not in chains
    assert ("osmosis" in chains) is not whole_table_bad
    errors = plugin_errors()
    assert len(errors) == 1 and message in errors[0] and errors[0].startswith("plugin 'cosmos'")
