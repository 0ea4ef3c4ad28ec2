from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


@pytest.fixture
def fake_plugin(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Install the fake chain plugin through the real entry-point mechanism (a dist-info on
    sys.path), loading only it."""
    from chainsig_core import plugins

    monkeypatch.syspath_prepend(str(HERE / "fake_plugin"))
    monkeypatch.setenv("CHAINSIG_LOAD_PLUGINS", "fakechain")
    plugins.reset()
    return HERE / "fake_plugin"
