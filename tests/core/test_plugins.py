"""Plugin loading through real entry points, filters, failures reported by name."""

from __future__ import annotations

import pytest

from chainsig_core import Chain, hookimpl, plugins
from chainsig_core.errors import UnknownNameError

from .conftest import HERE


def test_fake_plugin_loads_through_entry_point(fake_plugin):
    chains = plugins.get_chains()
    assert set(chains) == {"fakechain", "fakechain-ed"}
    (info,) = plugins.plugins()
    assert info.name == "fakechain" and info.distribution == "chainsig-fakechain" and info.error is None


def test_block_plugins(fake_plugin, monkeypatch):
    monkeypatch.delenv("CHAINSIG_LOAD_PLUGINS")
    monkeypatch.setenv("CHAINSIG_BLOCK_PLUGINS", "fakechain, evm")
    plugins.reset()
    assert "fakechain" not in plugins.get_chains()


def test_load_plugins_empty_loads_none(fake_plugin, monkeypatch):
    monkeypatch.setenv("CHAINSIG_LOAD_PLUGINS", "")
    plugins.reset()
    assert plugins.get_chains() == {}


def test_broken_plugin_is_reported_by_name(fake_plugin, monkeypatch):
    monkeypatch.syspath_prepend(str(HERE / "broken_plugin"))
    monkeypatch.setenv("CHAINSIG_LOAD_PLUGINS", "fakechain,broken")
    plugins.reset()
    assert "fakechain" in plugins.get_chains()
    errors = plugins.plugin_errors()
    assert any("'broken'" in e and "broken on purpose" in e for e in errors)


def test_unknown_chain_lists_installed(fake_plugin):
    with pytest.raises(UnknownNameError, match="installed: fakechain, fakechain-ed"):
        plugins.get_chain("dogecoin")


def test_temporary_registration_and_duplicates(fake_plugin, chainsig_register_plugin):
    from chainsig_fakechain import FakeChain  # type: ignore[import-not-found]

    class Other(FakeChain):
        name = "otherchain"

    class Dup:
        @hookimpl
        def register_chains(self, register):
            register(Other())
            register(FakeChain())  # already registered by the fakechain plugin

    chainsig_register_plugin(Dup(), name="dup")
    assert "otherchain" in plugins.get_chains()
    assert any("registered by both" in e for e in plugins.plugin_errors())


def test_registration_ends_after_the_test(fake_plugin):
    assert "otherchain" not in plugins.get_chains()


def test_non_chain_registration_is_an_error(fake_plugin, chainsig_register_plugin):
    class Bad:
        @hookimpl
        def register_chains(self, register, config):
            assert isinstance(config, dict) or hasattr(config, "keys")
            register("not a chain")

    chainsig_register_plugin(Bad(), name="bad")
    assert any("not a Chain" in e for e in plugins.plugin_errors())


def test_chain_abc_requires_methods():
    class Incomplete(Chain):
        name = "x"
        domain_id = 0

    with pytest.raises(TypeError):
        Incomplete()  # type: ignore[abstract]
