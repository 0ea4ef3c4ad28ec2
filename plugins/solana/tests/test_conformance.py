"""Solana passes chainsig's conformance suite: offline (``--blockhash``) on every chain network,
and online against the LiteSVM-backed local RPC."""

from __future__ import annotations

from typing import Any

import pytest

from chainsig_core import ChainEndpoint, DerivedAccount
from chainsig_core.testing import ChainConformanceTests

RECIPIENT = "GLLMegupbxhukwpfExph4xU2yRRyJJeeHf7kGkEE32mE"  # example.near's ethereum-1 key (vectors)
BLOCKHASH = "CmpNeggWJ4JaWJeJ8YKN1Zypmk7uvQq3PECGUCAEMbky"
NETWORKS = ("mainnet-beta", "devnet", "testnet", "local")
TOO_LONG = RECIPIENT + "1"  # 33 bytes once decoded


class TestSolanaConformanceOffline(ChainConformanceTests):
    chain_name = "solana"
    recipients = {n: RECIPIENT for n in NETWORKS}
    prepare_options = {n: {"blockhash": BLOCKHASH} for n in NETWORKS}
    bad_addresses = {n: (TOO_LONG, RECIPIENT[:-3], "0x" + "ab" * 20, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4") for n in NETWORKS}


class TestSolanaConformanceOnline(ChainConformanceTests):
    chain_name = "solana"
    recipients = {"local": RECIPIENT}
    amount = "0.25"

    @pytest.fixture
    def conformance_endpoint(self, local_rpc: Any, conformance_sender: DerivedAccount, conformance_chain: Any) -> ChainEndpoint:
        from solders.pubkey import Pubkey

        address = conformance_chain.address(conformance_sender.public_key, "local")
        local_rpc.node.airdrop(Pubkey.from_string(address), 10**9)
        return ChainEndpoint(local_rpc.url)
