from __future__ import annotations

from pathlib import Path

import pytest

FAKE_PLUGIN = Path(__file__).parents[1] / "core" / "fake_plugin"


@pytest.fixture
def fake_plugin(chainsig_config: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Install core's fake chain plugin through the real entry-point mechanism (its dist-info
    on sys.path), loading only it."""
    from chainsig_core import plugins

    monkeypatch.syspath_prepend(str(FAKE_PLUGIN))
    monkeypatch.setenv("CHAINSIG_LOAD_PLUGINS", "fakechain")
    plugins.reset()
    return FAKE_PLUGIN
