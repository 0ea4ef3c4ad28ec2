"""A devnet (host + dev responder + anvil ×2 + local Solana RPC) started once for the session
as real processes through ``chainsig_core.devnet.up``, and stopped at the end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from chainsig_core import plugins
    from chainsig_core.devnet import UpOptions, down, up

    root = tmp_path_factory.mktemp("devnet")
    config = root / "config.toml"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CHAINSIG_CONFIG", str(config))
        patch.delenv("CHAINSIG_LOAD_PLUGINS", raising=False)
        plugins.reset()
        description = up(UpOptions(data_dir=root / "dn", signers="dev-responder", block_ms=50))
        description["config"] = str(config)
        description["root"] = str(root / "dn")
        try:
            yield description
        finally:
            down(root / "dn")


@pytest.fixture(autouse=True)
def _devnet_config(devnet: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Path:
    from chainsig_core import plugins

    monkeypatch.setenv("CHAINSIG_CONFIG", devnet["config"])
    plugins.reset()
    return Path(devnet["config"])
