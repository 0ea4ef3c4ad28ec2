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


def test_unknown_chain_lists_installed(fake_plugin, monkeypatch):
    monkeypatch.delenv("CHAINSIG_LOAD_PLUGINS")  # nothing filtered: every installed plugin loads
    plugins.reset()
    with pytest.raises(UnknownNameError, match=r"^unknown chain 'dogecoin' \(installed: (\S+, )*fakechain, fakechain-ed(, \S+)*\)$"):
        plugins.get_chain("dogecoin")
    assert plugins.filtered_plugins() == {} and plugins.filter_note() is None
    assert plugins.no_chains_message().startswith("no chains installed (pip install")


def test_unknown_chain_names_the_plugins_the_environment_filtered(fake_plugin):
    # the fixture's CHAINSIG_LOAD_PLUGINS=fakechain keeps the workspace's real plugins out
    with pytest.raises(UnknownNameError, match=r"^unknown chain 'ethereum' \(loaded chains: fakechain, fakechain-ed\); "
                       r"CHAINSIG_LOAD_PLUGINS='fakechain' keeps plugins (\S+, )*evm(, \S+)* from loading, "
                       r"which may provide 'ethereum'$"):
        plugins.get_chain("ethereum")
    assert plugins.filtered_plugins()["evm"] == "CHAINSIG_LOAD_PLUGINS"
    assert "fakechain" not in plugins.filtered_plugins()


def test_a_blocked_chain_says_it_is_blocked(fake_plugin, monkeypatch):
    monkeypatch.setenv("CHAINSIG_BLOCK_PLUGINS", "fakechain")
    plugins.reset()
    assert plugins.filtered_plugins()["fakechain"] == "CHAINSIG_BLOCK_PLUGINS"
    with pytest.raises(UnknownNameError, match=r"CHAINSIG_BLOCK_PLUGINS='fakechain' keeps plugin fakechain from "
                       r"loading; CHAINSIG_LOAD_PLUGINS='fakechain' keeps plugins .* from loading, which may "
                       r"provide 'fakechain'$"):
        plugins.get_chain("fakechain")
    assert plugins.get_chains() == {}
    assert plugins.no_chains_message().startswith(
        "no chains loaded: CHAINSIG_BLOCK_PLUGINS='fakechain' keeps plugin fakechain from loading")


@pytest.mark.parametrize("variable", ["CHAINSIG_LOAD_PLUGINS", "CHAINSIG_BLOCK_PLUGINS"])
def test_a_plugin_name_that_is_not_installed_is_reported(fake_plugin, monkeypatch, variable):
    monkeypatch.setenv(variable, "fakechain, nope,evn")
    plugins.reset()
    message = (f"{variable} names 'evn', 'nope', which are not installed "
               f"(installed plugins: ")
    (warning,) = [e for e in plugins.plugin_errors() if e.startswith(variable)]
    assert warning.startswith(message) and "fakechain" in warning and "evm" in warning


def test_cli_reports_filtered_plugins(fake_plugin, monkeypatch):
    from click.testing import CliRunner

    from chainsig_core.cli import cli

    monkeypatch.setenv("CHAINSIG_BLOCK_PLUGINS", "fakechain,nope")
    plugins.reset()
    result = CliRunner().invoke(cli, ["derive", "--chain", "fakechain", "--account", "a.near", "--path", "p"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "warning: CHAINSIG_BLOCK_PLUGINS names 'nope', which is not installed (installed plugins: "
        + ", ".join(plugins.installed_plugin_names()) + ")",
        "error: unknown chain 'fakechain' (loaded chains: none); "
        f"CHAINSIG_BLOCK_PLUGINS='fakechain,nope' keeps plugin fakechain from loading; "
        f"CHAINSIG_LOAD_PLUGINS='fakechain' keeps plugins {', '.join(n for n in plugins.installed_plugin_names() if n != 'fakechain')} "
        "from loading, which may provide 'fakechain'",
    ]


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
