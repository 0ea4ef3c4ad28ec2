"""The MPC node service's building blocks: peer transport over mutually authenticated TLS,
encrypted persistence, the NEAR indexer, node configuration, operator commands and metrics.

Importing this package is cheap; each submodule imports its heavy libraries (pyOpenSSL,
cryptography, httpx) itself.
"""

__all__: list[str] = []
