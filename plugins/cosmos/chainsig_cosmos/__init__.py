"""chainsig-cosmos: Cosmos SDK chains for chainsig (Cosmos Hub built in, others from config).

Written only against ``chainsig_core``'s public API, as a third-party plugin would be. Importing
this module is cheap (bech32 and hashlib); cosmpy, protobuf and requests load when a
transaction is built or an endpoint is called.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from chainsig_core import Chain, ConfigError, hookimpl

from .chain import CosmosChain
from .spec import COSMOS_HUB, CosmosSpec, specs_from_config

__all__ = ["COSMOS_HUB", "CosmosChain", "CosmosSpec", "register_chains"]
__version__ = "0.1.0"


@hookimpl
def register_chains(register: Callable[[Chain], None], config: Mapping[str, Any]) -> None:
    """Register Cosmos Hub and every chain of ``[cosmos.chains.*]``.

    A malformed chain table does not stop the others: they are registered first, then one
    :class:`ConfigError` names what was wrong (core reports it as a plugin error).
    """
    register(CosmosChain(COSMOS_HUB))
    specs, errors = specs_from_config(config)
    for spec in specs:
        register(CosmosChain(spec))
    if errors:
        raise ConfigError("; ".join(errors))
