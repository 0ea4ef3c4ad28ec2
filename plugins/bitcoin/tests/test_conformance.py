"""chainsig's standard chain-plugin checks (chainsig_core.testing.ChainConformanceTests)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from chainsig_core.testing import ChainConformanceTests
from chainsig_core.types import DerivedAccount


class TestBitcoinConformance(ChainConformanceTests):
    chain_name = "bitcoin"
    amount = "0.001"
    recipients = {
        "mainnet": "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
        "testnet": "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
        "signet": "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn",
        "regtest": "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080",
    }
    bad_addresses = {
        "mainnet": ("tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5"),
        "testnet": ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"),
        "signet": ("bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080",),
        "regtest": ("tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx",),
    }

    @pytest.fixture
    def conformance_options(
        self, conformance_chain_network: str, conformance_sender: DerivedAccount, tmp_path: Path
    ) -> Mapping[str, Any]:
        """Offline: a UTXO file with two outputs of the sender and a fixed fee rate."""
        path = tmp_path / "utxos.json"
        path.write_text(json.dumps([
            {"txid": "a1" * 32, "vout": 0, "value": 80_000},
            {"txid": "b2" * 32, "vout": 1, "value": 60_000},
        ]))
        return {"utxos": str(path), "fee_rate": "3"}
