"""``chainsig demo`` end to end (its own private devnet, torn down afterwards)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from chainsig_core.cli import cli


def test_demo_reports_every_chain(tmp_path, monkeypatch, _devnet_config):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    config_before = _devnet_config.read_text()
    result = CliRunner().invoke(cli, ["demo", "--json"])  # real MPC nodes (the default)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["signers"] == "mpc"
    by_chain = {r["chain"]: r for r in report["results"]}
    assert set(by_chain) == {"ethereum", "base", "solana", "bitcoin"}
    for chain in ("ethereum", "base", "solana"):
        assert by_chain[chain]["status"] == "confirmed" and by_chain[chain]["tx_hash"]
    assert by_chain["bitcoin"]["status"] == "verified"
    for row in report["results"]:
        assert {"chain", "chain_network", "from", "to", "amount", "tx_hash", "status"} <= set(row)
    # the demo used its own config and data dir: the user's are untouched
    assert _devnet_config.read_text() == config_before
    assert list(tmp_path.iterdir()) == []
