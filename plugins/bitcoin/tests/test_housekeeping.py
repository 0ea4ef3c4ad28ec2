"""Nothing chainsig-bitcoin does writes under the user's home or imports heavy machinery early."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROBE = """
import sys
import chainsig_bitcoin
assert not {"embit", "btclib", "bitcoinlib", "httpx"} & set(sys.modules), "heavy import at module top"
from click.testing import CliRunner
from chainsig_core.cli import cli
result = CliRunner().invoke(cli, ["send", "--network", "dev", "--chain", "bitcoin", "--account", "alice.near",
    "--path", "p", "--to", "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", "--amount", "0.0005",
    "--utxos", sys.argv[1], "--fee-rate", "2", "--dry-run", "--json"])
assert result.exit_code == 0, result.output
assert "bitcoinlib" not in sys.modules
print("ok")
"""


def test_send_leaves_home_untouched(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    utxos = tmp_path / "utxos.json"
    utxos.write_text(json.dumps([{"txid": "cd" * 32, "vout": 0, "value": 100_000}]))
    env = {
        **os.environ, "HOME": str(home), "CHAINSIG_CONFIG": str(tmp_path / "config.toml"),
        "XDG_CONFIG_HOME": str(home / ".config"), "XDG_CACHE_HOME": str(home / ".cache"),
    }
    out = subprocess.run([sys.executable, "-c", PROBE, str(utxos)], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("ok")
    assert list(home.rglob("*")) == []
