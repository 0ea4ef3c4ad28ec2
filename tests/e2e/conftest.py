"""A devnet (host + dev responder + anvil ×2 + local Solana RPC) started once for the session
as real processes through ``chainsig_core.devnet.up``, and stopped at the end."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest


@contextmanager
def running_devnet(root: Path, **options: Any) -> Iterator[dict[str, Any]]:
    """``devnet up`` in ``root/dn`` with ``options`` (:class:`UpOptions` fields) and its config
    in ``root/config.toml`` (``CHAINSIG_CONFIG`` points there meanwhile); the description gets
    ``config`` and ``root``; ``devnet down`` at the end."""
    from chainsig_core import plugins
    from chainsig_core.devnet import UpOptions, down, up

    config = root / "config.toml"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CHAINSIG_CONFIG", str(config))
        patch.delenv("CHAINSIG_LOAD_PLUGINS", raising=False)
        plugins.reset()
        description = up(UpOptions(data_dir=root / "dn", **options))
        description["config"] = str(config)
        description["root"] = str(root / "dn")
        try:
            yield description
        finally:
            down(root / "dn")


@pytest.fixture(scope="session")
def start_devnet() -> Any:
    """:func:`running_devnet`, for modules that start devnets of their own."""
    return running_devnet


@pytest.fixture(scope="session")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with running_devnet(tmp_path_factory.mktemp("devnet"), signers="dev-responder", block_ms=50) as description:
        yield description


@pytest.fixture(autouse=True)
def _devnet_config(devnet: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Path:
    from chainsig_core import plugins

    monkeypatch.setenv("CHAINSIG_CONFIG", devnet["config"])
    plugins.reset()
    return Path(devnet["config"])
