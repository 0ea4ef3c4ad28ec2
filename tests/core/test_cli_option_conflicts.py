"""Options that contradict each other, or values no command could use, are refused in one line
(never silently resolved one way)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from chainsig_core.cli import cli

ADDRESS = "main1" + "ef" * 20


@pytest.fixture
def run(fake_plugin):
    def invoke(*args: str):
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    return invoke


@pytest.mark.parametrize(
    "extra, named",
    [(["--account", "a.near", "--path", "p"], "--account, --path"),
     (["--path", "p"], "--path"),
     (["--domain", "1"], "--domain"),
     (["--address-type", "long"], "--address-type")],
)
def test_balance_refuses_derivation_options_with_an_address(run, extra, named):
    result = run("balance", "--chain", "fakechain", "--address", ADDRESS, *extra)
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"error: {named} would derive an address: give --address or the "
                                     "account's options, not both")


@pytest.mark.parametrize(
    "url, message",
    [("", "is not a URL: it does not start with http:// or https://"),
     ("notaurl", "is not a URL: it does not start with http:// or https://"),
     ("http://", "names no host after http://"),
     ("ftp://user:secret@host", "has scheme 'ftp': it must be http:// or https://"),
     ("file:///etc/passwd", "has scheme 'file': it must be http:// or https://"),
     ("http://user:secret@host:99999/key", "is not a valid URL")],
)
def test_rpc_url_must_be_http_with_a_host_and_is_never_echoed(run, url, message):
    result = run("balance", "--chain", "fakechain", "--address", ADDRESS, "--rpc-url", url)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: --rpc-url {message}"
    assert "secret" not in result.output


def test_a_good_rpc_url_reaches_the_chain(run):
    result = run("balance", "--chain", "fakechain", "--address", ADDRESS, "--rpc-url", " https://rpc.example/ ")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("nodes, threshold, message", [
    ("2", "5", "robust ECDSA with K = 5 needs at least 9 nodes, got 2"),
    ("4", "3", "robust ECDSA with K = 3 needs at least 5 nodes, got 4"),
])
def test_devnet_parameters_no_network_could_run_are_invalid_input(run, tmp_path, nodes, threshold, message):
    result = run("devnet", "up", "--data-dir", str(tmp_path / "dn"), "--nodes", nodes, "--threshold", threshold)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {message}"
    assert not (tmp_path / "dn" / "devnet.json").exists()


def test_a_full_disk_is_an_io_error_not_a_bug_to_report(monkeypatch):
    """sysexits' EX_IOERR (74) and the system's words; 'please report it' is for real bugs."""
    import subprocess
    import sys

    monkeypatch.delenv("CHAINSIG_LOAD_PLUGINS", raising=False)
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "chainsig_core", "derive", "--chain", "ethereum",
                                 "--account", "a.near", "--path", "p"], stdout=full, stderr=subprocess.PIPE,
                                text=True, timeout=60)
    assert result.returncode == 74
    assert result.stderr.strip() == "error: No space left on device"
