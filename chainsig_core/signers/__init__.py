"""Signers: the ``dev`` signer and the factory that picks a signer for a NEAR network."""

from __future__ import annotations

from ..config import Config, load_config
from ..errors import UnknownNameError
from .base import Signer, SignFailure, SignRequest, SignResult
from .dev import DevSigner

__all__ = ["DevSigner", "SignFailure", "SignRequest", "SignResult", "Signer", "get_signer"]


def get_signer(network: str, config: Config | None = None, **options: object) -> Signer:
    """The signer for NEAR network ``network``.

    ``dev`` gives the :class:`DevSigner`; every other network gives the NEAR contract client
    (``chainsig_core.signers.near``) once it is installed.

    Raises
    ------
    UnknownNameError
        For an unknown network, or a network whose signer is not available.
    """
    config = config or load_config()
    near_network = config.network(network)
    if near_network.is_dev:
        seed = options.get("seed")
        return DevSigner(near_network, seed=seed if isinstance(seed, str) else None)
    try:
        from .near import NearContractSigner  # type: ignore[import-not-found]
    except ImportError:
        raise UnknownNameError(
            f"signing on NEAR network {network!r} needs the NEAR contract signer, which this "
            f"version of chainsig does not include yet; use --network dev for offline signing"
        ) from None
    return NearContractSigner(near_network, **options)  # pragma: no cover
