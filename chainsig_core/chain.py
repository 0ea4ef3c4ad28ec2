"""The :class:`Chain` ABC every chain plugin implements, and :class:`ChainOption`.

A chain plugin registers one :class:`Chain` instance per chain name through the
``register_chains`` hook. Core owns every command; the chain supplies the chain-specific parts.

Keep the module that defines your ``Chain`` cheap to import: ``chainsig derive`` imports it for
every installed chain, so transaction machinery (web3, solana, bitcoinlib …) belongs inside the
methods that need it, not at module top level.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import UnknownNameError
from .keys import PublicKey
from .signatures import Signature
from .types import Balance, ChainEndpoint, ChainRequest, Prepared, Receipt, SignedTx

#: Commands whose options a :class:`ChainOption` may extend.
OPTION_COMMANDS = frozenset({"derive", "prepare", "send", "balance", "finalize", "broadcast"})


@dataclass(frozen=True)
class ChainOption:
    """A chain-specific command-line option that core attaches to its commands.

    Parameters
    ----------
    flag:
        The long flag, e.g. ``"--fee-rate"``. Its value reaches the chain as
        ``request.options[dest]`` (``dest`` = flag without dashes, ``-`` → ``_``).
    help:
        One line for ``--help``.
    type:
        A click parameter type or a Python type (``str``, ``int``); ``click.Path()`` for files.
    is_flag:
        A boolean switch.
    multiple:
        May be given several times (the value is a tuple).
    commands:
        The core commands that get the option (default: ``prepare`` and ``send``).
    """

    flag: str
    help: str
    type: Any = str
    is_flag: bool = False
    multiple: bool = False
    commands: frozenset[str] = frozenset({"prepare", "send"})

    def __post_init__(self) -> None:
        if not self.flag.startswith("--") or len(self.flag) < 3:
            raise ValueError(f"chain option flag must look like '--name', got {self.flag!r}")
        unknown = set(self.commands) - OPTION_COMMANDS
        if unknown:
            raise ValueError(f"chain option {self.flag}: unknown commands {sorted(unknown)}")

    @property
    def dest(self) -> str:
        """Key of the option in ``request.options``."""
        return self.flag[2:].replace("-", "_")


class Chain(ABC):
    """A blockchain chainsig can derive addresses on and move funds on.

    Class attributes a subclass sets:

    ``name``
        The ``--chain`` name (``"ethereum"``); lowercase letters, digits and ``-``.
    ``domain_id``
        The chain's *default* signer domain, which fixes its curve: 0 = secp256k1 ECDSA,
        1 = ed25519 EdDSA. A sender derived in an added domain of the same curve
        (``--domain N``) signs in that domain: build payloads with ``sender.domain_id``.
    ``chain_networks``
        The chain's own network names (``("mainnet", "sepolia", "local")``).
    ``default_chain_networks``
        The chain network used when ``--chain-network`` is not given, per NEAR network family
        (``"mainnet"``, ``"testnet"``, ``"local"`` — ``dev`` and ``devnet`` are ``local``).
    ``address_types``
        Accepted ``--address-type`` values, first = default; empty when the chain has one form.
    ``symbol``, ``decimals``, ``base_unit``
        The native asset, its decimals and the base unit's name (``"ETH"``, 18, ``"wei"``).
    ``default_rpc_urls``
        Public endpoints per chain network, used when the config names none (data, not logic).
    ``settings_keys``
        Extra keys this chain reads from its ``[chains.<name>.<chain network>]`` config tables,
        besides those core knows (docs/configuration.md); any other key there is refused.
    """

    name: str
    domain_id: int
    chain_networks: tuple[str, ...] = ()
    default_chain_networks: Mapping[str, str] = {}
    address_types: tuple[str, ...] = ()
    symbol: str = ""
    decimals: int = 0
    base_unit: str = ""
    default_rpc_urls: Mapping[str, str] = {}
    settings_keys: frozenset[str] = frozenset()

    # -- addresses -------------------------------------------------------------------------

    @abstractmethod
    def address(
        self, public_key: PublicKey, chain_network: str, *, address_type: str | None = None
    ) -> str:
        """The address of ``public_key`` on ``chain_network``.

        Parameters
        ----------
        public_key:
            A derived key of this chain's curve.
        chain_network:
            One of :attr:`chain_networks` (addresses may differ per network, as on Bitcoin).
        address_type:
            One of :attr:`address_types`, or ``None`` for the default.

        Raises
        ------
        InvalidKeyError
            For a key of the wrong curve.
        UnknownNameError
            For an unknown chain network or address type.
        """

    def validate_address(self, address: str, chain_network: str) -> str:
        """Check an address given by a user and return its canonical form.

        The default accepts any non-empty string; chains override it.

        Raises
        ------
        InvalidAddressError
        """
        from .errors import InvalidAddressError

        if not isinstance(address, str) or not address.strip():
            raise InvalidAddressError("address must be a non-empty string")
        return address.strip()

    # -- spending --------------------------------------------------------------------------

    @abstractmethod
    def prepare(self, request: ChainRequest, chain_network: str, rpc: ChainEndpoint) -> Prepared:
        """Build the unsigned transaction and the payloads to sign.

        Online values (nonce, fees, UTXOs, blockhash) come from ``rpc`` unless
        ``request.options`` gives them, so offline signing needs no network.

        Raises
        ------
        InvalidInputError, InvalidAddressError, InvalidAmountError
            Bad request values — before anything is signed.
        InsufficientFundsError
            Where the chain can tell before signing.
        RpcError
            The node could not be reached.
        """

    @abstractmethod
    def finalize(self, prepared: Prepared, signatures: Sequence[Signature]) -> SignedTx:
        """Attach the signatures (one per payload, same order) and verify the result.

        Raises
        ------
        SignatureVerificationError
            If any signature does not verify for its payload under the sender's key — nothing
            unverified is ever returned.
        """

    @abstractmethod
    def broadcast(self, signed: SignedTx, rpc: ChainEndpoint) -> Receipt:
        """Send a signed transaction and wait, bounded, for its inclusion.

        Raises
        ------
        RpcError, ChainError
        """

    @abstractmethod
    def balance(
        self, address: str, chain_network: str, rpc: ChainEndpoint, token: str | None = None
    ) -> Balance:
        """The native balance of ``address``, or of ``token`` when given.

        Raises
        ------
        InvalidAddressError, RpcError
        """

    # -- command line ----------------------------------------------------------------------

    def cli_options(self) -> Sequence[ChainOption]:
        """Chain-specific options for core's commands (``--utxos``, ``--nonce`` …)."""
        return ()

    # -- helpers core uses -----------------------------------------------------------------

    def default_chain_network(self, network_family: str) -> str:
        """The chain network for a NEAR network family (``mainnet``/``testnet``/``local``)."""
        try:
            return self.default_chain_networks[network_family]
        except KeyError:
            if self.chain_networks:
                return self.chain_networks[0]
            raise UnknownNameError(f"chain {self.name} declares no chain networks") from None

    def check_chain_network(self, chain_network: str) -> str:
        """Return ``chain_network`` if the chain knows it.

        Raises
        ------
        UnknownNameError
        """
        if chain_network not in self.chain_networks:
            known = ", ".join(self.chain_networks)
            raise UnknownNameError(
                f"unknown chain network {chain_network!r} for {self.name} (known: {known})"
            )
        return chain_network

    def check_address_type(self, address_type: str | None) -> str | None:
        """Return the effective address type (default when ``None``).

        Raises
        ------
        UnknownNameError
        """
        if not self.address_types:
            if address_type is not None:
                raise UnknownNameError(f"chain {self.name} has no address types")
            return None
        if address_type is None:
            return self.address_types[0]
        if address_type not in self.address_types:
            raise UnknownNameError(
                f"unknown address type {address_type!r} for {self.name} "
                f"(known: {', '.join(self.address_types)})"
            )
        return address_type

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {getattr(self, 'name', '?')}>"
