from __future__ import annotations

import pytest

from chainsig_core import credentials
from chainsig_core.config import load_config, register_network
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
        ('[networks.x]\nrpc_url = "u"\n', "contract_id is required"),
        ('[networks.x]\ncontract_id = "c.near"\n', "rpc_url is required"),
        ('[networks.x]\nrpc_url = "u"\ncontract_id = "Bad"\n', "contract_id"),
        ('[networks.x]\nrpc_url = "u"\ncontract_id = "c.near"\nfamily = "moon"\n', "family"),
        ('[networks.x]\nrpc_url = "u"\ncontract_id = "c.near"\nbogus = 1\n', "unknown keys"),
        ('[networks.dev]\nrpc_url = "u"\n', "built in"),
        ('[networks.x]\nrpc_url = "u"\ncontract_id = "c.near"\nroot_public_keys = { 0 = "ed25519:x" }\n', "root_public_keys"),
    ],
)
def test_bad_config(chainsig_config, text, message):
    chainsig_config.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config()


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
