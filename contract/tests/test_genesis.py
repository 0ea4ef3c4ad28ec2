"""Genesis resolution, key files, and the devnet command group's structure."""

from __future__ import annotations

import json

import click
import pytest

from chainsig_contract.cli import attach_devnet_commands, devnet_group
from chainsig_contract.genesis import resolve_genesis, write_keys, write_public_genesis
from chainsig_contract.hosting import open_chain
from chainsig_core.credentials import load_access_key
from chainsig_core.errors import InvalidInputError


def test_defaults():
    genesis = resolve_genesis()
    roles = [(a.account_id, a.role) for a in genesis.accounts]
    assert roles[:2] == [("devnet", "registrar"), ("v1.signer.devnet", "contract")]
    assert [a for a, r in roles if r == "participant"] == [f"node{i}.devnet" for i in range(5)]
    assert [a for a, r in roles if r == "user"] == ["alice.devnet", "bob.devnet"]
    assert genesis.threshold == 3 and genesis.contract_state == "running"
    assert [c[1] for c in genesis.contract_calls()] == ["init_running"]


def test_initializing_votes_the_domains_in():
    genesis = resolve_genesis({"participants": 4, "contract": {"state": "initializing"}})
    assert [c[1] for c in genesis.contract_calls()] == ["init"] + ["vote_add_domains"] * 3


@pytest.mark.parametrize("spec,message", [
    ({"nonsense": 1}, "unknown field"),
    ({"participants": 1}, "participants must be"),
    ({"users": ["alice", "alice"]}, "unique"),
    ({"amounts": {"user": 1.5}}, "no floats"),
    ({"amounts": {"whale": 1}}, "unknown role"),
    ({"contract": {"state": "paused"}}, "contract.state"),
    ({"users": ["Not Valid"]}, "account id"),
    ({"transaction_validity_period": 0}, "transaction_validity_period"),
])
def test_bad_genesis(spec, message):
    with pytest.raises(InvalidInputError) as info:
        resolve_genesis(spec)
    assert message.lower() in str(info.value).lower()


def test_keys_are_written_in_near_cli_format(tmp_path):
    genesis = resolve_genesis({"participants": 3, "users": ["carol"]})
    files = write_keys(genesis, tmp_path)
    write_public_genesis(genesis, tmp_path)
    key = load_access_key(tmp_path / "credentials", "devnet", "carol.devnet")
    assert files["carol.devnet"].stat().st_mode & 0o777 == 0o600
    public = json.loads((tmp_path / "genesis.json").read_text())
    carol = next(a for a in public["accounts"] if a["account_id"] == "carol.devnet")
    assert carol["public_key"] == key.public_key.to_near_string()
    assert "private_key" not in (tmp_path / "genesis.json").read_text()


def test_open_chain_twice_reuses_the_chain(tmp_path):
    chain, created = open_chain(tmp_path / "d")
    assert created and chain.head["height"] == 0
    chain.produce_block()
    chain.store.close()
    again, created = open_chain(tmp_path / "d")
    assert not created and again.head["height"] == 1
    again.store.close()


def test_devnet_commands_join_an_existing_group():
    @click.group()
    def cli() -> None:
        pass

    @click.group("devnet")
    def other_devnet() -> None:
        pass

    @other_devnet.command("up")
    def up() -> None:
        pass

    cli.add_command(other_devnet)
    attach_devnet_commands(cli)
    assert set(cli.commands["devnet"].commands) == {"up", "host", "responder"}
    fresh = click.Group("chainsig")
    attach_devnet_commands(fresh)
    assert fresh.commands["devnet"] is devnet_group
