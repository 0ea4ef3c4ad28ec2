"""``mpc vote new-parameters`` / ``add-domains``: the proposal every operator builds from the
same options is identical, keeps ids and info, numbers joiners (and domains) from next_id (and
next_domain_id), and refuses nonsense with one line."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from chainsig_core.errors import InvalidInputError
from chainsig_mpc import register_commands
from chainsig_mpc.node.identity import NodeIdentity
from chainsig_mpc.service.governance import (
    DomainSpec,
    add_domains_proposal,
    governance_threshold,
    new_parameters_proposal,
    parse_domain_spec,
)

TLS = [NodeIdentity.generate().tls_public_key for _ in range(6)]


def running(n: int = 5, epoch: int = 0, cancelled: int | None = None, domain_thresholds: tuple[int, ...] = (2, 2),
            threshold: int = 3) -> dict:
    participants = [[f"node{i}.devnet", i, {"url": f"https://127.0.0.1:{2100 + i}", "tls_public_key": TLS[i]}]
                    for i in range(n)]
    domains = [{"id": i, "protocol": "DamgardEtAl" if i % 2 == 0 else "Frost", "reconstruction_threshold": k,
                "purpose": "Sign"} for i, k in enumerate(domain_thresholds)]
    return {"Running": {"parameters": {"participants": {"next_id": n, "participants": participants},
                                       "threshold": threshold},
                        "domains": {"domains": domains, "next_domain_id": len(domains)},
                        "keyset": {"epoch_id": epoch, "domains": []},
                        "previously_cancelled_resharing_epoch_id": cancelled}}


def test_join_and_leave_proposal() -> None:
    add = [f"node5.devnet=https://127.0.0.1:2105,{TLS[5]}"]
    args = new_parameters_proposal(running(), add, ["node4.devnet"], None, {0: 2})
    assert args == new_parameters_proposal(running(), add, ["node4.devnet"], None, {0: 2})
    entries = args["proposal"]["parameters"]["participants"]["participants"]
    assert [e[0] for e in entries] == [f"node{i}.devnet" for i in (0, 1, 2, 3, 5)]
    assert entries[-1] == ["node5.devnet", 5, {"url": "https://127.0.0.1:2105", "tls_public_key": TLS[5]}]
    assert args["proposal"]["parameters"]["participants"]["next_id"] == 6
    assert args["proposal"]["parameters"]["threshold"] == 3
    assert args["proposal"]["per_domain_thresholds"] == {"0": 2}
    assert args["prospective_epoch_id"] == 1
    assert new_parameters_proposal(running(epoch=1, cancelled=3), [], [], None, {})["prospective_epoch_id"] == 4


def test_governance_threshold_rule() -> None:
    assert [governance_threshold(n) for n in (2, 3, 4, 5, 10)] == [2, 2, 3, 3, 6]


@pytest.mark.parametrize(("add", "remove", "message"), [
    ([], ["ghost.devnet"], "not a participant"),
    ([f"node1.devnet=https://h:1,{TLS[1]}"], [], "already a participant"),
    (["node9.devnet"], [], "ACCOUNT=URL,TLS_PUBLIC_KEY"),
    (["node9.devnet=https://h:1,secp256k1:xyz"], [], "node9.devnet"),
])
def test_bad_changes_are_refused(add: list[str], remove: list[str], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        new_parameters_proposal(running(), add, remove, None, {})


def test_only_while_running() -> None:
    with pytest.raises(InvalidInputError, match="not Running"):
        new_parameters_proposal({"Initializing": {}}, [], [], None, {})


# -- add-domains ---------------------------------------------------------------------------------

def test_add_domains_numbers_from_next_domain_id_with_purpose_sign() -> None:
    specs = [parse_domain_spec("DamgardEtAl"), parse_domain_spec("frost:3")]
    args = add_domains_proposal(running(), specs)
    assert args == add_domains_proposal(running(), specs)  # every operator votes the same proposal
    assert args == {"domains": [
        {"id": 2, "protocol": "DamgardEtAl", "reconstruction_threshold": 2, "purpose": "Sign"},
        {"id": 3, "protocol": "Frost", "reconstruction_threshold": 3, "purpose": "Sign"},
    ]}


@pytest.mark.parametrize(("thresholds", "expected"), [
    ((2, 2), 2),      # the threshold every existing domain has
    ((), 3),          # after `init` (no domain yet): the participant set's threshold
    ((2, 3), 3),      # existing domains disagree: the participant set's threshold
])
def test_default_domain_threshold(thresholds: tuple[int, ...], expected: int) -> None:
    (domain,) = add_domains_proposal(running(domain_thresholds=thresholds), [DomainSpec("Frost")])["domains"]
    assert domain["reconstruction_threshold"] == expected and domain["id"] == len(thresholds)


@pytest.mark.parametrize(("text", "message"), [
    ("CaitSith", "run DamgardEtAl .secp256k1. or Frost .ed25519., not 'CaitSith'"),
    ("ConfidentialKeyDerivation:2", "not 'ConfidentialKeyDerivation'"),
    ("Schnorr", "not 'Schnorr'"),
    ("", "not ''"),
    ("Frost:1", "at least 2"),
    ("Frost:two", "at least 2"),
    ("DamgardEtAl:", "at least 2"),
])
def test_bad_domain_options_are_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as info:
        parse_domain_spec(text)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("state", "specs", "message"), [
    (running(), [DomainSpec("Frost", 6)], "threshold 6 exceeds the 5 participants"),
    (running(), [DomainSpec("DamgardEtAl", 4)], "needs 7 participants, there are 5; give DamgardEtAl:3"),
    (running(n=4, domain_thresholds=(), threshold=3), [DomainSpec("DamgardEtAl")], "needs 5 participants, there are 4"),
    (running(), [], "at least one --domain"),
    ({"Initializing": {}}, [DomainSpec("Frost")], "not Running"),
    (None, [DomainSpec("Frost")], "not Running"),
])
def test_domains_that_cannot_be_added_are_refused(state: object, specs: list[DomainSpec], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        add_domains_proposal(state, specs)


@pytest.fixture
def chainsig():
    """``chainsig`` with the mpc commands as the plugin hook registers them."""

    @click.group()
    def root() -> None:
        pass

    register_commands(root)
    runner = CliRunner()
    return lambda *args: runner.invoke(root, list(args), catch_exceptions=False)


def _node_config(chainsig, tmp_path: Path, rpc_url: str) -> str:
    made = chainsig("mpc", "init", "--account", "node1.devnet", "--network", "devnet", "--rpc-url", rpc_url,
                    "--contract-id", "v1.signer.devnet", "--data-dir", str(tmp_path / "node1"),
                    "--listen", "127.0.0.1:4101", "--json")
    assert made.exit_code == 0, made.output
    return json.loads(made.output)["config"]


@pytest.mark.parametrize(("domain", "message"), [
    ("CaitSith", "error: --domain 'CaitSith': the MPC nodes run DamgardEtAl"),
    ("Frost:0", "error: --domain 'Frost:0': the threshold must be an integer of at least 2"),
])
def test_vote_add_domains_refuses_bad_options_in_one_line(chainsig, tmp_path: Path, domain: str,
                                                          message: str) -> None:
    # checked before the config is read or the contract asked
    result = chainsig("mpc", "vote", "add-domains", "--config", str(tmp_path / "none.toml"), "--domain", domain)
    assert result.exit_code == 2
    assert result.output.startswith(message) and result.output.count("\n") == 1


def test_vote_add_domains_needs_a_domain(chainsig, tmp_path: Path) -> None:
    result = chainsig("mpc", "vote", "add-domains", "--config", str(tmp_path / "none.toml"))
    assert result.exit_code == 2 and "Missing option '--domain'" in result.output


def test_vote_add_domains_without_a_reachable_contract_is_one_error(chainsig, tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = _node_config(chainsig, tmp_path, f"http://127.0.0.1:{port}")
    result = chainsig("mpc", "vote", "add-domains", "--config", config, "--domain", "DamgardEtAl", "--json")
    assert result.exit_code != 0
    assert result.output.startswith("error: ") and result.output.count("\n") == 1
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("threshold", "domain_thresholds", "message"), [
    (99, {}, "--threshold 99: with 5 participants the governance threshold must be from 3"),
    (2, {}, "must be from 3 .* to 5"),
    (None, {0: 6}, "--domain-threshold 0=6: more than the 5 participants"),
])
def test_thresholds_that_cannot_fit_are_refused_before_any_vote(threshold: int | None,
                                                                domain_thresholds: dict[int, int],
                                                                message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        new_parameters_proposal(running(), [], [], threshold, domain_thresholds)
    assert new_parameters_proposal(running(), [], [], 5, {0: 5})["proposal"]["parameters"]["threshold"] == 5
