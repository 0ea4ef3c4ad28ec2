"""``mpc vote new-parameters``: the proposal every operator builds from the same options is
identical, keeps ids and info, numbers joiners from next_id, and refuses nonsense."""

from __future__ import annotations

import pytest

from chainsig_core.errors import InvalidInputError
from chainsig_mpc.node.identity import NodeIdentity
from chainsig_mpc.service.governance import governance_threshold, new_parameters_proposal

TLS = [NodeIdentity.generate().tls_public_key for _ in range(6)]


def running(n: int = 5, epoch: int = 0, cancelled: int | None = None) -> dict:
    participants = [[f"node{i}.devnet", i, {"url": f"https://127.0.0.1:{2100 + i}", "tls_public_key": TLS[i]}]
                    for i in range(n)]
    return {"Running": {"parameters": {"participants": {"next_id": n, "participants": participants}, "threshold": 3},
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
