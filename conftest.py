"""Shared test set-up for every test directory of the workspace."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# Wall-clock deadlines make property tests flaky on a loaded 2-core CI machine; speed is
# measured in benchmarks/, not asserted in tests. The default run is derandomized, so the suite
# (and CI) gives the same verdict on the same code; CHAINSIG_HYPOTHESIS=explore draws new
# examples each run to hunt for bugs (a failure found that way is kept in .hypothesis/ and
# replayed, and belongs in the test as an @example).
settings.register_profile(
    "chainsig", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True,
    derandomize=True,
)
settings.register_profile("chainsig-explore", settings.get_profile("chainsig"), derandomize=False)
settings.load_profile("chainsig-explore" if os.environ.get("CHAINSIG_HYPOTHESIS") == "explore" else "chainsig")

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
