"""Hostile command lines for ``derive``, ``sign``, ``send``, ``prepare`` and ``finalize``
against the running MPC devnet's config: every run either succeeds or exits non-zero with one
error line on stderr — never a traceback, never the CLI's internal-error exit (70).

click's own usage errors (missing/unknown option, bad integer) print its ``Usage:`` and
``Try '… --help'`` hint lines before the single ``Error:`` line; the hint is allowed, a second
error line is not. (click echoes a stray argument verbatim, so one holding a newline makes the
error span two lines — a known gap, see docs/reliability.md.)
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

INTERNAL_ERROR_EXIT = 70

hostile_text = (
    st.text(max_size=40)
    | st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=300, max_size=2000)
    | st.sampled_from(["", "-", "--", "alice.devnet", "ALICE", "a" * 65, "0x", "0x" + "ff" * 32, "ff" * 33,
                       "1e18", "-1", "0.0000000000000000001", "NaN", "inf", "1000wei", "9" * 80,
                       "../../etc/passwd", "/dev/zero", "{}", "[]", "[{\"r\": 1}]", "\u202e", "ethereum",
                       "bitcoin", "solana", "devnet", "dev", "mainnet", "p2pkh", "%s%n"])
)

OPTIONS: dict[str, list[str]] = {
    "derive": ["--network", "--chain", "--account", "--path", "--chain-network", "--address-type", "--workers",
               "--from-file"],
    "sign": ["--network", "--account", "--path", "--payload", "--domain", "--resume", "--gas"],
    "send": ["--network", "--chain", "--account", "--path", "--to", "--amount", "--token", "--chain-network",
             "--rpc-url", "--address-type", "--fee-rate", "--utxos", "--nonce", "--max-fee", "--data", "--memo"],
    "prepare": ["--network", "--chain", "--account", "--path", "--to", "--amount", "--token", "--rpc-url",
                "--blockhash", "--chain-id", "--instructions", "--output"],
    "finalize": ["--signatures", "--output"],
}
FLAGS = {"derive": ["--json"], "sign": ["--json", "--yes"], "send": ["--dry-run", "--json", "--yes"],
         "prepare": ["--json"], "finalize": ["--sign", "--yes"]}


@st.composite
def command_lines(draw: Any) -> list[str]:
    command = draw(st.sampled_from(sorted(OPTIONS)))
    argv = [command]
    if command in ("sign", "send", "prepare"):  # mostly reach past click's required options
        if draw(st.booleans()):
            argv += ["--network", "devnet", "--account", draw(st.sampled_from(["alice.devnet", "bob.devnet"]))]
    for option in draw(st.lists(st.sampled_from(OPTIONS[command]), max_size=6)):
        argv += [option, draw(hostile_text)]
    argv += draw(st.lists(st.sampled_from(FLAGS[command]), max_size=2, unique=True))
    if command == "finalize":
        argv.append(draw(hostile_text | st.just("-")))
    if draw(st.integers(0, 9)) == 0:
        argv.append(draw(hostile_text))  # a stray argument
    return argv


def assert_clean(exit_code: int, stderr: str, argv: list[str]) -> None:
    assert "Traceback" not in stderr, (argv, stderr)
    assert exit_code != INTERNAL_ERROR_EXIT, (argv, stderr)
    if exit_code == 0:
        return
    if exit_code == 2 and stderr.startswith("Usage: "):
        # click's usage error echoes a stray argument verbatim, so an argument holding a
        # newline spreads over two lines (reported to the lead); still exactly one error.
        assert sum(line.startswith("Error: ") for line in stderr.split("\n")) == 1, (argv, stderr)
        return
    lines = [line for line in stderr.split("\n") if line.strip() and not line.startswith("warning:")]
    assert len(lines) == 1, (argv, stderr)
    assert lines[0].lower().startswith("error"), (argv, stderr)


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=command_lines(), stdin=st.binary(max_size=200))
def test_hostile_command_lines(devnet_env: Any, argv: list[str], stdin: bytes, tmp_path_factory: Any) -> None:
    from chainsig_core.cli import cli

    cwd = tmp_path_factory.mktemp("cli")  # --output / --from-file paths land here
    runner = CliRunner()
    with contextlib.chdir(cwd):
        result = runner.invoke(cli, argv, input=stdin, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{argv}: uncaught {type(result.exception).__name__}: {result.exception}")
    assert_clean(result.exit_code, result.stderr, argv)


@pytest.mark.parametrize("argv", [
    ["sign", "--network", "devnet", "--account", "alice.devnet", "--path", "x", "--payload", "ab" * 31],
    ["sign", "--network", "devnet", "--account", "nobody.devnet", "--path", "x", "--payload", "ab" * 32],
    ["finalize", "/dev/null", "--signatures", "[1, 2"],
    ["send", "--network", "devnet", "--chain", "ethereum", "--account", "alice.devnet", "--path", "p",
     "--to", "0x" + "00" * 19, "--amount", "-1"],
])
def test_hostile_command_lines_through_the_real_entry_point(devnet_env: Any, argv: list[str], tmp_path: Path) -> None:
    """The same guarantees through ``python -m chainsig_core`` as a process."""
    done = subprocess.run([sys.executable, "-m", "chainsig_core", *argv], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path, env={**os.environ, "CHAINSIG_CONFIG": str(devnet_env.config)})
    assert done.returncode != 0
    assert_clean(done.returncode, done.stderr, argv)


def test_devnet_still_signs_after_the_cli_barrage(devnet_env: Any) -> None:
    assert devnet_env.host_alive()
    devnet_env.assert_signs("after-cli-barrage", 2)
