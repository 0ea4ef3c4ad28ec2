from __future__ import annotations

import re

import pytest

from chainsig_core import credentials, hookimpl, plugins
from chainsig_core.config import load_config, register_chain_endpoints, register_network
from chainsig_core.errors import ConfigError, CredentialsError, InvalidKeyError, UnknownNameError
from chainsig_core.signers.dev import dev_root_public_key
from chainsig_core.keys import Curve


def test_builtin_networks(chainsig_config):
    config = load_config()
    assert set(config.networks) == {"mainnet", "testnet", "dev"}
    assert config.network("testnet").contract_id == "v1.signer-prod.testnet"
    assert config.network("dev").root_public_key(1) == dev_root_public_key(Curve.ED25519)
    with pytest.raises(UnknownNameError, match="chainsig devnet up"):
        config.network("devnet")


def test_register_network_roundtrip(chainsig_config, tmp_path):
    key = dev_root_public_key(Curve.SECP256K1)
    chainsig_config.write_text('[chains.ethereum.local]\nrpc_url = "http://127.0.0.1:8545"\n')
    register_network(
        "devnet", rpc_url="http://127.0.0.1:3030", contract_id="v1.signer.devnet",
        credentials_dir=tmp_path / "creds", root_public_keys={0: key},
    )
    config = load_config()
    devnet = config.network("devnet")
    assert devnet.family == "local" and devnet.root_public_key(0) == key
    with pytest.raises(UnknownNameError, match="root key of domain 1"):
        devnet.root_public_key(1)
    assert config.chain_settings("ethereum", "local")["rpc_url"] == "http://127.0.0.1:8545"
    assert dict(config.chain_settings("ethereum", "mainnet")) == {}


def test_override_builtin_rpc(chainsig_config):
    chainsig_config.write_text('[networks.mainnet]\nrpc_url = "https://my.rpc"\n')
    mainnet = load_config().network("mainnet")
    assert mainnet.rpc_url == "https://my.rpc" and mainnet.contract_id == "v1.signer"
    assert 0 in mainnet.root_public_keys


@pytest.mark.parametrize(
    "text, message",
    [
        ("not toml [", "not valid TOML"),
        ("networks = 3", "must be a table"),
        ('[networks.x]\nrpc_url = "http://u"\n', "contract_id is required"),
        ('[networks.x]\ncontract_id = "c.near"\n', "rpc_url is required"),
        ('[networks.x]\nrpc_url = "http://u"\ncontract_id = "Bad"\n', "contract_id"),
        ('[networks.x]\nrpc_url = "http://u"\ncontract_id = "c.near"\nfamily = "moon"\n', "family"),
        ('[networks.x]\nrpc_url = "http://u"\ncontract_id = "c.near"\nbogus = 1\n', "unknown keys"),
        ('[networks.dev]\nrpc_url = "http://u"\n', "built in"),
        ('[networks.x]\nrpc_url = "http://u"\ncontract_id = "c.near"\nroot_public_keys = { 0 = "ed25519:x" }\n', "root_public_keys"),
        # wrong types in [networks.*] name the key and what it must be
        ('[networks.devnet]\nrpc_url = 5\n', r"\[networks.devnet\]: rpc_url must be a string URL .*not an integer"),
        ('[networks.x]\nrpc_url = ""\ncontract_id = "c.near"\n', "rpc_url must be a string URL"),
        ('[networks.x]\nrpc_url = "http://u"\ncontract_id = 5\n', "contract_id must be a string NEAR account id"),
        ('[networks.x]\nrpc_url = "http://u"\ncontract_id = "c.near"\ncredentials_dir = 5\n', "credentials_dir must be a string path"),
        ('[networks.x]\nrpc_url = "http://u"\ncontract_id = "c.near"\nfamily = ["local"]\n', "family must be one of"),
        ('[networks.x]\nrpc_url = "http://u"\ncontract_id = "c.near"\nroot_public_keys = { 0 = 5 }\n', "root_public_keys.0"),
        # [chains], [chains.<chain>], [chains.<chain>.<network>] and their keys
        ("chains = 5", r"\[chains\] must be a table of chains .*not an integer"),
        ("[chains]\nethereum = 5\n", r"\[chains.ethereum\] must be a table of chain networks .*not an integer"),
        ('[chains]\nethereum = "x"\n', r"\[chains.ethereum\] must be a table .*not a string"),
        ("[chains.ethereum]\nmainnet = [1]\n", r"\[chains.ethereum.mainnet\] must be a table of settings .*not an array"),
        ("[chains.ethereum.mainnet]\nrpc_url = 7\n",
         r"\[chains.ethereum.mainnet\]: rpc_url must be a string URL such as \"https://rpc.example\", not an integer"),
        ('[chains.ethereum.mainnet]\nrpc_url = "notaurl"\n', "rpc_url is not a URL: it does not start with http:// or https://"),
        ('[chains.ethereum.mainnet]\nrpc_url = "ftp://x.example"\n', "rpc_url has scheme 'ftp': it must be http:// or https://"),
        ('[chains.ethereum.mainnet]\nrpc_url = "https://"\n', "rpc_url names no host after https://"),
        ('[chains.ethereum.mainnet]\nrpc_url = "http://[::1:8545/"\n', "rpc_url is not a valid URL"),
        ('[chains.ethereum.mainnet]\nrpc_url = "http://h:99999/"\n', "rpc_url is not a valid URL"),
        ('[networks.x]\nrpc_url = "near.rpc"\ncontract_id = "c.near"\n', "rpc_url is not a URL"),
        ("[chains.ethereum.mainnet]\nbogus = 3\n", r"\[chains.ethereum.mainnet\]: unknown keys \['bogus'\] \(known: .*rpc_url"),
        ('[chains.ethereum.mainnet]\nrpc-url = "https://x.example"\n', r"unknown keys \['rpc-url'\]"),
        ('[chains.ethereum.mainnet]\ntimeout = "15"\n', "timeout must be a number of seconds, not a string"),
        ("[chains.ethereum.mainnet]\ntimeout = -1\n", "timeout must be a number of seconds$"),
        ("[chains.ethereum.mainnet]\nreceipt_timeout = inf\n", "receipt_timeout must be a number of seconds"),
        ("[chains.ethereum.mainnet]\nretries = 1.5\n", "retries must be a whole number"),
        ("[chains.ethereum.mainnet]\nretries = true\n", "retries must be a whole number .*not a boolean"),
        ("[chains.ethereum.local]\nchain_id = 0\n", "chain_id must be a positive integer"),
        ("[chains.cosmos.mainnet]\ngas_price = 0.005\n", "gas_price must be a decimal string .*not a float"),
        ("[chains.bitcoin.regtest]\nmax_fee_rate = 2.5\n", "max_fee_rate must be .*not a float"),
        ("[chains.bitcoin.regtest]\nbackend = 1\n", "backend must be a string"),
        # top-level keys
        ("x = 1", r"unknown top-level keys \['x'\] \(known: networks, chains, .*evm \(plugin\)"),
        ("[network.devnet]\nrpc_url = 'http://x'\n", r"unknown top-level keys \['network'\]"),
    ],
)
def test_bad_config(chainsig_config, text, message):
    chainsig_config.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config()
    assert str(chainsig_config) in str(info.value) and "\n" not in str(info.value)


def test_a_secret_setting_is_never_echoed(chainsig_config):
    chainsig_config.write_text(
        '[chains.bitcoin.regtest]\nrpc_url = "http://user:hunter2@127.0.0.1"\nrpc_password = 5\n'
        '[chains.ethereum.mainnet]\nrpc_url = "hunter2-key"\n'
    )
    with pytest.raises(ConfigError) as info:
        load_config()
    assert "rpc_password must be a string" in str(info.value) and "hunter2" not in str(info.value)
    chainsig_config.write_text('[chains.ethereum.mainnet]\nrpc_url = "hunter2-key"\n')
    with pytest.raises(ConfigError) as info:
        load_config()
    assert "hunter2" not in str(info.value)


# Every key the first-party chains read (docs/evm.md, bitcoin.md, solana.md, cosmos.md), with
# the value forms those docs show, plus the plugins' own top-level tables.
VALID_CONFIG = """
[chains.ethereum.sepolia]
rpc_url = "https://sepolia.example/v3/KEY"
timeout = 15
retries = 2
receipt_timeout = 120

[chains.base.local]
rpc_url = "http://127.0.0.1:8546"
chain_id = 8453
receipt_timeout = 0.3

[chains.bitcoin.regtest]
backend = "core"
rpc_url = "http://127.0.0.1:18443"
rpc_user = "chainsig"
rpc_password = "change-me"
rpc_cookie_file = "~/.bitcoin/regtest/.cookie"
utxo_source = "scantxoutset"
timeout = 20
min_relay_fee_rate = "1"
max_fee_rate = 1000

[chains.solana.my-cluster]
rpc_url = "http://10.0.0.5:8899"
timeout = 30
confirm_timeout = 60

[chains.cosmos.local]
rpc_url = "http://127.0.0.1:1317"
chain_id = "localcosmos"
gas_price = "0.005"
confirm_timeout = 0
poll_interval = 0.5

[chains.polygon.mainnet]
rpc_url = "https://polygon.example"

[evm.chains.polygon]
symbol = "POL"
[evm.chains.polygon.networks.mainnet]
chain_id = 137

[cosmos.chains.osmosis]
prefix = "osmo"
denom = "uosmo"
networks = { mainnet = { chain_id = "osmosis-1" } }
"""


def test_every_documented_setting_is_accepted(chainsig_config):
    chainsig_config.write_text(VALID_CONFIG)
    config = load_config()
    assert config.chain_settings("bitcoin", "regtest")["backend"] == "core"
    assert config.chain_settings("cosmos", "local")["gas_price"] == "0.005"
    assert dict(config.chain_settings("polygon", "amoy")) == {}
    assert dict(config.chain_settings("nochain", "main")) == {}


def test_devnet_endpoint_registration_stays_valid(chainsig_config):
    chainsig_config.write_text('[chains.ethereum.local]\nchain_id = 31337\ntimeout = 5\n')
    register_chain_endpoints({"ethereum": {"local": "http://127.0.0.1:8545"},
                              "solana": {"local": "http://127.0.0.1:8899"}})
    config = load_config()
    assert dict(config.chain_settings("ethereum", "local")) == {
        "chain_id": 31337, "timeout": 5, "rpc_url": "http://127.0.0.1:8545"}
    assert config.chain_settings("solana", "local")["rpc_url"] == "http://127.0.0.1:8899"


@pytest.mark.parametrize(
    "text, table",
    [("chains = 5", "[chains]"), ("[chains]\nethereum = 5\n", "[chains.ethereum]"),
     ("[chains.ethereum]\nlocal = 5\n", "[chains.ethereum.local]"), ("networks = 5", "[networks]")],
)
def test_registration_into_a_malformed_file_is_a_config_error(chainsig_config, tmp_path, text, table):
    chainsig_config.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(f"{chainsig_config}: cannot update {table}")):
        if table == "[networks]":
            register_network("devnet", rpc_url="http://127.0.0.1:3030", contract_id="v1.signer.devnet",
                             credentials_dir=tmp_path)
        else:
            register_chain_endpoints({"ethereum": {"local": "http://127.0.0.1:8545"}})
    assert chainsig_config.read_text() == text


def test_a_chain_may_declare_its_own_setting_keys(chainsig_config, fake_plugin, chainsig_register_plugin):
    from chainsig_fakechain import FakeChain  # type: ignore[import-not-found]

    class Tuned(FakeChain):
        name = "tuned"
        settings_keys = frozenset({"block_time"})

    class Plugin:
        @hookimpl
        def register_chains(self, register):
            register(Tuned())

    chainsig_register_plugin(Plugin(), name="tuned")
    chainsig_config.write_text('[chains.tuned.main]\nblock_time = 2\nrpc_url = "https://t.example"\n')
    assert load_config().chain_settings("tuned", "main")["block_time"] == 2
    chainsig_config.write_text("[chains.fakechain.main]\nblock_time = 2\n")
    with pytest.raises(ConfigError, match=r"\[chains.fakechain.main\]: unknown keys \['block_time'\]"):
        load_config()


def test_config_path_that_is_a_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAINSIG_CONFIG", str(tmp_path))
    with pytest.raises(ConfigError, match=f"config file {re.escape(str(tmp_path))} is a directory "
                                          r"\(CHAINSIG_CONFIG must name a TOML file\)"):
        load_config()


def test_config_path_below_a_file_cannot_be_read(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("CHAINSIG_CONFIG", str(tmp_path / "file" / "config.toml"))
    with pytest.raises(ConfigError, match="cannot read config file .*: a parent of it is not a directory"):
        load_config()


def test_missing_config_file_is_empty(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAINSIG_CONFIG", str(tmp_path / "absent" / "config.toml"))
    assert set(load_config().networks) == {"mainnet", "testnet", "dev"}


def test_malformed_config_is_reported_once_by_the_cli(chainsig_config, fake_plugin):
    from click.testing import CliRunner

    from chainsig_core.cli import cli

    for text in ("not [ toml", "chains = 5", "[chains]\nfakechain = 5\n", "[chains.fakechain.main]\nrpc_url = 7\n",
                 "[networks.devnet]\nrpc_url = 5\n", "x = 1"):
        chainsig_config.write_text(text)
        plugins.reset()
        for args in (["balance", "--chain", "fakechain", "--address", "fake1abc"],
                     ["derive", "--chain", "fakechain", "--account", "a.near", "--path", "p"]):
            result = CliRunner().invoke(cli, args)
            assert result.exit_code == 2, (text, result.output)
            lines = result.stderr.splitlines()
            assert len(lines) == 1, (text, lines)
            assert lines[0].startswith((f"error: {chainsig_config}", f"error: config file {chainsig_config}")), lines
            assert "internal error" not in result.stderr


def test_credentials_roundtrip(tmp_path, monkeypatch):
    monkeypatch.delenv("NEAR_PRIVATE_KEY", raising=False)
    key = credentials.generate_access_key("alice.testnet")
    path = credentials.write_access_key(tmp_path, "testnet", key)
    assert path == tmp_path / "testnet" / "alice.testnet.json"
    assert oct(path.stat().st_mode)[-3:] == "600"
    loaded = credentials.load_access_key(tmp_path, "testnet", "alice.testnet")
    assert loaded == key
    assert "seed" not in repr(loaded) or key.seed.hex() not in repr(loaded)
    with pytest.raises(CredentialsError, match="does not exist"):
        credentials.load_access_key(tmp_path, "testnet", "bob.testnet")
    monkeypatch.setenv("NEAR_PRIVATE_KEY", key.to_near_secret_string())
    assert credentials.load_access_key(tmp_path, "mainnet", "carol.near").public_key == key.public_key


def test_bad_credentials_never_echo_the_secret(tmp_path, monkeypatch):
    monkeypatch.delenv("NEAR_PRIVATE_KEY", raising=False)
    key = credentials.generate_access_key("alice.testnet")
    secret = key.to_near_secret_string()
    path = credentials.write_access_key(tmp_path, "testnet", key)
    other = credentials.generate_access_key("alice.testnet")
    path.write_text('{"private_key": "%s", "public_key": "%s"}' % (secret, other.public_key))
    with pytest.raises(CredentialsError) as info:
        credentials.load_access_key(tmp_path, "testnet", "alice.testnet")
    assert secret not in str(info.value) and "does not match" in str(info.value)
    with pytest.raises(InvalidKeyError) as info:
        credentials.parse_secret_key("alice.testnet", secret[:-3] + "0OI")
    assert secret[8:] not in str(info.value)
