"""Back ends: where UTXOs, fee estimates and broadcasting come from.

One adapter interface, :class:`Backend`, two implementations: :class:`EsploraBackend`
(Blockstream / mempool.space REST API) and :class:`CoreRpcBackend` (Bitcoin Core JSON-RPC).
A chain network's config table picks one::

    [chains.bitcoin.regtest]
    backend = "core"                      # or "esplora" (the default)
    rpc_url = "http://127.0.0.1:18443"
    rpc_user = "alice"                    # or rpc_cookie_file = "~/.bitcoin/regtest/.cookie"
    rpc_password = "…"
"""

from __future__ import annotations

from chainsig_core.errors import ConfigError, InvalidInputError
from chainsig_core.types import ChainEndpoint
from chainsig_core.urls import check_http_url as core_check_http_url

from .base import Backend, TxStatus

__all__ = ["Backend", "TxStatus", "get_backend"]

BACKEND_KINDS = ("esplora", "core")


def get_backend(endpoint: ChainEndpoint, chain_network: str) -> Backend:
    """The back end a chain network's endpoint describes.

    Raises
    ------
    InvalidInputError
        When there is no URL (offline: give ``--utxos`` and ``--fee-rate``).
    ConfigError
        For an unknown ``backend`` kind or malformed credentials.
    """
    if not endpoint.url:
        raise InvalidInputError(
            f"no bitcoin {chain_network} endpoint is configured: pass --rpc-url or set "
            f"[chains.bitcoin.{chain_network}] rpc_url in the config (prepare and send also "
            f"work offline with --utxos FILE --fee-rate RATE)"
        )
    check_http_url(endpoint.url, chain_network)
    kind = endpoint.settings.get("backend", "esplora")
    if kind == "esplora":
        from .esplora import EsploraBackend

        return EsploraBackend(endpoint.url, timeout=_timeout(endpoint))
    if kind == "core":
        from .core_rpc import CoreRpcBackend

        return CoreRpcBackend.from_settings(endpoint.url, endpoint.settings, timeout=_timeout(endpoint))
    raise ConfigError(
        f"[chains.bitcoin.{chain_network}] backend must be one of {', '.join(BACKEND_KINDS)}, not {kind!r}"
    )


def check_http_url(url: str, chain_network: str) -> None:
    """Refuse a back-end URL that is not ``http(s)://host…`` (Esplora and Bitcoin Core are
    reached over HTTP); the message quotes at most its scheme (the rest may hold a user, a
    password or an API key).

    Raises
    ------
    InvalidInputError
    """
    core_check_http_url(url, "the bitcoin back-end URL", f" (--rpc-url, or rpc_url in [chains.bitcoin.{chain_network}])")


def _timeout(endpoint: ChainEndpoint) -> float:
    value = endpoint.settings.get("timeout", 20)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError("bitcoin back-end timeout must be a positive number of seconds")
    return float(value)
