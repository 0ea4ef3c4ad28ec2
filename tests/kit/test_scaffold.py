"""``chainsig plugins new``: the generated plugin installs like a real one (a dist-info on
PYTHONPATH stands in for ``pip install -e``) and its own tests pass in a fresh pytest."""

from __future__ import annotations

import json
import re
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from chainsig_core import InvalidInputError
from chainsig_core.cli import cli
from chainsig_core.scaffold import create_plugin, validate_plugin_name


def run_cli(*args: str):  # type: ignore[no-untyped-def]
    cli._prepared = False
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def install_in_place(project: Path, name: str, package: str) -> dict[str, str]:
    """What ``pip install -e`` provides: the package importable and its entry point visible."""
    dist_info = project / f"{package}-0.1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: chainsig-{name}\nVersion: 0.1.0\n")
    (dist_info / "entry_points.txt").write_text(f"[chainsig]\n{name} = {package}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHAINSIG_", "PYTEST_"))}
    return {**env, "PYTHONPATH": str(project), "CHAINSIG_LOAD_PLUGINS": name}


def test_generated_plugin_passes_its_own_tests(tmp_path: Path) -> None:
    project = tmp_path / "chainsig-ledger-x"
    result = run_cli("plugins", "new", "ledger-x", "--directory", str(project), "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["distribution"] == "chainsig-ledger-x" and info["package"] == "chainsig_ledger_x"
    assert set(info["files"]) == {
        "pyproject.toml", "README.md", "chainsig_ledger_x/__init__.py", "chainsig_ledger_x/chain.py",
        "tests/conftest.py", "tests/test_conformance.py", "tests/test_node.py",
    }
    pyproject = (project / "pyproject.toml").read_text()
    assert '[project.entry-points.chainsig]\nledger-x = "chainsig_ledger_x"' in pyproject
    env = install_in_place(project, "ledger-x", "chainsig_ledger_x")

    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project, env=env, capture_output=True, text=True, timeout=300,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    # 7 chain-wide conformance checks + 6 per chain network × 2 networks + 2 node tests
    assert re.search(r"\b23 passed", tests.stdout), tests.stdout

    chains = subprocess.run(
        [sys.executable, "-m", "chainsig_core", "chains", "--json"],
        cwd=project, env=env, capture_output=True, text=True, timeout=120,
    )
    assert [row["chain"] for row in json.loads(chains.stdout)] == ["ledger-x"]


def test_generated_plugin_is_cheap_to_import(tmp_path: Path) -> None:
    skeleton = create_plugin("cheap", tmp_path / "p")
    code = "import sys, chainsig_cheap; print([m for m in ('pytest', 'chainsig_core.testing') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(skeleton.directory)},
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", ["Bad", "a", "9chain", "my_chain", "my--chain", "chain-", "x" * 32, ""])
def test_bad_names_refused(name: str) -> None:
    with pytest.raises(InvalidInputError):
        validate_plugin_name(name)


def test_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    result = run_cli("plugins", "new", "mychain", "--directory", str(tmp_path))
    assert result.exit_code == 2
    assert "already exists" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_the_name_of_an_installed_chain_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHAINSIG_LOAD_PLUGINS", raising=False)
    result = run_cli("plugins", "new", "ethereum", "--directory", str(tmp_path / "p"))
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: a chain named 'ethereum' is already installed: pick another name for the plugin"
    assert not (tmp_path / "p").exists()


def test_default_directory_is_named_after_the_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    skeleton = create_plugin("mychain")
    assert skeleton.directory == tmp_path / "chainsig-mychain"
    assert (tmp_path / "chainsig-mychain" / "chainsig_mychain" / "chain.py").is_file()
