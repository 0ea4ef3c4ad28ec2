"""End to end with real processes: ``chainsig devnet host`` and ``chainsig devnet responder``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

from near import Near

from chainsig_core.config import load_config
from chainsig_core.kdf import derive_public_key
from chainsig_core.keys import Curve
from chainsig_core.signatures import parse_signature_response, verify_signature
from chainsig_core.signers.dev import dev_root_public_key

CHAINSIG = [sys.executable, "-m", "chainsig_core"]


def start_host(data_dir: Path, *extra: str, genesis: dict | None = None) -> tuple[subprocess.Popen, dict]:
    args = [*CHAINSIG, "devnet", "host", "--data-dir", str(data_dir), "--port", "0", "--block-ms", "50", "--json",
            *extra]
    if genesis is not None:
        path = data_dir.parent / "genesis-input.json"
        path.write_text(json.dumps(genesis))
        args += ["--genesis", str(path)]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    line = process.stdout.readline()
    if not line:
        process.kill()
        raise AssertionError(f"host did not start: {process.stderr.read()}")
    return process, json.loads(line)


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        assert process.wait(20) == 0
    finally:
        if process.poll() is None:
            process.kill()


def sign(info: dict, account: str, path: str, payload: bytes, domain_id: int = 0) -> dict:
    near = Near(network="devnet", rpc_url=info["rpc_url"], account_id=account, retries=2,
                credentials_dir=Path(info["data_dir"]) / "credentials")
    kind = "Ecdsa" if domain_id == 0 else "Eddsa"
    result = near.call(info["contract_id"], "sign", {"request": {"path": path, "payload_v2": {kind: payload.hex()},
                                                                 "domain_id": domain_id}},
                       gas="50 Tgas", deposit="1 yocto")
    return result.json_value()


def test_host_with_responder_signs_end_to_end(tmp_path):
    process, info = start_host(tmp_path / "dn", "--responder")
    try:
        assert info["network"] == "devnet" and info["nodes"] == [] and info["chains"] == {}
        assert info["contract_id"] == "v1.signer.devnet" and info["threshold"] == 3
        roles = {a["account_id"]: a["role"] for a in info["accounts"]}
        assert roles["v1.signer.devnet"] == "contract" and roles["node4.devnet"] == "participant"
        assert roles["alice.devnet"] == "user"
        assert all(Path(a["credentials_file"]).is_file() for a in info["accounts"])
        assert [d["protocol"] for d in info["domains"]] == ["DamgardEtAl", "Frost"]
        assert info["domains"][0]["public_key"] == dev_root_public_key(Curve.SECP256K1).to_near_string()
        network = load_config().network("devnet")
        assert network.rpc_url == info["rpc_url"] and network.contract_id == "v1.signer.devnet"
        assert network.root_public_key(1) == dev_root_public_key(Curve.ED25519)
        assert (Path(info["data_dir"]) / "credentials" / "devnet" / "alice.devnet.json").is_file()
        started = time.monotonic()
        for domain_id, payload in ((0, bytes(range(1, 33))), (1, b"hello solana")):
            response = sign(info, "alice.devnet", "e2e", payload, domain_id)
            key = derive_public_key(network.root_public_key(domain_id), "alice.devnet", "e2e")
            verify_signature(key, payload, parse_signature_response(response))
        assert time.monotonic() - started < 30
    finally:
        stop(process)


def test_separate_responder_process(tmp_path):
    host, info = start_host(tmp_path / "dn")
    responder = subprocess.Popen([*CHAINSIG, "devnet", "responder"], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
    try:
        payload = bytes(32 * [9])
        response = sign(info, "bob.devnet", "via-responder", payload)
        key = derive_public_key(dev_root_public_key(Curve.SECP256K1), "bob.devnet", "via-responder")
        verify_signature(key, payload, parse_signature_response(response))
    finally:
        responder.send_signal(signal.SIGTERM)
        responder.wait(20)
        stop(host)
    assert "not MPC" in responder.stderr.read()


def test_restart_answers_a_request_made_before_it(tmp_path, build_tx):
    import base64

    from near import actions

    from chainsig_core.credentials import load_access_key

    process, info = start_host(tmp_path / "dn")
    payload = bytes(range(100, 132))
    request = {"request": {"path": "restart", "payload_v2": {"Ecdsa": payload.hex()}, "domain_id": 0}}
    key = load_access_key(Path(info["data_dir"]) / "credentials", "devnet", "alice.devnet")
    try:
        near = Near(network="devnet", rpc_url=info["rpc_url"], retries=0)
        head = near.rpc("block", {"finality": "final"})["header"]["hash"]
        tx = build_tx(key, info["contract_id"], [actions.function_call("sign", request, gas="50 Tgas",
                                                                        deposit="1 yocto")], 1, head)
        tx_hash = near.rpc("send_tx", {"signed_tx_base64": tx, "wait_until": "INCLUDED_FINAL"})
        assert tx_hash["final_execution_status"] == "INCLUDED_FINAL"
    finally:
        stop(process)
    process, info = start_host(tmp_path / "dn", "--responder")  # same chain, new port
    try:
        near = Near(network="devnet", rpc_url=info["rpc_url"], retries=0)
        result = near.rpc("send_tx", {"signed_tx_base64": tx, "wait_until": "EXECUTED_OPTIMISTIC"})
        response = json.loads(base64.b64decode(result["status"]["SuccessValue"]))
        derived = derive_public_key(dev_root_public_key(Curve.SECP256K1), "alice.devnet", "restart")
        verify_signature(derived, payload, parse_signature_response(response))
    finally:
        stop(process)


def test_bad_genesis_is_one_clear_error(tmp_path):
    bad = tmp_path / "genesis.json"
    bad.write_text('{"participants": 2}')
    result = subprocess.run([*CHAINSIG, "devnet", "host", "--data-dir", str(tmp_path / "x"), "--genesis", str(bad),
                             "--port", "0"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: genesis: the contract rejected its initialisation: Protocol "
                                            "DamgardEtAl requires at least 3 participants, found 2.")
    assert "Traceback" not in result.stderr
    bad.write_text('{"participants": 1.5}')
    result = subprocess.run([*CHAINSIG, "devnet", "host", "--data-dir", str(tmp_path / "y"), "--genesis", str(bad)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_config_written_by_the_host(tmp_path):
    process, info = start_host(tmp_path / "dn", genesis={"participants": 3, "users": ["carol"],
                                                        "contract": {"state": "initializing"}})
    try:
        config = tomllib.loads(Path(os.environ["CHAINSIG_CONFIG"]).read_text())
        table = config["networks"]["devnet"]
        assert table["rpc_url"] == info["rpc_url"] and table["family"] == "local"
        assert "root_public_keys" not in table  # no keys before the MPC nodes generate them
        assert [d["public_key"] for d in info["domains"]] == [None, None]
        genesis = json.loads((tmp_path / "dn" / "genesis.json").read_text())
        assert all("private_key" not in json.dumps(a) for a in genesis["accounts"])
        assert (tmp_path / "dn" / "tls" / "devnet" / "node0.devnet.json").is_file()
    finally:
        stop(process)


def test_port_in_use_is_one_clear_error(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([*CHAINSIG, "devnet", "host", "--data-dir", str(tmp_path / "p"), "--port", str(port)],
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}") and "Traceback" not in result.stderr


def test_responder_without_a_host_is_one_clear_error(tmp_path):
    from chainsig_core.credentials import generate_access_key, write_access_key

    write_access_key(tmp_path, "devnet", generate_access_key("node0.devnet"))
    config = Path(os.environ["CHAINSIG_CONFIG"])
    config.write_text('[networks.devnet]\nrpc_url = "http://127.0.0.1:9"\ncontract_id = "v1.signer.devnet"\n'
                      f'credentials_dir = "{tmp_path}"\n')
    result = subprocess.run([*CHAINSIG, "devnet", "responder", "--account", "node0.devnet"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: dev responder: cannot use the host's RPC")
