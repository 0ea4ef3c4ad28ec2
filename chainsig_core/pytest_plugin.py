"""pytest plugin shipped with chainsig-core (entry point ``pytest11``) for chainsig users and
chain-plugin authors. It is active wherever chainsig-core is installed.

Fixtures
--------
``chainsig_config``
    A fresh, empty config file for the test (``CHAINSIG_CONFIG`` points at it) and the dev
    seed pinned to :data:`~chainsig_core.signers.dev.DEFAULT_DEV_SEED`; yields its path.
``chainsig_dev_signer``
    A :class:`~chainsig_core.DevSigner` with the known default root.
``chainsig_dev_root``
    ``chainsig_dev_root(domain_id)``: the dev root public key the signer uses (known answer:
    the default seed is documented, so these keys are fixed).
``chainsig_derived_account``
    ``chainsig_derived_account(account, path, domain_id)``: the
    :class:`~chainsig_core.DerivedAccount` the dev signer controls — a ready ``sender`` for
    :class:`~chainsig_core.TransferRequest`.
``chainsig_register_plugin``
    ``register(plugin, name=None)``: registers a plugin object or module for this test only
    and unregisters it afterwards, even when the test fails.
``chainsig_http_server``
    A started :class:`~chainsig_core.testing.RecordingHTTPServer` on 127.0.0.1 — add canned
    responses with ``.add(method, path, json=…)``, read ``.requests``; stopped after the test.

The conformance suite for chain plugins is a base class, not a fixture:
``from chainsig_core.testing import ChainConformanceTests`` (see docs/plugins.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# The conformance suite's asserts get pytest's introspection (values in failure messages).
pytest.register_assert_rewrite("chainsig_core.testing.conformance")

if TYPE_CHECKING:
    from chainsig_core import DerivedAccount, DevSigner, PublicKey
    from chainsig_core.testing import RecordingHTTPServer


@pytest.fixture
def chainsig_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from chainsig_core import plugins
    from chainsig_core.signers.dev import DEFAULT_DEV_SEED

    path = tmp_path / "chainsig-config.toml"
    monkeypatch.setenv("CHAINSIG_CONFIG", str(path))
    monkeypatch.setenv("CHAINSIG_DEV_SEED", DEFAULT_DEV_SEED)
    for name in ("NEAR_PRIVATE_KEY", "NEAR_ACCOUNT_ID", "NEAR_NETWORK", "NEAR_RPC_URL"):
        monkeypatch.delenv(name, raising=False)  # a developer's shell must not change results
    plugins.reset()
    yield path
    plugins.reset()


@pytest.fixture
def chainsig_dev_signer(chainsig_config: Path) -> DevSigner:
    from chainsig_core.config import load_config
    from chainsig_core.signers.dev import DEFAULT_DEV_SEED, DevSigner

    return DevSigner(load_config().network("dev"), seed=DEFAULT_DEV_SEED)


@pytest.fixture
def chainsig_dev_root(chainsig_dev_signer: DevSigner) -> Callable[[int], PublicKey]:
    return chainsig_dev_signer.root_public_key


@pytest.fixture
def chainsig_derived_account(
    chainsig_dev_signer: DevSigner,
) -> Callable[[str, str, int], DerivedAccount]:
    from chainsig_core import DerivedAccount

    def derived(account: str, path: str, domain_id: int) -> DerivedAccount:
        key = chainsig_dev_signer.derived_public_key(account, path, domain_id)
        return DerivedAccount("dev", account, path, key)

    return derived


@pytest.fixture
def chainsig_register_plugin() -> Iterator[Callable[..., None]]:
    from chainsig_core.plugins import registered_plugin

    with ExitStack() as stack:

        def register(plugin: object, name: str | None = None) -> None:
            stack.enter_context(registered_plugin(plugin, name))

        yield register


@pytest.fixture
def chainsig_http_server() -> Iterator[RecordingHTTPServer]:
    from chainsig_core.testing.http_server import RecordingHTTPServer

    with RecordingHTTPServer() as server:
        yield server
