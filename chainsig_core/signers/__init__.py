"""Signers: the ``dev`` signer and the factory that picks a signer for a NEAR network."""

from __future__ import annotations

from ..config import Config, load_config
from .base import Signer, SignFailure, SignRequest, SignResult
from .dev import DevSigner

__all__ = ["DevSigner", "SignFailure", "SignRequest", "SignResult", "Signer", "get_signer"]


def get_signer(network: str, config: Config | None = None, **options: object) -> Signer:
    """The signer for NEAR network ``network``.

    ``dev`` gives the :class:`DevSigner`; every other network gives the
    :class:`~chainsig_core.signers.near.NearContractSigner` (``options``: ``key``, ``gas``,
    ``max_wait``, ``timeout_retries``, ``progress``).

    Raises
    ------
    UnknownNameError
        For an unknown network.
    """
    config = config or load_config()
    near_network = config.network(network)
    if near_network.is_dev:
        seed = options.get("seed")
        return DevSigner(near_network, seed=seed if isinstance(seed, str) else None)
    from .near import NearContractSigner

    return NearContractSigner(near_network, **options)  # type: ignore[arg-type]
