"""The conformance suite run against core's fake chain plugin (both curves)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chainsig_core import Chain
from chainsig_core.testing import ChainConformanceTests


class _FakeChainBase(ChainConformanceTests):
    prepare_options = {"local": {"nonce": 7}, "test": {"nonce": 0}}
    bad_addresses = {
        "local": ("local1" + "0" * 39, "local1" + "0" * 41, "main1" + "0" * 40),
        "test": ("local1" + "0" * 40,),
    }

    @pytest.fixture
    def conformance_chain(self, fake_plugin: Path) -> Chain:
        from chainsig_core.plugins import get_chain

        return get_chain(self.chain_name)

    # The fake chain (tests/core/fake_plugin) neither checks the key's curve nor the chain
    # network in address(); the suite must catch that. These overrides assert it does.
    def test_address_refuses_key_of_other_curve(self, conformance_chain, conformance_signer) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(AssertionError, match="expected InvalidKeyError"):
            super().test_address_refuses_key_of_other_curve(conformance_chain, conformance_signer)

    def test_address_refuses_unknown_chain_network(self, conformance_chain, conformance_signer) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(AssertionError, match="expected UnknownNameError"):
            super().test_address_refuses_unknown_chain_network(conformance_chain, conformance_signer)


class TestFakeChainConformance(_FakeChainBase):
    chain_name = "fakechain"
    recipients = {"local": "local1" + "ab" * 20, "test": "test1" + "cd" * 32}


class TestFakeEdChainConformance(_FakeChainBase):
    chain_name = "fakechain-ed"
    recipients = {"local": "local1" + "ef" * 20}
    amount = "1.5"
