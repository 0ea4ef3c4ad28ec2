"""``chainsig mpc vote add-domains`` with real processes on devnets of their own (3 MPC nodes):

* on a running devnet, the governance threshold of operators vote a second ``DamgardEtAl``
  domain (id 2); the nodes run its DKG through the contract (Initializing → ``vote_pk`` →
  Running with three domains), fill presignatures for it, and ``chainsig_core`` signs in
  domain 2 — the library's ``sign(domain_id=2)`` and ``chainsig sign --domain 2`` — with
  signatures that verify under the key derived from domain 2's root key, not domain 0's. The
  devnet's config lists domains 0 and 1 only: the signer reads domain 2's root key (and so its
  curve) from the contract's ``public_key`` view; once the key is in the config, ``derive``
  uses it too, and ``chainsig send --domain 2`` moves ETH on the devnet's anvil from the
  address derived in domain 2 (funded with ``devnet fund --domain 2``), signed by the MPC nodes
  in domain 2. Domains 0 and 1 keep signing;
* a contract started with no domains (the ``init`` path) gets domains 0 and 1 from
  ``vote add-domains``, and ``chainsig_core`` signs with both.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from chainsig_core.errors import SignatureVerificationError
from chainsig_core.kdf import derive_public_key
from chainsig_core.keys import Curve, PublicKey
from chainsig_core.signatures import parse_signature_response, verify_signature

ACCOUNT = "alice.devnet"
NODES = 3


@pytest.fixture(scope="module")
def devnet3(tmp_path_factory: pytest.TempPathFactory, start_devnet: Any) -> Iterator[dict[str, Any]]:
    """A devnet of its own: 3 MPC nodes, K = 2, anvil (for a send from domain 2), no Solana."""
    with start_devnet(tmp_path_factory.mktemp("mpc-add-domains"), nodes=NODES, threshold=2, block_ms=50,
                      signers="mpc", evm=True, solana=False) as description:
        yield description


@pytest.fixture(autouse=True)
def _devnet_config() -> None:
    """Overrides the package's fixture of the same name (which starts the shared dev-responder
    devnet): the tests here start their own MPC devnets and point CHAINSIG_CONFIG at them."""


@pytest.fixture
def devnet3_config(devnet3: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """``devnet3`` with CHAINSIG_CONFIG pointing at its config (network ``devnet``)."""
    from chainsig_core import plugins

    monkeypatch.setenv("CHAINSIG_CONFIG", devnet3["config"])
    plugins.reset()
    return devnet3


def view(description: dict[str, Any], method: str, args: dict[str, Any] | None = None) -> Any:
    from chainsig_core.devnet.mpc_nodes import contract_view

    return contract_view(description["rpc_url"], description["contract_id"], method, args or {})


def vote(description: dict[str, Any], node: str, *domains: str) -> subprocess.CompletedProcess[str]:
    config = Path(description["root"]) / "nodes" / node / "node.toml"
    argv = [sys.executable, "-m", "chainsig_core", "mpc", "vote", "add-domains", "--config", str(config), "--json"]
    for domain in domains:
        argv += ["--domain", domain]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "CHAINSIG_CONFIG": description["config"]})


def chainsig(description: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    """The ``chainsig`` CLI as a process, with the devnet's config."""
    return subprocess.run([sys.executable, "-m", "chainsig_core", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "CHAINSIG_CONFIG": description["config"]})


def has_series(text: str, name: str, **labels: str) -> bool:
    """Whether a Prometheus exposition has a sample of ``name`` with these labels."""
    for line in text.splitlines():
        found = re.match(rf"{name}\{{([^}}]*)\}} ", line)
        if found and labels.items() <= dict(re.findall(r'(\w+)="([^"]*)"', found.group(1))).items():
            return True
    return False


def test_operators_add_a_second_ecdsa_domain_and_the_network_signs_with_it(devnet3_config: dict[str, Any]) -> None:
    devnet3 = devnet3_config
    started = time.monotonic()
    before = view(devnet3, "state")["Running"]
    assert before["domains"]["next_domain_id"] == 2 and before["parameters"]["threshold"] == 2

    refused = vote(devnet3, "node0", "CaitSith")
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.startswith("error: --domain 'CaitSith'") and refused.stderr.count("\n") == 1

    expected = {"domains": [{"id": 2, "protocol": "DamgardEtAl", "reconstruction_threshold": 2, "purpose": "Sign"}]}
    for voter in ("node0", "node1"):  # the governance threshold of 3 participants is 2
        done = vote(devnet3, voter, "DamgardEtAl")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == expected

    deadline = time.monotonic() + 90
    state = view(devnet3, "state")
    while time.monotonic() < deadline and not ("Running" in state and len(state["Running"]["keyset"]["domains"]) == 3):
        time.sleep(0.3)
        state = view(devnet3, "state")
    running = state.get("Running")
    assert running is not None and len(running["keyset"]["domains"]) == 3, state
    assert [d["id"] for d in running["domains"]["domains"]] == [0, 1, 2]
    from chainsig_core.devnet.mpc_nodes import root_keys, wait_until_nodes_running

    keys = root_keys(running)
    assert {d: keys[d] for d in (0, 1)} == {d["id"]: d["public_key"] for d in devnet3["domains"]}  # unchanged
    root2 = PublicKey.from_near_string(keys[2])
    assert root2.curve is Curve.SECP256K1 and keys[2] != keys[0]
    assert PublicKey.from_near_string(view(devnet3, "public_key", {"domain_id": 2})) == root2
    wait_until_nodes_running(devnet3["nodes"], [0, 1, 2])

    from chainsig_core import sign
    from chainsig_core.config import load_config, register_network
    from chainsig_core.derive import derive_address
    from chainsig_core.errors import InvalidInputError

    assert set(load_config().network("devnet").root_public_keys) == {0, 1}  # up registered 0 and 1
    payload = hashlib.sha256(b"signed in domain 2").digest()
    result = sign(account=ACCOUNT, path="second-ecdsa", payload=payload, domain_id=2, network="devnet")
    derived = derive_public_key(root2, ACCOUNT, "second-ecdsa")
    contract_derived = view(devnet3, "derived_public_key",
                            {"path": "second-ecdsa", "predecessor": ACCOUNT, "domain_id": 2})
    assert PublicKey.from_near_string(contract_derived) == derived == result.public_key
    assert result.request.curve is Curve.SECP256K1 and result.to_json("devnet")["domain_id"] == 2
    verify_signature(derived, payload, result.signature)
    domain0_key = derive_public_key(PublicKey.from_near_string(keys[0]), ACCOUNT, "second-ecdsa")
    with pytest.raises(SignatureVerificationError):  # the signature is bound to domain 2's key, not domain 0's
        verify_signature(domain0_key, payload, result.signature)
    with pytest.raises(InvalidInputError, match="an ECDSA payload is exactly 32 bytes"):  # the curve came from the contract
        sign(account=ACCOUNT, path="second-ecdsa", payload=b"not a hash", domain_id=2, network="devnet")

    cli_payload = hashlib.sha256(b"signed in domain 2 by the CLI").digest()
    done = chainsig(devnet3, "sign", "--network", "devnet", "--account", ACCOUNT, "--path", "second-ecdsa-cli",
                    "--payload", cli_payload.hex(), "--domain", "2", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert (out["domain_id"], out["payload"], out["response"]["scheme"]) == (2, cli_payload.hex(), "Secp256k1")
    verify_signature(derive_public_key(root2, ACCOUNT, "second-ecdsa-cli"), cli_payload,
                     parse_signature_response(out["response"]))

    # with domain 2's key in the config, offline derivation uses it (and signing compares it)
    register_network("devnet", rpc_url=devnet3["rpc_url"], contract_id=devnet3["contract_id"],
                     credentials_dir=Path(devnet3["data_dir"]) / "credentials",
                     root_public_keys={d: PublicKey.from_near_string(k) for d, k in keys.items()})
    address = derive_address(chain="ethereum", account=ACCOUNT, path="second-ecdsa", network="devnet", domain_id=2)
    assert address.public_key == derived
    assert address.address != derive_address(chain="ethereum", account=ACCOUNT, path="second-ecdsa", network="devnet").address
    again = sign(account=ACCOUNT, path="second-ecdsa", payload=payload, domain_id=2, network="devnet")
    verify_signature(derived, payload, again.signature)
    send_from_domain_2(devnet3, address.address)

    for node in devnet3["nodes"]:
        assert httpx.get(node["metrics_url"] + "/health", timeout=5).json()["domains"] == [0, 1, 2]
    texts = [httpx.get(n["metrics_url"] + "/metrics", timeout=5).text for n in devnet3["nodes"]]
    # label order in the exposition is the library's (sorted): match the labels, not the text
    assert all(has_series(t, "chainsig_mpc_pool_size", kind="presignatures", domain="2") for t in texts)
    assert any(has_series(t, "chainsig_mpc_signatures_total", domain="2") for t in texts)
    print(f"add-domains to a signature in domain 2: {time.monotonic() - started:.1f} s")


RECIPIENT = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def send_from_domain_2(devnet3: dict[str, Any], sender: str) -> None:
    """Fund the domain-2 EVM address of ``(ACCOUNT, "second-ecdsa")`` on the devnet's anvil and
    send from it with the CLI: the MPC nodes sign in domain 2 and anvil executes the transfer."""
    started = time.monotonic()
    who = ("--account", ACCOUNT, "--path", "second-ecdsa", "--domain", "2")
    funded = chainsig(devnet3, "devnet", "fund", "--data-dir", devnet3["root"], "--chain", "ethereum",
                      *who, "--amount", "1", "--json")
    assert funded.returncode == 0, funded.stderr
    assert json.loads(funded.stdout)["address"] == sender
    sent = chainsig(devnet3, "send", "--network", "devnet", "--chain", "ethereum", *who,
                    "--to", RECIPIENT, "--amount", "0.25", "--json")
    assert sent.returncode == 0, sent.stderr
    out = json.loads(sent.stdout)
    assert (out["status"], out["from"], out["to"], out["domain_id"]) == ("confirmed", sender, RECIPIENT, 2)

    def balance(*args: str) -> str:
        done = chainsig(devnet3, "balance", "--network", "devnet", "--chain", "ethereum", *args, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)["amount"]

    assert balance("--address", RECIPIENT) == "0.25"
    left = balance(*who)
    assert Decimal("0.74") < Decimal(left) < Decimal("0.75")  # 1 − 0.25 − gas
    print(f"fund and send from domain 2 on anvil: {time.monotonic() - started:.1f} s")


def sign_domains_zero_and_one(roots: dict[int, str], path: str) -> None:
    """ECDSA (domain 0) and EdDSA (domain 1) through ``chainsig_core`` on network ``devnet`` of
    the current config, each verified under the key derived from ``roots``."""
    from chainsig_core.flow import sign_async
    from chainsig_core.signers import get_signer

    async def run() -> None:
        signer = get_signer("devnet")
        try:
            for domain_id, payload in ((0, hashlib.sha256(path.encode()).digest()), (1, path.encode())):
                result = await sign_async(account=ACCOUNT, path=path, payload=payload,
                                          domain_id=domain_id, network="devnet", signer=signer)
                verify_signature(derive_public_key(PublicKey.from_near_string(roots[domain_id]), ACCOUNT, path),
                                 payload, result.signature)
        finally:
            await signer.aclose()

    asyncio.run(run())


def test_domains_zero_and_one_still_sign_after_the_addition(devnet3_config: dict[str, Any]) -> None:
    sign_domains_zero_and_one({d["id"]: d["public_key"] for d in devnet3_config["domains"]}, "after-add")


def test_a_contract_started_without_domains_gets_its_keys_through_add_domains(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ``init`` path: the contract is Running with no domains (``init`` / ``init_running``
    with none), so the nodes wait; the operators' ``vote add-domains`` starts key generation."""
    from chainsig_core import plugins
    from chainsig_core.config import register_network
    from chainsig_core.devnet import mpc_nodes
    from chainsig_core.devnet.processes import ServiceProcess, chainsig_argv, start_service, stop_service

    config = tmp_path / "config.toml"
    monkeypatch.setenv("CHAINSIG_CONFIG", str(config))
    plugins.reset()
    participants = [{"account_id": f"node{i}", "url": f"https://127.0.0.1:{port}", "port": port}
                    for i, port in enumerate(mpc_nodes.free_ports(NODES))]
    genesis = tmp_path / "genesis.json"
    genesis.write_text(json.dumps({
        "participants": [{"account_id": p["account_id"], "url": p["url"]} for p in participants],
        "contract": {"state": "running", "domains": []},
    }))
    logs = tmp_path / "logs"
    services: list[ServiceProcess] = []
    try:
        host, ready = start_service("host", chainsig_argv(
            "devnet", "host", "--data-dir", str(tmp_path / "host"), "--port", "0", "--block-ms", "50",
            "--genesis", str(genesis), "--json"), logs, r'(?m)^\{"network": ?"devnet".*\}\s*$')
        services.append(host)
        description = {**json.loads(ready.group(0)), "root": str(tmp_path), "config": str(config)}
        configs = mpc_nodes.init_nodes(tmp_path / "host", tmp_path / "nodes", description, participants)
        description["nodes"] = mpc_nodes.start_nodes(configs, logs, services)
        before = view(description, "state")["Running"]
        assert before["domains"] == {"domains": [], "next_domain_id": 0}

        for voter in ("node0", "node1"):
            done = vote(description, voter, "DamgardEtAl", "Frost")
            assert done.returncode == 0, done.stderr
            assert json.loads(done.stdout) == {"domains": [  # K defaults to the participant set's threshold
                {"id": 0, "protocol": "DamgardEtAl", "reconstruction_threshold": 2, "purpose": "Sign"},
                {"id": 1, "protocol": "Frost", "reconstruction_threshold": 2, "purpose": "Sign"}]}
        running = mpc_nodes.wait_until_running(description["rpc_url"], description["contract_id"], services, 90)
        roots = mpc_nodes.root_keys(running)
        assert sorted(roots) == [0, 1]
        mpc_nodes.wait_until_nodes_running(description["nodes"], [0, 1])
        register_network("devnet", rpc_url=description["rpc_url"], contract_id=description["contract_id"],
                         credentials_dir=Path(description["data_dir"]) / "credentials",
                         root_public_keys={d: PublicKey.from_near_string(k) for d, k in roots.items()})
        sign_domains_zero_and_one(roots, "from-init")
    finally:
        for service in reversed(services):
            stop_service(service, grace=5.0)
