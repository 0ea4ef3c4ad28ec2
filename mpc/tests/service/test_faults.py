"""The test-only misbehaviour switch (``--insecure-corrupt``): each mode corrupts exactly what
it names, and the honest parties' checks catch it — DKG over real TLS names the dealer, a FROST
share names its signer, an ECDSA share makes the combined signature fail without output."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from chainsig_mpc.protocols.dkg import Dkg
from chainsig_mpc.protocols.ecdsa import EcdsaCoordinator, EcdsaSigner
from chainsig_mpc.protocols.errors import ProtocolAbort
from chainsig_mpc.protocols.frost_session import FrostCoordinator
from chainsig_mpc.protocols.messages import Message
from chainsig_mpc.service.faults import MODES, Faults

from chainsig_core.errors import InvalidInputError

Run = Callable[[Awaitable[Any]], Any]


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="unknown corruption mode"):
        Faults(frozenset({"everything"}))


@pytest.mark.parametrize("mode", MODES)
def test_a_mode_touches_only_its_own_kind_of_share(mode: str) -> None:
    faults = Faults(frozenset({mode}))
    ecdsa = Message("ecdsa-sign.share", b"\x01" * 32, 1, 0, {"mu": "01" * 32, "nu": "02" * 32})
    frost = Message("frost.share", b"\x02" * 32, 1, 0, {"z": "03" + "00" * 31})
    other = Message("dkg.commit", b"\x03" * 32, 1, None, {"commitment": []})
    assert (faults.tamper_share(ecdsa) != ecdsa) == (mode == "ecdsa-share")
    assert (faults.tamper_share(frost) != frost) == (mode == "frost-share")
    assert faults.tamper_share(other) == other
    if mode == "ecdsa-share":
        assert faults.tamper_share(ecdsa).body["mu"] == ecdsa.body["mu"]  # only ν is wrong
    assert not Faults() and Faults().tamper_share(ecdsa) == ecdsa


def test_dkg_over_tls_names_the_corrupt_dealer(run: Run, tls_cluster: Any) -> None:
    async def scenario() -> dict[int, Any]:
        async with tls_cluster(4) as cluster:
            cluster.networks[2].faults = Faults(frozenset({"dkg"}))
            ids = cluster.ids
            return dict(zip(ids, await asyncio.gather(*(
                cluster.networks[i].run_protocol("dkg/0/0/0", Dkg("ed25519", 1, 0, ids, 2, i), 20)
                for i in ids), return_exceptions=True), strict=True))

    outcomes = run(scenario())
    for i in (0, 1, 3):
        assert isinstance(outcomes[i], ProtocolAbort), outcomes[i]
        assert outcomes[i].culprits == (2,)


def test_a_corrupt_frost_share_is_named(make_cluster: Any, request_for: Any) -> None:
    cluster = make_cluster(3, 2, curves=("ed25519",))
    signers = (0, 2)
    cluster.frost_precommit(1, 0, signers)
    cluster.requests["r"] = request_for("r", payload=b"message")
    coordinator = FrostCoordinator(cluster.frost_signer(0, 1), cluster.nodes[0].commitments)
    (package,) = coordinator.start("r", signers)
    share = Faults(frozenset({"frost-share"})).tamper_share(cluster.frost_signer(2, 1).handle_package(package))
    with pytest.raises(ProtocolAbort) as caught:
        coordinator.receive(share)
    assert caught.value.culprits == (2,)


def test_a_corrupt_ecdsa_share_gives_no_signature_and_no_culprit(make_cluster: Any, request_for: Any) -> None:
    cluster = make_cluster(3, 2, curves=("secp256k1",))
    presignature = cluster.presign(0, [0, 1, 2], 0, "p0")
    cluster.requests["r"] = request_for("r")
    node = cluster.nodes[0]
    coordinator = EcdsaCoordinator(cluster.key(0, 0), node.presignatures, node.consumed, cluster.lookup)
    corrupt = Faults(frozenset({"ecdsa-share"}))
    outcome = None
    with pytest.raises(ProtocolAbort, match="does not verify") as caught:
        for message in coordinator.start("r", presignature):
            peer = cluster.nodes[message.recipient]
            share = EcdsaSigner(cluster.key(message.recipient, 0), peer.presignatures, peer.consumed,
                                cluster.lookup).handle_request(message)
            outcome = coordinator.receive(corrupt.tamper_share(share) if message.recipient == 2 else share)
    assert outcome is None and caught.value.culprits == ()


def test_the_switch_is_refused_on_real_near_networks(tmp_path: Any) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "CHAINSIG_CONFIG": str(tmp_path / "config.toml")}

    def chainsig(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "chainsig_core", *args], capture_output=True, text=True,
                              env=env, timeout=60)

    init = chainsig("mpc", "init", "--account", "op1.testnet", "--network", "testnet",
                    "--rpc-url", "http://127.0.0.1:9", "--contract-id", "v1.signer-prod.testnet",
                    "--data-dir", str(tmp_path / "node"), "--listen", "127.0.0.1:4101", "--json")
    assert init.returncode == 0, init.stderr
    node = chainsig("mpc", "node", "--config", str(tmp_path / "node" / "node.toml"), "--insecure-corrupt", "dkg")
    assert node.returncode != 0
    assert node.stderr.strip().splitlines() == [
        "error: --insecure-corrupt is refused on NEAR testnet: it is for local test networks"]
