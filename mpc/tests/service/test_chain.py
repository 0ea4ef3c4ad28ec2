"""Coordinator order, node config and ``mpc init``."""

from __future__ import annotations

from pathlib import Path

import pytest

from chainsig_mpc.node.errors import NodeConfigError
from chainsig_core.credentials import generate_access_key
from chainsig_mpc.service.config import import_node, load_node_config
from chainsig_mpc.service.requests import coordinator_order


def test_coordinator_order_is_deterministic_and_spreads_load() -> None:
    ids = [0, 1, 2, 3, 4]
    assert coordinator_order("abc", ids) == coordinator_order("abc", list(reversed(ids)))
    assert sorted(coordinator_order("abc", ids)) == ids
    firsts = {coordinator_order(f"req{i}", ids)[0] for i in range(50)}
    assert firsts == set(ids)


def test_import_then_load(tmp_path: Path) -> None:
    key = generate_access_key("node0.devnet")
    seed = bytes(range(32))
    result = import_node(tmp_path / "n0", account_key=key, tls_seed=seed, rpc_url="http://127.0.0.1:1",
                         contract_id="v1.signer.devnet", listen="127.0.0.1:21000")
    config = load_node_config(result["config"])
    assert config.account_id == "node0.devnet" and config.listen == ("127.0.0.1", 21000)
    assert config.identity().tls_public_key == result["tls_public_key"]
    assert config.identity().seed == seed
    assert config.access_key() == key
    assert len(config.node_key.load()) == 32
    assert config.metrics == ("127.0.0.1", 0)
    with pytest.raises(NodeConfigError, match="already"):
        import_node(tmp_path / "n0", account_key=key, tls_seed=seed, rpc_url="http://127.0.0.1:1",
                    contract_id="v1.signer.devnet", listen="127.0.0.1:21000")


@pytest.mark.parametrize(("text", "message"), [
    ("[node", "not valid TOML"),
    ("[node]\naccount_id = 'a.devnet'\n[near]\ncontract_id='c'\n", "near.rpc_url"),
    ("[node]\naccount_id = 'A B'\n[near]\nrpc_url='u'\ncontract_id='c'\n", "node.account_id"),
    ("[node]\naccount_id = 'a.devnet'\nlisten='nope'\n[near]\nrpc_url='u'\ncontract_id='c'\n", "node.listen"),
])
def test_bad_config_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "node.toml"
    path.write_text(text)
    with pytest.raises(NodeConfigError, match=message):
        load_node_config(path)
    with pytest.raises(NodeConfigError):
        load_node_config(tmp_path / "missing.toml")
