"""``chainsig devnet up --signers mpc`` end to end with real processes: the host, five MPC node
processes over mutually authenticated TLS, DKG through the contract's governance, then ECDSA
and EdDSA signatures through ``chainsig sign --network devnet``, verified under the derived
keys; a node killed with SIGKILL while requests keep coming, and restarted from its store."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from chainsig_core.kdf import derive_public_key
from chainsig_core.keys import PublicKey
from chainsig_core.signatures import signature_from_json, verify_signature

ACCOUNT = "alice.devnet"


@pytest.fixture(scope="module")
def mpc_devnet(tmp_path_factory: pytest.TempPathFactory, start_devnet: Any) -> Iterator[dict[str, Any]]:
    started = time.monotonic()
    with start_devnet(tmp_path_factory.mktemp("mpc-devnet"), nodes=5, threshold=2, block_ms=50,
                      signers="mpc", evm=False, solana=False) as description:
        description["up_seconds"] = time.monotonic() - started
        description["extra_processes"] = []  # started by the tests themselves
        try:
            yield description
        finally:
            for proc in description["extra_processes"]:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=15)


@pytest.fixture(autouse=True)
def _devnet_config(mpc_devnet: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Path:
    """Overrides the package's fixture of the same name: this module needs only its own devnet."""
    from chainsig_core import plugins

    monkeypatch.setenv("CHAINSIG_CONFIG", mpc_devnet["config"])
    plugins.reset()
    return Path(mpc_devnet["config"])


def root_key(description: dict[str, Any], domain_id: int) -> PublicKey:
    key = next(d["public_key"] for d in description["domains"] if d["id"] == domain_id)
    return PublicKey.from_near_string(key)


def cli_sign(description: dict[str, Any], domain_id: int, payload: bytes, path: str) -> dict[str, Any]:
    argv = [sys.executable, "-m", "chainsig_core", "sign", "--network", "devnet", "--account", ACCOUNT,
            "--path", path, "--domain", str(domain_id), "--payload", payload.hex(), "--json"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "CHAINSIG_CONFIG": description["config"]})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_description_lists_running_nodes_with_keys(mpc_devnet: dict[str, Any]) -> None:
    nodes = mpc_devnet["nodes"]
    assert len(nodes) == 5 and mpc_devnet["signers"] == "mpc"
    assert {n["account_id"] for n in nodes} == {f"node{i}.devnet" for i in range(5)}
    assert [d["reconstruction_threshold"] for d in mpc_devnet["domains"]] == [2, 2]
    assert root_key(mpc_devnet, 0).curve.value != root_key(mpc_devnet, 1).curve.value
    for node in nodes:
        health = httpx.get(node["metrics_url"] + "/health", timeout=5).json()
        assert health["state"] == "Running" and health["domains"] == [0, 1]
        assert health["account_id"] == node["account_id"]
    config = str(Path(mpc_devnet["root"]) / "nodes" / "node1" / "node.toml")
    status = json.loads(chainsig(mpc_devnet["config"], "mpc", "status", "--config", config, "--json"))
    assert status["state"] == "Running" and status["participant_id"] == 1


@pytest.mark.parametrize(("domain_id", "payload"), [(0, hashlib.sha256(b"mpc e2e").digest()),
                                                    (1, b"an ed25519 message from five nodes")])
def test_chainsig_sign_through_the_mpc_network(mpc_devnet: dict[str, Any], domain_id: int, payload: bytes) -> None:
    out = cli_sign(mpc_devnet, domain_id, payload, "mpc-e2e")
    derived = derive_public_key(root_key(mpc_devnet, domain_id), ACCOUNT, "mpc-e2e")
    verify_signature(derived, payload, signature_from_json(out["signature"]))
    assert out["domain_id"] == domain_id


def test_metrics_count_requests_and_signatures(mpc_devnet: dict[str, Any]) -> None:
    texts = [httpx.get(n["metrics_url"] + "/metrics", timeout=5).text for n in mpc_devnet["nodes"]]
    assert all('chainsig_mpc_requests_total{domain="0"}' in t for t in texts)
    answered = sum(int(float(line.rsplit(" ", 1)[1])) for t in texts for line in t.splitlines()
                   if line.startswith("chainsig_mpc_signatures_total"))
    assert answered >= 2
    assert all("chainsig_mpc_presignatures_held" in t for t in texts)


def sign_many(description: dict[str, Any], count: int, label: str) -> list[float]:
    """``count`` concurrent requests (ECDSA and EdDSA alternating) through one client — one
    NEAR account's transactions need one nonce sequence — each verified; returns latencies."""
    from chainsig_core.flow import sign_async
    from chainsig_core.signers import get_signer

    async def run() -> list[float]:
        signer = get_signer("devnet")

        async def one(i: int) -> float:
            domain_id = i % 2
            text = f"{label}-{i}".encode()
            payload = hashlib.sha256(text).digest() if domain_id == 0 else text
            begin = time.monotonic()
            result = await sign_async(account=ACCOUNT, path=f"{label}-{i}", payload=payload,
                                      domain_id=domain_id, network="devnet", signer=signer)
            derived = derive_public_key(root_key(description, domain_id), ACCOUNT, f"{label}-{i}")
            verify_signature(derived, payload, result.signature)
            return time.monotonic() - begin

        try:
            return list(await asyncio.gather(*(one(i) for i in range(count))))
        finally:
            await signer.aclose()

    return asyncio.run(run())


def refused_count(node: dict[str, Any]) -> int:
    text = httpx.get(node["metrics_url"] + "/metrics", timeout=5).text
    return int(float(next(line for line in text.splitlines()
                          if line.startswith("chainsig_mpc_peer_connections_refused")).split()[-1]))


def test_a_peer_with_an_unknown_tls_key_is_refused(mpc_devnet: dict[str, Any]) -> None:
    from chainsig_mpc.node.identity import NodeIdentity
    from chainsig_mpc.node.transport import Peer, PeerTransport

    target = mpc_devnet["nodes"][0]
    before = refused_count(target)
    state = contract_state(mpc_devnet)
    entry = next(p for p in state["Running"]["parameters"]["participants"]["participants"]
                 if p[0] == target["account_id"])
    peers = {entry[1]: Peer.from_participant(entry[1], entry[2]["url"], entry[2]["tls_public_key"])}

    async def intrude() -> None:
        # an impostor claims a participant id but holds a key the contract does not list
        impostor = PeerTransport(NodeIdentity.generate(), 1, lambda: peers, "127.0.0.1", 0)
        await impostor.start()
        try:
            impostor.send(entry[1], b"{}")
            await asyncio.sleep(1.5)
        finally:
            await impostor.close()

    asyncio.run(intrude())
    assert refused_count(target) > before


def chainsig(config: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "chainsig_core", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "CHAINSIG_CONFIG": config})
    assert done.returncode == 0, done.stderr
    return done.stdout


def create_account(description: dict[str, Any], account: str, key_file: Path) -> None:
    """The registrar creates ``account`` with a fresh full-access key (written near-cli style)."""
    from near import AsyncNear
    from near.actions import add_full_access_key, create_account as create, transfer

    from chainsig_core.credentials import generate_access_key, load_access_key

    host = Path(description["data_dir"])
    registrar = load_access_key(host / "credentials", "devnet", "devnet")
    key = generate_access_key(account)
    key_file.write_text(json.dumps(key.to_credentials_json()))

    async def run() -> None:
        async with AsyncNear(network="devnet", rpc_url=description["rpc_url"], account_id="devnet",
                             private_key=registrar.to_near_secret_string()) as near:
            await near.send_transaction(account, [create(), transfer("100 NEAR"),
                                                  add_full_access_key(key.public_key.to_near_string())])

    asyncio.run(run())


def contract_state(description: dict[str, Any]) -> dict[str, Any]:
    from chainsig_core.devnet.mpc_nodes import contract_view

    return contract_view(description["rpc_url"], description["contract_id"], "state", {})


def test_a_node_joins_and_another_leaves_with_the_same_keys(mpc_devnet: dict[str, Any]) -> None:
    root = Path(mpc_devnet["root"])
    nodes = root / "nodes"
    create_account(mpc_devnet, "node5.devnet", root / "node5-key.json")
    from chainsig_core.devnet.mpc_nodes import free_ports

    port = free_ports(1)[0]
    # a new operator: fresh TLS identity and node key from `mpc init`, its funded account's key
    credentials = nodes / "node5" / "credentials" / "devnet"
    credentials.mkdir(parents=True)
    (credentials / "node5.devnet.json").write_text((root / "node5-key.json").read_text())
    init = json.loads(chainsig(mpc_devnet["config"], "mpc", "init", "--data-dir", str(nodes / "node5"),
                               "--account", "node5.devnet", "--rpc-url", mpc_devnet["rpc_url"],
                               "--contract-id", mpc_devnet["contract_id"], "--listen", f"127.0.0.1:{port}",
                               "--metrics", "127.0.0.1:0", "--json"))
    assert init["account_key"] == "existing"
    log = open(root / "logs" / "mpc-node5.log", "wb")
    joiner = subprocess.Popen([sys.executable, "-m", "chainsig_core", "mpc", "node", "--config", init["config"]],
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                              env={**os.environ, "CHAINSIG_CONFIG": mpc_devnet["config"]})
    mpc_devnet["extra_processes"].append(joiner)  # it keeps signing in the next tests
    try:
        change = ["--remove", "node4.devnet", "--add", f"node5.devnet=https://127.0.0.1:{port},{init['tls_public_key']}"]
        for voter in ("node0", "node1", "node2", "node5"):  # governance threshold 3 of the old set, then the joiner
            chainsig(mpc_devnet["config"], "mpc", "vote", "new-parameters", "--config",
                     str(nodes / voter / "node.toml"), *change)
        deadline = time.monotonic() + 120
        state = contract_state(mpc_devnet)
        while time.monotonic() < deadline and not ("Running" in state and state["Running"]["keyset"]["epoch_id"] == 1):
            time.sleep(0.5)
            state = contract_state(mpc_devnet)
        assert "Running" in state and state["Running"]["keyset"]["epoch_id"] == 1, state
        accounts = [p[0] for p in state["Running"]["parameters"]["participants"]["participants"]]
        assert "node5.devnet" in accounts and "node4.devnet" not in accounts
        from chainsig_core.devnet.mpc_nodes import root_keys

        assert root_keys(state["Running"]) == {d["id"]: d["public_key"] for d in mpc_devnet["domains"]}
        time.sleep(1.0)  # every node polls the state and commits its share of epoch 1
        latencies = sign_many(mpc_devnet, 6, "after-reshare")
        assert len(latencies) == 6
        leaver = next(n for n in mpc_devnet["nodes"] if n["account_id"] == "node4.devnet")
        assert httpx.get(leaver["metrics_url"] + "/health", timeout=5).json()["domains"] == []
        ready = json.loads(next(line for line in (root / "logs" / "mpc-node5.log").read_text().splitlines()
                                if line.startswith('{"ready"')))
        health = httpx.get(ready["metrics_url"] + "/health", timeout=5).json()
        assert health["domains"] == [0, 1] and health["epoch"] == 1
    finally:
        log.close()


def test_signing_continues_with_a_node_killed_and_after_its_restart(mpc_devnet: dict[str, Any]) -> None:
    from chainsig_core.devnet.processes import read_state

    _, services = read_state(Path(mpc_devnet["root"]))  # type: ignore[misc]
    victim = next(s for s in services if s.name == "mpc-node2")
    with ThreadPoolExecutor(max_workers=1) as background:
        running = background.submit(sign_many, mpc_devnet, 4, "before-kill")
        time.sleep(0.3)
        os.kill(victim.pid, signal.SIGKILL)  # mid-run: requests are in flight
        running.result(timeout=120)
    sign_many(mpc_devnet, 6, "one-down")  # 4 of 5 online: ECDSA needs 3, FROST 2
    log = open(Path(mpc_devnet["root"]) / "logs" / "mpc-node2-restart.log", "wb")
    restarted = subprocess.Popen(list(victim.argv), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        node = next(n for n in mpc_devnet["nodes"] if n["account_id"] == "node2.devnet")
        ready = False
        while time.monotonic() < deadline and not ready:
            time.sleep(0.5)
            ready = '"ready"' in (Path(mpc_devnet["root"]) / "logs" / "mpc-node2-restart.log").read_text()
        assert ready, "the restarted node did not come back"
        sign_many(mpc_devnet, 4, "after-restart")
        metrics_url = json.loads(next(line for line in (Path(mpc_devnet["root"]) / "logs" / "mpc-node2-restart.log")
                                      .read_text().splitlines() if line.startswith('{"ready"')))["metrics_url"]
        health = httpx.get(metrics_url + "/health", timeout=5).json()
        assert health["domains"] == [0, 1]  # its shares came back from the encrypted store
        assert node["account_id"] == health["account_id"]
    finally:
        os.killpg(restarted.pid, signal.SIGTERM)
        restarted.wait(timeout=15)
        log.close()


def test_a_node_restored_from_its_share_backup_signs_again(mpc_devnet: dict[str, Any]) -> None:
    from chainsig_core.devnet.processes import read_state, stop_pid

    root = Path(mpc_devnet["root"])
    config = str(root / "nodes" / "node3" / "node.toml")
    env = {"BACKUP_PASSPHRASE": "correct horse battery staple"}
    os.environ.update(env)
    try:
        chainsig(mpc_devnet["config"], "mpc", "backup", "--config", config, "--out", str(root / "node3.backup"),
                 "--passphrase-env", "BACKUP_PASSPHRASE")
        _, services = read_state(root)  # type: ignore[misc]
        node3 = next(s for s in services if s.name == "mpc-node3")
        stop_pid(node3.pid, grace=10)
        for path in (root / "nodes" / "node3").glob("store.sqlite*"):
            path.unlink()  # the disk is lost; the operator restores the backup into a new store
        chainsig(mpc_devnet["config"], "mpc", "restore", "--config", config, "--in", str(root / "node3.backup"),
                 "--passphrase-env", "BACKUP_PASSPHRASE")
    finally:
        os.environ.pop("BACKUP_PASSPHRASE", None)
    log_path = root / "logs" / "mpc-node3-restored.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(list(node3.argv), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    mpc_devnet["extra_processes"].append(proc)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and '"ready"' not in log_path.read_text():
        time.sleep(0.3)
    ready = json.loads(next(line for line in log_path.read_text().splitlines() if line.startswith('{"ready"')))
    health = httpx.get(ready["metrics_url"] + "/health", timeout=5).json()
    assert health["domains"] == [0, 1] and health["epoch"] == 1
    sign_many(mpc_devnet, 4, "after-restore")


def test_no_secret_reaches_a_log_and_stores_are_sealed(mpc_devnet: dict[str, Any]) -> None:
    from chainsig_mpc.node.nodekey import NodeKeySource
    from chainsig_mpc.service.store import KIND_KEYSHARE, NodeStore

    root = Path(mpc_devnet["root"])
    logs = b"".join(p.read_bytes() for p in (root / "logs").iterdir())
    secrets: list[str] = []
    for node_dir in sorted((root / "nodes").iterdir()):
        store = NodeStore(node_dir / "store.sqlite", NodeKeySource(file=node_dir / "node.key").load())
        try:
            secrets += [share["share"] for _, share in store.items(KIND_KEYSHARE)]
            for _, p in store.items("presignature"):
                secrets += [p["a"], p["w"], p["u"], p["e"]]
            secrets.append((node_dir / "node.key").read_text().strip())
        finally:
            store.close()
        sealed = b"".join(p.read_bytes() for p in node_dir.glob("store.sqlite*"))
        assert all(s.encode() not in sealed for s in secrets[-3:])
    assert len(secrets) > 10
    for secret in secrets:
        assert secret.encode() not in logs and secret.upper().encode() not in logs
