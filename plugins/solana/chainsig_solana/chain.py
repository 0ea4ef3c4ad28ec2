"""The ``solana`` chain: addresses, and the entry points of prepare/finalize/broadcast/balance.

This module is imported by ``chainsig derive`` for every installed chain, so it imports only
``base58`` (through :mod:`.addresses`) and core; the transaction machinery (solders, solana-py)
is imported inside the methods that need it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chainsig_core import (
    Balance,
    Chain,
    ChainEndpoint,
    ChainOption,
    Curve,
    InvalidKeyError,
    Prepared,
    PublicKey,
    Receipt,
    Signature,
    SignedTx,
)
from chainsig_core.types import ChainRequest

from .addresses import canonical_address

BUILTIN_CHAIN_NETWORKS = ("mainnet-beta", "devnet", "testnet", "local")

#: The port the local LiteSVM-backed RPC listens on by default (solana-test-validator's).
LOCAL_RPC_DEFAULT_PORT = 8899


class SolanaChain(Chain):
    """Solana through the ed25519 domain (domain 1): the address is the derived key itself.

    Parameters
    ----------
    extra_chain_networks:
        Chain networks defined in the config (``[chains.solana.<name>] rpc_url = …``) beyond
        the built-in ``mainnet-beta``, ``devnet``, ``testnet`` and ``local``.
    """

    name = "solana"
    domain_id = 1
    chain_networks = BUILTIN_CHAIN_NETWORKS
    default_chain_networks = {"mainnet": "mainnet-beta", "testnet": "devnet", "local": "local"}
    symbol = "SOL"
    decimals = 9
    base_unit = "lamports"
    default_rpc_urls = {
        "mainnet-beta": "https://api.mainnet-beta.solana.com",
        "devnet": "https://api.devnet.solana.com",
        "testnet": "https://api.testnet.solana.com",
        "local": f"http://127.0.0.1:{LOCAL_RPC_DEFAULT_PORT}",
    }

    def __init__(self, extra_chain_networks: Sequence[str] = ()) -> None:
        extra = tuple(n for n in extra_chain_networks if n not in BUILTIN_CHAIN_NETWORKS)
        self.chain_networks = BUILTIN_CHAIN_NETWORKS + extra

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SolanaChain:
        """The chain with the custom chain networks of ``[chains.solana.*]`` tables that name an
        ``rpc_url`` (a malformed table is ignored here and reported where it is used)."""
        tables = config.get("chains", {}).get("solana", {}) if isinstance(config, Mapping) else {}
        extra = []
        if isinstance(tables, Mapping):
            for name, table in tables.items():
                if isinstance(table, Mapping) and isinstance(table.get("rpc_url"), str):
                    extra.append(str(name))
        return cls(extra)

    # -- addresses -------------------------------------------------------------------------

    def address(
        self, public_key: PublicKey, chain_network: str, *, address_type: str | None = None
    ) -> str:
        """base58 of the 32-byte derived ed25519 key (the same on every chain network).

        Raises
        ------
        InvalidKeyError
            For a secp256k1 key.
        UnknownNameError
            For an unknown chain network or any address type.
        """
        self.check_chain_network(chain_network)
        self.check_address_type(address_type)
        if public_key.curve is not Curve.ED25519:  # whatever domain derived it: 1 or an added one
            raise InvalidKeyError("a Solana address needs an ed25519 key")
        # PublicKey.base58 is computed once per key and shared with its NEAR key string.
        return public_key.base58

    def validate_address(self, address: str, chain_network: str) -> str:
        """The canonical base58 form of a user-given address.

        Raises
        ------
        InvalidAddressError
        """
        return canonical_address(address)

    # -- spending --------------------------------------------------------------------------

    def prepare(self, request: ChainRequest, chain_network: str, rpc: ChainEndpoint) -> Prepared:
        """Build the unsigned message (legacy or v0); the payload is its serialized bytes.

        Online values (blockhash, mint decimals, whether the recipient's associated token
        account exists, the sender's balance) come from ``rpc`` unless ``--blockhash`` makes the
        preparation offline. See :func:`chainsig_solana.builder.build_prepared`.
        """
        from .builder import build_prepared
        from .rpc import ledger_for

        self.check_chain_network(chain_network)
        return build_prepared(self, request, chain_network, lambda: ledger_for(rpc))

    def finalize(self, prepared: Prepared, signatures: Sequence[Signature]) -> SignedTx:
        """Attach the 64-byte Ed25519 signature and verify it (see :mod:`.signing`)."""
        from .signing import finalize_transaction

        return finalize_transaction(self, prepared, signatures)

    def broadcast(self, signed: SignedTx, rpc: ChainEndpoint) -> Receipt:
        """``sendTransaction`` then poll ``getSignatureStatuses`` for a bounded time."""
        from .rpc import broadcast_transaction

        return broadcast_transaction(self, signed, rpc)

    def balance(
        self, address: str, chain_network: str, rpc: ChainEndpoint, token: str | None = None
    ) -> Balance:
        """SOL in lamports, or the balance of ``token`` (an SPL mint) in its associated token
        account (0 when that account does not exist)."""
        from .rpc import query_balance

        self.check_chain_network(chain_network)
        return query_balance(self, canonical_address(address), chain_network, rpc, token)

    # -- command line ----------------------------------------------------------------------

    def cli_options(self) -> Sequence[ChainOption]:
        spend = frozenset({"prepare", "send"})
        return (
            ChainOption(
                "--blockhash",
                "Solana: recent blockhash to use; prepares offline (no RPC calls).",
                commands=spend,
            ),
            ChainOption(
                "--priority-fee",
                "Solana: compute-unit price in micro-lamports (adds a ComputeBudget instruction).",
                type=int,
                commands=spend,
            ),
            ChainOption(
                "--compute-units",
                "Solana: compute-unit limit (adds a ComputeBudget instruction).",
                type=int,
                commands=spend,
            ),
            ChainOption("--v0", "Solana: build a version-0 message instead of a legacy one.", is_flag=True, commands=spend),
            ChainOption(
                "--instructions",
                "Solana: JSON file of extra instructions [{program_id, accounts, data}].",
                commands=spend,
            ),
            ChainOption(
                "--token-decimals",
                "Solana: decimals of the SPL mint (needed with --token when preparing offline).",
                type=int,
                commands=spend,
            ),
        )

