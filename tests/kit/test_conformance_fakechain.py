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


class TestFakeChainConformance(_FakeChainBase):
    chain_name = "fakechain"
    recipients = {"local": "local1" + "ab" * 20, "test": "test1" + "cd" * 32}


class TestFakeEdChainConformance(_FakeChainBase):
    chain_name = "fakechain-ed"
    recipients = {"local": "local1" + "ef" * 20}
    amount = "1.5"
