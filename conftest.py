"""Shared test set-up for every test directory of the workspace."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# Wall-clock deadlines make property tests flaky on a loaded 2-core CI machine; speed is
# measured in benchmarks/, not asserted in tests.
settings.register_profile(
    "chainsig", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("chainsig")

VECTORS = Path(__file__).parent / "tests" / "vectors"


def pytest_configure(config: pytest.Config) -> None:
    """SIGTERM (``timeout``, a CI cancel, ``kill``) interrupts the run like Ctrl-C, so pytest
    still tears the fixtures down: devnet fixtures start node processes in sessions of their
    own, which a bare SIGTERM to pytest would leave running (and loading the machine)."""
    import signal
    import threading

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt("SIGTERM")

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


@pytest.fixture(autouse=True)
def _isolated_config(chainsig_config: Path) -> Path:
    """Every test gets its own empty config and the default dev seed (never the user's)."""
    return chainsig_config


@pytest.fixture(scope="session")
def vectors() -> Callable[[str], Any]:
    """``vectors("derivation.json")`` → the parsed known-answer file from tests/vectors."""

    def load(name: str) -> Any:
        return json.loads((VECTORS / name).read_text())

    return load
