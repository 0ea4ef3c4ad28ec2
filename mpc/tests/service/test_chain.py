"""The indexer's parsing of sign receipts, coordinator order, node config and ``mpc init``."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from chainsig_core import kdf
from chainsig_mpc.node.errors import NodeConfigError
from chainsig_mpc.service.chain import parse_sign_receipt
from chainsig_core.credentials import generate_access_key
from chainsig_mpc.service.config import import_node, load_node_config
from chainsig_mpc.service.requests import coordinator_order

ENTROPY = bytes(range(32))


def args(request: dict) -> str:
    return base64.b64encode(json.dumps({"request": request}).encode()).decode()


def test_ecdsa_eddsa_and_legacy_requests() -> None:
    h = "11" * 32
    event = parse_sign_receipt("r1", 7, "alice.devnet", args({"path": "p", "payload_v2": {"Ecdsa": h}, "domain_id": 0}), ENTROPY)
    assert event is not None
    assert (event.domain_id, event.kind, event.payload, event.entropy) == (0, "Ecdsa", bytes.fromhex(h), ENTROPY)
    assert event.tweak == kdf.tweak("alice.devnet", "p")
    assert event.contract_request() == {"domain_id": 0, "payload": {"Ecdsa": h}, "tweak": list(event.tweak)}
    eddsa = parse_sign_receipt("r2", 7, "bob.devnet", args({"path": "", "payload_v2": {"Eddsa": "6869"}, "domain_id": 1}), ENTROPY)
    assert eddsa is not None and eddsa.payload == b"hi" and eddsa.kind == "Eddsa"
    legacy = parse_sign_receipt("r3", 7, "bob.devnet", args({"path": "x", "payload": [1] * 32, "key_version": 0}), ENTROPY)
    assert legacy is not None and legacy.payload == bytes([1] * 32)


@pytest.mark.parametrize("request_args", [
    "%%%", base64.b64encode(b"[1]").decode(), args({"path": 5, "payload_v2": {"Ecdsa": "11" * 32}}),
    args({"path": "p", "payload_v2": {"Ecdsa": "00" * 32}}),           # zero payload
    args({"path": "p", "payload_v2": {"Ecdsa": "ff" * 32}}),           # ≥ n
    args({"path": "p", "payload_v2": {"Ecdsa": "11" * 31}}),           # short
    args({"path": "p", "payload_v2": {"Eddsa": "11" * 1233}}),         # too long
    args({"path": "p", "payload_v2": {"Other": "11"}}),
    args({"path": "p", "payload_v2": {"Ecdsa": "11" * 32}, "domain_id": -1}),
])
def test_requests_the_contract_refuses_are_ignored(request_args: str) -> None:
    assert parse_sign_receipt("r", 1, "alice.devnet", request_args, ENTROPY) is None


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
