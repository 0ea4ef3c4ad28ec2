"""The MPC node service: one OS process per participant (``chainsig mpc node --config F``).

It follows the signer contract through NEAR JSON-RPC, runs key generation and signing with the
protocols of :mod:`chainsig_mpc.protocols` over mutually authenticated TLS
(:mod:`chainsig_mpc.node.transport`), keeps its secrets in an encrypted SQLite store and calls
``vote_pk`` / ``respond`` from its own NEAR account. Importing this package is cheap.
"""

__all__: list[str] = []
