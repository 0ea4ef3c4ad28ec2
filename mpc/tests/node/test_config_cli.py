"""Node config validation and the operator commands (init, check, backup, restore)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from chainsig_core.cli.base import ChainsigGroup
from chainsig_core.config import register_network
from chainsig_core.keys import PublicKey
from chainsig_mpc.node.cli import mpc_group
from chainsig_mpc.node.config import load_node_config, parse_node_config
from chainsig_mpc.node.errors import NodeConfigError
from chainsig_mpc.node.identity import load_identity
from chainsig_mpc.node.store import KIND_KEYSHARE, NodeStore

GOOD = {
    "node": {"account_id": "node1.devnet", "data_dir": "data", "listen": "127.0.0.1:4001",
             "metrics": "127.0.0.1:9101"},
    "near": {"network": "devnet", "rpc_url": "http://127.0.0.1:3030", "contract_id": "v1.signer.devnet",
             "credentials_dir": "creds"},
    "node_key": {"file": "node.key"},
}


@pytest.fixture
def chainsig():
    """The ``chainsig`` command line with the mpc group attached (as the core hook will)."""

    @click.group()
    def root() -> None:
        pass

    # A plain root: no plugin loading. mpc_group is itself a ChainsigGroup, so errors are
    # reported exactly as under the real ``chainsig`` command.
    assert isinstance(mpc_group, ChainsigGroup)
    root.add_command(mpc_group)
    runner = CliRunner()

    def invoke(*args: str, env: dict | None = None, input: str | None = None):
        return runner.invoke(root, list(args), env=env, input=input, catch_exceptions=False)

    return invoke


def _with(**changes: dict) -> dict:
    document = {table: dict(values) for table, values in GOOD.items()}
    for table, values in changes.items():
        document[table].update(values)
        for key in [k for k, v in values.items() if v is None]:
            del document[table][key]
    return document


def test_a_valid_config_resolves_paths_against_its_directory(tmp_path):
    config = parse_node_config(GOOD, tmp_path / "node.toml")
    assert config.data_dir == tmp_path / "data"
    assert config.store_path == tmp_path / "data" / "store.sqlite"
    assert config.tls_identity_file == tmp_path / "data" / "tls_identity.pem"
    assert config.credentials_dir == tmp_path / "creds"
    assert config.node_key.file == tmp_path / "node.key"
    assert (config.listen.host, config.listen.port, str(config.metrics)) == ("127.0.0.1", 4001, "127.0.0.1:9101")
    assert config.public_url == "https://127.0.0.1:4001"
    assert json.dumps(config.summary())  # JSON-ready, no secrets (no keys loaded)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"node": {"account_id": None}}, "node.account_id is required"),
        ({"node": {"account_id": "Not Valid"}}, "not a valid NEAR account id"),
        ({"near": {"contract_id": "a..b"}}, "near.contract_id"),
        ({"near": {"rpc_url": "ftp://x"}}, "near.rpc_url"),
        ({"node": {"listen": "localhost"}}, "node.listen 'localhost' must be host:port"),
        ({"node": {"listen": "h:70000"}}, "node.listen"),
        ({"node": {"metrics": "127.0.0.1:4001"}}, "another port than node.listen"),
        ({"node": {"public_url": "https://example.org"}}, "node.public_url"),
        ({"node": {"colour": "blue"}}, "unknown key node.colour"),
        ({"node_key": {"env": "X"}}, "exactly one of file and env"),
        ({"node_key": {"file": None, "env": "not a name"}}, "node_key.env"),
        ({"near": {"network": "../etc"}}, "near.network"),
        ({"node": {"data_dir": 5}}, "node.data_dir must be a non-empty string"),
    ],
)
def test_each_problem_gets_a_clear_message(tmp_path, changes, message):
    with pytest.raises(NodeConfigError) as info:
        parse_node_config(_with(**changes), tmp_path / "node.toml")
    assert message in str(info.value)
    assert str(tmp_path / "node.toml") in str(info.value)


def test_all_problems_are_reported_together(tmp_path):
    document = {"node": {"listen": "x"}, "near": {}, "extra": {}}
    with pytest.raises(NodeConfigError) as info:
        parse_node_config(document, tmp_path / "node.toml")
    text = str(info.value)
    for expected in ("unknown table [extra]", "node.account_id is required", "near.rpc_url is required",
                     "node.listen 'x'", "[node_key] needs exactly one"):
        assert expected in text
    assert "\n" not in text


def test_unreadable_or_invalid_toml_is_one_error(tmp_path):
    with pytest.raises(NodeConfigError, match="does not exist"):
        load_node_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[node\naccount_id=")
    with pytest.raises(NodeConfigError, match="not valid TOML"):
        load_node_config(bad)


def _init(chainsig, tmp_path: Path, *extra: str, name: str = "node1"):
    return chainsig(
        "mpc", "init", "--account", f"{name}.devnet", "--network", "devnet",
        "--rpc-url", "http://127.0.0.1:3030", "--contract-id", "v1.signer.devnet",
        "--data-dir", str(tmp_path / name), "--listen", "127.0.0.1:4101", "--json", *extra,
    )


def test_init_creates_keys_and_a_config_that_loads(chainsig, tmp_path):
    result = _init(chainsig, tmp_path, "--metrics", "127.0.0.1:9201")
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    config = load_node_config(info["config"])
    assert config.account_id == "node1.devnet" and str(config.metrics) == "127.0.0.1:9201"
    identity = load_identity(config.tls_identity_file)
    assert identity.tls_public_key == info["tls_public_key"]
    assert PublicKey.from_near_string(info["tls_public_key"]).curve.value == "ed25519"
    assert config.load_access_key().public_key.to_near_string() == info["account_public_key"]
    assert info["account_key"] == "generated" and info["url"] == "https://127.0.0.1:4101"
    for secret_file in (config.tls_identity_file, config.node_key.file, Path(info["credentials_file"])):
        assert oct(secret_file.stat().st_mode & 0o777) == "0o600"
    # The output names keys' public halves only.
    assert config.node_key.load().hex() not in result.output
    checked = chainsig("mpc", "check", "--config", info["config"], "--json")
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.output)["tls_public_key"] == info["tls_public_key"]
    # A second init into the same directory refuses instead of overwriting keys.
    again = _init(chainsig, tmp_path)
    assert again.exit_code == 2 and "already exists" in again.output
    assert load_identity(config.tls_identity_file).tls_public_key == info["tls_public_key"]


def test_init_reuses_an_existing_account_key_and_env_node_key(chainsig, tmp_path, monkeypatch):
    first = json.loads(_init(chainsig, tmp_path, name="node2").output)
    result = _init(chainsig, tmp_path, "--credentials-dir", str(Path(first["credentials_file"]).parents[1]),
                   "--node-key-env", "NODE3_KEY", name="node3")
    # node3 has no key yet in node2's credentials dir: generated there
    info = json.loads(result.output)
    assert info["account_key"] == "generated" and info["node_key"] == "environment variable NODE3_KEY"
    reused = chainsig("mpc", "init", "--account", "node3.devnet", "--rpc-url", "http://127.0.0.1:3030",
                      "--contract-id", "v1.signer.devnet", "--data-dir", str(tmp_path / "node3b"),
                      "--credentials-dir", str(Path(first["credentials_file"]).parents[1]), "--json")
    assert json.loads(reused.output)["account_key"] == "existing"
    assert json.loads(reused.output)["account_public_key"] == info["account_public_key"]


def test_init_takes_rpc_and_contract_from_the_chainsig_config(chainsig, tmp_path):
    register_network("devnet", rpc_url="http://127.0.0.1:3999", contract_id="signer.devnet",
                     credentials_dir=tmp_path / "devnet-creds")
    result = chainsig("mpc", "init", "--account", "n.devnet", "--data-dir", str(tmp_path / "n"), "--json")
    assert result.exit_code == 0, result.output
    config = load_node_config(json.loads(result.output)["config"])
    assert (config.rpc_url, config.contract_id) == ("http://127.0.0.1:3999", "signer.devnet")
    unknown = chainsig("mpc", "init", "--account", "n.devnet", "--network", "nowhere",
                       "--data-dir", str(tmp_path / "m"))
    assert unknown.exit_code == 2 and "pass --rpc-url and --contract-id" in unknown.output
    assert not (tmp_path / "m").exists()


def test_init_with_bad_options_writes_nothing(chainsig, tmp_path):
    result = chainsig("mpc", "init", "--account", "Bad Account", "--rpc-url", "http://x:1",
                      "--contract-id", "c.devnet", "--data-dir", str(tmp_path / "x"), "--listen", "nope")
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith("error: ")
    assert "node.account_id" in result.output and "node.listen" in result.output
    assert not (tmp_path / "x").exists()


def test_check_reports_a_wrong_node_key_in_one_line(chainsig, tmp_path):
    info = json.loads(_init(chainsig, tmp_path).output)
    config = load_node_config(info["config"])
    NodeStore(config.store_path, config.node_key.load()).close()
    config.node_key.file.write_text(os.urandom(32).hex())
    result = chainsig("mpc", "check", "--config", info["config"])
    assert result.exit_code != 0
    assert result.output.startswith("error: the node key does not open node store")
    assert "Traceback" not in result.output


def test_backup_and_restore_commands(chainsig, tmp_path):
    info = json.loads(_init(chainsig, tmp_path).output)
    config = load_node_config(info["config"])
    with NodeStore(config.store_path, config.node_key.load()) as store:
        store.put(KIND_KEYSHARE, "domain-0", b"the share")
    env = {"BACKUP_PASS": "a long enough passphrase"}
    out = tmp_path / "shares.backup"
    result = chainsig("mpc", "backup", "--config", info["config"], "--out", str(out),
                      "--passphrase-env", "BACKUP_PASS", "--json", env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["records"] == 1
    with NodeStore(config.store_path, config.node_key.load()) as store:
        store.delete(KIND_KEYSHARE, "domain-0")
    restored = chainsig("mpc", "restore", "--config", info["config"], "--in", str(out),
                        "--json", input="a long enough passphrase\n")
    assert restored.exit_code == 0, restored.output
    with NodeStore(config.store_path, config.node_key.load()) as store:
        assert store.get(KIND_KEYSHARE, "domain-0") == b"the share"
    wrong = chainsig("mpc", "restore", "--config", info["config"], "--in", str(out),
                     "--passphrase-env", "BACKUP_PASS", env={"BACKUP_PASS": "not the passphrase"})
    assert wrong.exit_code != 0 and "wrong passphrase" in wrong.output
    unset = chainsig("mpc", "backup", "--config", info["config"], "--out", str(tmp_path / "o2"),
                     "--passphrase-env", "NOPE_UNSET")
    assert unset.exit_code != 0 and "NOPE_UNSET is not set" in unset.output
