"""Cosmos passes chainsig's conformance suite: offline (fixed account number and sequence) on
every network, and online against the local REST stand-in."""

from __future__ import annotations

from typing import Any

import pytest

from chainsig_core import ChainEndpoint, DerivedAccount
from chainsig_core.testing import ChainConformanceTests

RECIPIENT = "cosmos1w508d6qejxtdg4y5r3zarvary0c5xw7k6ah60c"  # hash160 of the key 1·G


class TestCosmosConformanceOffline(ChainConformanceTests):
    chain_name = "cosmos"
    recipients = {"mainnet": RECIPIENT, "testnet": RECIPIENT, "local": RECIPIENT}
    prepare_options = {n: {"account_number": 7, "sequence": 12} for n in recipients}
    bad_addresses = {
        "mainnet": (
            RECIPIENT[:-1] + "x",  # checksum broken
            "osmo1w508d6qejxtdg4y5r3zarvary0c5xw7kjxy2e2",  # another chain's prefix
            RECIPIENT[:-1] + RECIPIENT[-1].upper(),  # mixed case
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",  # a Bitcoin address
        ),
    }


class TestCosmosConformanceOnline(ChainConformanceTests):
    chain_name = "cosmos"
    recipients = {"local": RECIPIENT}
    amount = "1.25"

    @pytest.fixture
    def conformance_endpoint(self, cosmos_node: Any, conformance_sender: DerivedAccount, conformance_chain: Any) -> ChainEndpoint:
        cosmos_node.fund(conformance_chain.address(conformance_sender.public_key, "local"), 10**7)
        return ChainEndpoint(cosmos_node.url)
