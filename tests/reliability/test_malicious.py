"""A malicious node among five (``chainsig mpc node --insecure-corrupt``, a test-only switch):
the honest nodes name it, never output a bad signature, exclude it from their signer sets and
keep signing; in a DKG they name it, and the DKG completes once the node is repaired.

Run: ``.venv/bin/python -m pytest tests/reliability/test_malicious.py -q``
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx

FAST_BLOCKS = 50
BAD = 4
"""Index of the misbehaving node (``mpc-node4``, account ``node4.devnet``)."""


def assert_all_signed(results: list[Any]) -> None:
    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, failures


def test_corrupt_signature_shares_are_named_excluded_and_signing_continues(devnet_factory: Any) -> None:
    net = devnet_factory(block_ms=FAST_BLOCKS)
    net.assert_signs("honest", 4)  # the pools hold material with node 4 in its signer sets
    net.kill_node(BAD)
    net.restart_node(BAD, extra_args=("--insecure-corrupt", "ecdsa-share", "--insecure-corrupt", "frost-share"))
    net.wait_connected()
    bad_node = net.description["nodes"][BAD]
    health = net.health(bad_node)
    assert health["insecure_corrupt"] == ["ecdsa-share", "frost-share"]
    culprit = str(health["participant_id"])
    honest = [n for i, n in enumerate(net.description["nodes"]) if i != BAD]

    def reasons() -> set[str]:
        exclusions: dict[Any, float] = {}
        for node in honest:
            exclusions.update({(node["account_id"], *k): v for k, v in
                               net.samples(node, "chainsig_mpc_peer_exclusions_total").items()})
        assert {dict(k[1:])["peer"] for k in exclusions} <= {culprit}, exclusions  # never an honest peer
        return {dict(k[1:])["reason"] for k in exclusions}

    # A coordinator meets node 4 only when its signer set includes it, and once it named it,
    # leaves it out of both domains. ECDSA first (elimination needs two failed sets and a
    # verified signature at one coordinator), in small batches so that few coordinators have
    # named it when FROST requests start; FROST then until a share check names it.
    for domain, reason in ((0, "ecdsa-share"), (1, "sign")):
        for batch in range(25):
            assert_all_signed(net.sign_batch(f"malicious-{domain}-{batch}", 4, domains=(domain,),
                                             warm_up=False))
            if reason in reasons():
                break
        assert reason in reasons(), f"node {culprit} was not named in domain {domain}"

    failures: dict[Any, float] = {}
    for node in honest:
        failures.update({(node["account_id"], *k): v for k, v in
                         net.samples(node, "chainsig_mpc_protocol_failures_total").items()})
        excluded = [e["peer"] for e in net.health(node)["excluded"]]
        assert excluded in ([], [int(culprit)])
    named = {dict(k[1:])["culprit"] for k in failures if dict(k[1:])["protocol"] == "sign"}
    assert culprit in named  # FROST's share check named it
    assert "unknown" in named  # ECDSA signatures that did not verify: refused, never responded
    assert named <= {culprit, "unknown"}
    # excluded everywhere it was met, signing goes on without it
    assert_all_signed(net.sign_batch("after-exclusion", 10, warm_up=False))


def test_a_corrupt_dkg_dealer_is_named_and_keygen_completes_once_it_is_repaired(tmp_path: Path,
                                                                                parse_samples: Any) -> None:
    """The devnet is assembled step by step (``devnet up`` waits for the keys, which a
    corrupt dealer prevents): host, node imports, four honest nodes and one corrupt dealer."""
    from chainsig_core.devnet import mpc_nodes
    from chainsig_core.devnet.processes import chainsig_argv, start_service, stop_service

    services: list[Any] = []
    logs = tmp_path / "logs"
    try:
        genesis = tmp_path / "genesis.json"
        participants = mpc_nodes.write_genesis(genesis, 5, 2)
        host, match = start_service("host", chainsig_argv(
            "devnet", "host", "--data-dir", str(tmp_path / "host"), "--port", "0",
            "--block-ms", str(FAST_BLOCKS), "--json", "--genesis", str(genesis)),
            logs, r'(?m)^\{"network": ?"devnet".*\}\s*$')
        services.append(host)
        description = json.loads(match.group(0))
        configs = mpc_nodes.init_nodes(tmp_path / "host", tmp_path / "nodes", description, participants)
        nodes = mpc_nodes.start_nodes(configs, logs, services,
                                      extra_args={configs[BAD]: ("--insecure-corrupt", "dkg")})
        deadline = time.monotonic() + 90
        named: set[str] = set()
        while not named:
            assert time.monotonic() < deadline, "no honest node named the corrupt dealer"
            for i, node in enumerate(nodes):
                if i != BAD:
                    try:
                        text = httpx.get(node["metrics_url"] + "/metrics", timeout=5).text
                    except httpx.HTTPError:
                        continue
                    named |= {dict(k)["culprit"] for k in parse_samples(text, "chainsig_mpc_protocol_failures_total")
                              if dict(k)["protocol"] == "dkg"}
            time.sleep(0.5)
        bad_id = str(httpx.get(nodes[BAD]["metrics_url"] + "/health", timeout=5).json()["participant_id"])
        assert named == {bad_id}
        state = mpc_nodes.contract_view(description["rpc_url"], description["contract_id"], "state", {})
        assert "Initializing" in state  # no key from a run with a corrupt dealer

        bad = next(s for s in services if s.name == f"mpc-node{BAD}")
        stop_service(bad, grace=5.0)  # the operator repairs the node: same store, no switch
        services.remove(bad)
        mpc_nodes.start_nodes([configs[BAD]], logs, services)
        running = mpc_nodes.wait_until_running(description["rpc_url"], description["contract_id"], services,
                                               timeout=120)
        assert sorted(mpc_nodes.root_keys(running)) == [0, 1]
    finally:
        for service in reversed(services):
            stop_service(service, grace=5.0)
