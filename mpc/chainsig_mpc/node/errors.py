"""Errors of the node service (all :class:`chainsig_core.errors.ChainsigError` subclasses).

Messages are one line and never contain key material, shares or plaintext records.
"""

from __future__ import annotations

from chainsig_core.errors import ChainsigError, ConfigError, RpcError


class TransportError(ChainsigError, ConnectionError):
    """A peer connection failed: refused identity, TLS failure, malformed or oversized frame."""


class PeerRefusedError(TransportError):
    """A peer presented a TLS key that is not the expected participant's ``tls_public_key``."""


class FrameError(TransportError):
    """A frame on a peer connection is oversized, truncated or of an unknown type."""


class UnknownPeerError(TransportError, LookupError):
    """``send`` named a peer id that is not a current participant."""


class QueueFullError(TransportError):
    """Too many messages to one peer are waiting (the peer is down or too slow)."""


class StoreError(ChainsigError, RuntimeError):
    """The node's encrypted store cannot be opened, read or written."""


class WrongNodeKeyError(StoreError):
    """The node key does not decrypt the store (wrong key, or the store was tampered with)."""


class RecordConsumedError(StoreError):
    """A single-use record (presignature, nonce) was already consumed."""


class BackupError(StoreError):
    """A share backup cannot be written, read or decrypted (wrong passphrase)."""


class NodeKeyError(ConfigError):
    """The node key source (file or environment variable) is missing or malformed."""


class NodeConfigError(ConfigError):
    """The node's TOML configuration is missing, malformed or inconsistent."""


class IndexerError(RpcError):
    """The NEAR RPC the indexer follows answered with an error or an unexpected shape."""


class ChainRpcError(RpcError):
    """A read of the node's NEAR RPC (head height, the contract's ``state``) failed: the
    endpoint is unreachable or timed out, answered with an error, or with an unexpected shape."""


__all__ = [
    "BackupError",
    "ChainRpcError",
    "FrameError",
    "IndexerError",
    "NodeConfigError",
    "NodeKeyError",
    "PeerRefusedError",
    "QueueFullError",
    "RecordConsumedError",
    "StoreError",
    "TransportError",
    "UnknownPeerError",
    "WrongNodeKeyError",
]
