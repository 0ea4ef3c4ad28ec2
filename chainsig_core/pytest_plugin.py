"""pytest plugin shipped with chainsig-core (entry point ``pytest11``) for chainsig users and
chain-plugin authors.

Fixtures
--------
``chainsig_config``
    A fresh, empty config file for the test (``CHAINSIG_CONFIG`` points at it) and the dev
    seed pinned to :data:`~chainsig_core.signers.dev.DEFAULT_DEV_SEED`; yields its path.
``chainsig_dev_signer``
    A :class:`~chainsig_core.DevSigner` with the known default root.
``chainsig_register_plugin``
    ``register(plugin, name=None)``: registers a plugin object or module for this test only
    and unregisters it afterwards, even when the test fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest


@pytest.fixture
def chainsig_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from chainsig_core import plugins
    from chainsig_core.signers.dev import DEFAULT_DEV_SEED

    path = tmp_path / "chainsig-config.toml"
    monkeypatch.setenv("CHAINSIG_CONFIG", str(path))
    monkeypatch.setenv("CHAINSIG_DEV_SEED", DEFAULT_DEV_SEED)
    plugins.reset()
    yield path
    plugins.reset()


@pytest.fixture
def chainsig_dev_signer(chainsig_config: Path):  # type: ignore[no-untyped-def]
    from chainsig_core.config import load_config
    from chainsig_core.signers.dev import DEFAULT_DEV_SEED, DevSigner

    return DevSigner(load_config().network("dev"), seed=DEFAULT_DEV_SEED)


@pytest.fixture
def chainsig_register_plugin() -> Iterator[Callable[..., None]]:
    from chainsig_core.plugins import registered_plugin

    with ExitStack() as stack:

        def register(plugin: object, name: str | None = None) -> None:
            stack.enter_context(registered_plugin(plugin, name))

        yield register
