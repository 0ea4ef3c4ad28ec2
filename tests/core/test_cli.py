"""The chainsig CLI with the fake chain plugin: derive, batch, sign, prepare/finalize/broadcast,
send, balance, listings, and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from chainsig_core.cli import cli

from .conftest import HERE


@pytest.fixture
def run(fake_plugin):
    def invoke(*args: str, input: str | None = None):
        return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)

    return invoke


def test_derive_every_chain(run):
    result = run("derive", "--account", "alice.near", "--path", "p", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {r["chain"] for r in rows} == {"fakechain", "fakechain-ed"}
    for row in rows:
        assert set(row) >= {"network", "chain", "chain_network", "account", "path", "public_key", "address"}
        assert row["network"] == "mainnet" and row["chain_network"] == "main"


def test_derive_one_chain_with_options(run):
    result = run("derive", "--chain", "fakechain", "--account", "alice.near", "--path", "p",
                 "--network", "testnet", "--address-type", "long", "--json")
    row = json.loads(result.stdout)
    assert row["chain_network"] == "test" and row["address_type"] == "long" and len(row["address"]) == 5 + 64


def test_derive_table(run):
    result = run("derive", "--account", "alice.near", "--path", "p")
    assert result.exit_code == 0 and "fakechain-ed" in result.stdout


def test_batch_in_order_with_bad_lines(run):
    lines = [
        {"chain": "fakechain", "account": "alice.near", "path": "a"},
        "not json",
        {"chain": "fakechain-ed", "account": "bob.near", "path": "b", "network": "dev"},
        {"chain": "nochain", "account": "alice.near", "path": "a"},
        {"chain": "fakechain", "account": "Alice", "path": "a"},
        {"chain": "fakechain", "account": "alice.near"},
        "",
        {"chain": "fakechain", "account": "alice.near", "path": "a", "chain_network": "test", "address_type": "long"},
    ]
    text = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n"
    result = run("derive", "--from-file", "-", input=text)
    assert result.exit_code == 0
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 7
    assert out[0]["address"].startswith("main1")
    assert out[1] == {"line": 2, "error": "line is not valid JSON"}
    assert out[2]["network"] == "dev" and out[2]["chain_network"] == "local"
    assert "unknown chain 'nochain'" in out[3]["error"]
    assert "invalid NEAR account id" in out[4]["error"]
    assert "missing field(s): path" in out[5]["error"]
    assert out[6]["chain_network"] == "test" and out[6]["address_type"] == "long"


@pytest.mark.parametrize(
    "args, message",
    [
        (["derive", "--account", "Alice", "--path", "p"], "invalid NEAR account id 'Alice'"),
        (["derive", "--chain", "nope", "--account", "alice.near", "--path", "p"], "unknown chain 'nope'"),
        (["derive", "--chain", "fakechain", "--account", "alice.near", "--path", "p", "--chain-network", "moon"], "unknown chain network 'moon'"),
        (["derive", "--account", "alice.near"], "needs --account and --path"),
        (["derive", "--network", "nowhere", "--account", "alice.near", "--path", "p"], "unknown NEAR network"),
        (["sign", "--network", "dev", "--account", "alice.near", "--path", "p", "--payload", "zz"], "not valid hex"),
        (["sign", "--network", "dev", "--account", "alice.near", "--path", "p", "--payload", "00" * 32], "must not be zero"),
        (["sign", "--network", "dev", "--account", "alice.near", "--path", "p", "--payload", "01" * 32, "--domain", "2"], "network 'dev' has no domain 2"),
        (["sign", "--network", "dev", "--account", "alice.near", "--path", "p", "--payload", "00" * 1233, "--domain", "7"], "at most 1232 bytes"),
        (["sign", "--network", "testnet", "--account", "alice.testnet", "--path", "p", "--payload", "01" * 32], "no key for alice.testnet on testnet"),
        (["sign", "--network", "mainnet", "--account", "alice.near", "--path", "p", "--payload", "01" * 32], "--yes"),
        (["send", "--network", "dev", "--chain", "fakechain", "--account", "alice.near", "--path", "p", "--to", "x", "--amount", "1"], "not a fakechain"),
        (["send", "--network", "dev", "--chain", "fakechain", "--account", "alice.near", "--path", "p", "--to", "local1" + "0" * 40, "--amount", "-1"], "negative"),
        (["send", "--network", "dev", "--chain", "fakechain", "--account", "alice.near", "--path", "p", "--to", "local1" + "0" * 40, "--amount", "0.0000001"], "more than 6 decimals"),
        (["finalize", "/no/such/file", "--sign"], "cannot read bundle"),
        (["balance", "--chain", "fakechain"], "--address, or --account and --path"),
    ],
)
def test_errors_are_one_line(run, args, message):
    result = run(*args)
    assert result.exit_code != 0
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_sign_dev_json(run):
    result = run("sign", "--network", "dev", "--account", "alice.near", "--path", "p", "--payload", "0x" + "ab" * 32, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["network"] == "dev" and out["domain_id"] == 0 and out["payload"] == "ab" * 32
    assert out["response"]["scheme"] == "Secp256k1" and set(out["signature"]) == {"r", "s", "recovery_id"}
    ed = json.loads(run("sign", "--network", "dev", "--account", "alice.near", "--path", "p", "--payload", "cafe", "--domain", "1", "--json").stdout)
    assert len(bytes.fromhex(ed["signature"]["ed25519"])) == 64


@pytest.mark.parametrize("domain", ["-1", str(2**64), "two"])
def test_sign_domain_is_a_u64(run, domain):
    result = run("sign", "--network", "dev", "--account", "alice.near", "--path", "p", "--payload", "01" * 32, "--domain", domain)
    assert result.exit_code == 2 and "Invalid value for '--domain'" in result.stderr and "Traceback" not in result.output


def test_send_and_dry_run(run):
    import chainsig_fakechain  # type: ignore[import-not-found]

    to = "local1" + "ab" * 20
    result = run("send", "--network", "dev", "--chain", "fakechain", "--account", "alice.near", "--path", "p",
                 "--to", to, "--amount", "1.5", "--nonce", "7", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["status"] == "confirmed" and out["to"] == to and out["amount"] == "1.5"
    assert set(out) == {"network", "chain", "chain_network", "from", "to", "amount", "tx_hash", "status"}
    assert json.loads(chainsig_fakechain.SENT[-1].raw)["tx"]["nonce"] == 7
    dry = json.loads(run("send", "--network", "dev", "--chain", "fakechain-ed", "--account", "alice.near", "--path", "p",
                         "--to", to, "--amount", "2", "--dry-run", "--json").stdout)
    assert dry["status"] == "signed" and "raw" in dry


def test_prepare_finalize_broadcast_airgapped(run, tmp_path):
    to = "local1" + "cd" * 20
    bundle = tmp_path / "bundle.json"
    result = run("prepare", "--network", "dev", "--chain", "fakechain", "--account", "alice.near", "--path", "p",
                 "--to", to, "--amount", "3", "-o", str(bundle))
    assert result.exit_code == 0, result.output
    data = json.loads(bundle.read_text())
    (payload,) = data["payloads"]
    # sign elsewhere with `chainsig sign`, then finalize with the collected signatures
    signed_out = run("sign", "--network", "dev", "--account", "alice.near", "--path", "p", "--payload", payload["payload"], "--json")
    sigs = tmp_path / "sigs.json"
    sigs.write_text(json.dumps([json.loads(signed_out.stdout)]))
    signed = tmp_path / "signed.json"
    result = run("finalize", str(bundle), "--signatures", str(sigs), "-o", str(signed))
    assert result.exit_code == 0, result.output
    result = run("broadcast", str(signed), "--json")
    assert json.loads(result.stdout)["status"] == "confirmed"
    # a signature for another account is refused before the chain sees it
    other = run("sign", "--network", "dev", "--account", "bob.near", "--path", "p", "--payload", payload["payload"], "--json")
    sigs.write_text(json.dumps([json.loads(other.stdout)["response"]]))
    result = run("finalize", str(bundle), "--signatures", str(sigs))
    assert result.exit_code != 0 and "does not" in result.stderr
    sigs.write_text("[]")
    assert "1 payload(s) but 0 signature(s)" in run("finalize", str(bundle), "--signatures", str(sigs)).stderr
    result = run("finalize", str(bundle), "--sign")
    assert result.exit_code == 0 and json.loads(result.stdout)["chain"] == "fakechain"


def test_balance_and_listings(run):
    import chainsig_fakechain  # type: ignore[import-not-found]

    address = "main1" + "ef" * 20
    chainsig_fakechain.LEDGER[address] = 1_250_000
    out = json.loads(run("balance", "--chain", "fakechain", "--address", address, "--json").stdout)
    assert out["amount"] == "1.25" and out["base_units"] == "1250000" and out["symbol"] == "FAKE"
    chains = json.loads(run("chains", "--json").stdout)
    assert [c["chain"] for c in chains] == ["fakechain", "fakechain-ed"]
    plugins = json.loads(run("plugins", "--json").stdout)
    assert plugins[0]["name"] == "fakechain" and plugins[0]["loaded"]
    help_text = run("send", "--help").stdout
    assert "--nonce" in help_text and "--dry-run" in help_text


def _subprocess(*args: str, extra_path: list[Path], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, **(env or {})}
    environ["PYTHONPATH"] = os.pathsep.join(str(p) for p in extra_path)
    return subprocess.run([sys.executable, "-m", "chainsig_core", *args], capture_output=True, text=True, env=environ, timeout=60)


def test_real_process_broken_plugin_named_and_no_traceback(tmp_path):
    env = {"CHAINSIG_LOAD_PLUGINS": "fakechain,broken", "CHAINSIG_CONFIG": str(tmp_path / "c.toml")}
    paths = [HERE / "fake_plugin", HERE / "broken_plugin"]
    result = _subprocess("derive", "--account", "alice.near", "--path", "p", "--json", extra_path=paths, env=env)
    assert result.returncode == 0, result.stderr
    assert "plugin 'broken' failed to load" in result.stderr
    assert len(json.loads(result.stdout)) == 2
    bad = _subprocess("derive", "--account", "BAD", "--path", "p", extra_path=paths, env=env)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "invalid NEAR account id" in bad.stderr


def test_config_error_is_one_line(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("[[[")
    result = _subprocess("derive", "--account", "alice.near", "--path", "p", extra_path=[HERE / "fake_plugin"],
                         env={"CHAINSIG_CONFIG": str(config), "CHAINSIG_LOAD_PLUGINS": "fakechain"})
    assert result.returncode == 2 and "not valid TOML" in result.stderr and "Traceback" not in result.stderr


def test_parallel_batch_keeps_order_and_line_numbers(run, monkeypatch, tmp_path):
    import chainsig_core.derive as derive_module

    monkeypatch.setattr(derive_module, "PARALLEL_MIN_ROWS", 3)
    monkeypatch.setattr(derive_module, "PARALLEL_CHUNK", 3)
    rows = []
    for i in range(20):
        rows.append("garbage" if i % 7 == 3 else json.dumps({"chain": "fakechain", "account": "alice.near", "path": f"p{i}"}))
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(rows) + "\n")
    parallel = run("derive", "--from-file", str(path), "--workers", "2")
    serial = run("derive", "--from-file", str(path), "--workers", "1")
    assert parallel.exit_code == 0 and parallel.stdout == serial.stdout
    out = [json.loads(line) for line in parallel.stdout.splitlines()]
    assert len(out) == 20
    assert [o["line"] for o in out if "error" in o] == [4, 11, 18]
    assert [o["path"] for o in out if "path" in o] == [f"p{i}" for i in range(20) if i % 7 != 3]


def test_same_flag_from_two_chains_is_merged(run, chainsig_register_plugin):
    from chainsig_fakechain import FakeChain  # type: ignore[import-not-found]

    from chainsig_core import ChainOption, hookimpl

    class Other(FakeChain):
        name = "otherchain"

        def cli_options(self):
            return [ChainOption("--nonce", "Other: a textual nonce.", type=str), ChainOption("--nonce-flag", "x", is_flag=True)]

    class Plugin:
        @hookimpl
        def register_chains(self, register):
            register(Other())

    chainsig_register_plugin(Plugin(), name="other")
    text = " ".join(run("send", "--help").stdout.split())
    assert "[fakechain, fakechain-ed] Fake nonce. | [otherchain] Other: a textual nonce." in text
    assert "--nonce TEXT" in text


def test_usage_errors_stay_on_one_line(run):
    result = run("derive", "a\nb")
    assert result.exit_code == 2
    assert len([line for line in result.stderr.splitlines() if line.startswith("Error:")]) == 1
    assert "a\\nb" in result.stderr


def test_help_and_derive_load_no_signing_machinery(tmp_path):
    """Start-up (benchmarks/bench_startup.py): ``chainsig --help`` and ``chainsig derive`` load
    neither the signing flow, the signers nor asyncio."""
    script = (
        "import sys\n"
        "from chainsig_core.cli import cli\n"
        "for args in (['--help'], ['derive', '--chain', 'fakechain', '--account', 'alice.near', '--path', 'p', '--json']):\n"
        "    try:\n"
        "        cli.main(args, prog_name='chainsig')\n"
        "    except SystemExit as exc:\n"
        "        assert not exc.code, exc.code\n"
        "loaded = [m for m in ('asyncio', 'chainsig_core.flow', 'chainsig_core.signers') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    env = {**os.environ, "PYTHONPATH": str(HERE / "fake_plugin"), "CHAINSIG_LOAD_PLUGINS": "fakechain",
           "CHAINSIG_CONFIG": str(tmp_path / "none.toml")}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
