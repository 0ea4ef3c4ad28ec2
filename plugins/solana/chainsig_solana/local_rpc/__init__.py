"""A local Solana JSON-RPC endpoint backed by LiteSVM (``solders.litesvm``, Solana's runtime).

The chain network ``local``: run it as its own process with ``chainsig solana local-rpc``
(the devnet starts it that way), or in-process with :class:`LocalRpcServer`.
"""

from __future__ import annotations

from .node import LocalSolanaNode
from .server import LocalRpcServer, make_app, serve_forever

__all__ = ["LocalRpcServer", "LocalSolanaNode", "make_app", "serve_forever"]
