"""The EVM :class:`~chainsig_core.Chain`: one instance per chain (ethereum, base, custom ones).

Cheap to import: web3 and eth-account are imported by the methods that need them, so
``chainsig derive`` pays only for keccak.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from chainsig_core.chain import Chain, ChainOption
from chainsig_core.keys import PublicKey
from chainsig_core.signatures import Signature
from chainsig_core.types import Balance, ChainEndpoint, ChainRequest, Prepared, Receipt, SignedTx

from .address import address_from_public_key, parse_address
from .networks import EvmChainSpec


class EvmChain(Chain):
    """An EVM chain: EIP-55 addresses, EIP-1559/EIP-155 transactions, ERC-20 tokens.

    Parameters
    ----------
    spec:
        The chain's name, chain ids per chain network, native asset and default RPC URLs.
    """

    domain_id = 0
    base_unit = "wei"
    address_types = ()

    def __init__(self, spec: EvmChainSpec) -> None:
        self.spec = spec
        self.name = spec.name
        self.chain_networks = tuple(spec.chain_ids)
        self.default_chain_networks = spec.default_chain_networks
        self.symbol = spec.symbol
        self.decimals = spec.decimals
        self.default_rpc_urls = spec.default_rpc_urls

    @property
    def chain_ids(self) -> Mapping[str, int | None]:
        """Chain id per chain network (``None``: the node's, as on ``local``)."""
        return self.spec.chain_ids

    # -- addresses -------------------------------------------------------------------------

    def address(self, public_key: PublicKey, chain_network: str, *, address_type: str | None = None) -> str:
        """The EIP-55 address of ``public_key`` (the same on every chain network).

        Raises
        ------
        InvalidKeyError
            For an ed25519 key.
        UnknownNameError
            For an unknown chain network or any address type.
        """
        self.check_chain_network(chain_network)
        self.check_address_type(address_type)
        return address_from_public_key(public_key)

    def validate_address(self, address: str, chain_network: str) -> str:
        """The checksummed form of a user's address.

        Raises
        ------
        InvalidAddressError
            For a malformed address or a wrong EIP-55 checksum.
        """
        return parse_address(address)

    # -- spending --------------------------------------------------------------------------

    def prepare(self, request: ChainRequest, chain_network: str, rpc: ChainEndpoint) -> Prepared:
        """Build the unsigned transaction; the payload is keccak256 of its serialization.

        A :class:`~chainsig_core.TransferRequest` moves the native asset (decimal string such as
        ``"0.01"`` or integer wei), or ``request.token``'s ERC-20 units; with the ``data`` option
        it calls a contract. A :class:`~chainsig_core.CallRequest` calls ``to`` with ``data`` and
        ``value``. Options: see :mod:`chainsig_evm.options`.

        Raises
        ------
        InvalidInputError, InvalidAddressError, InvalidAmountError
            Bad values, before anything is signed.
        InsufficientFundsError
            The sender cannot pay value + gas (or the tokens), checked with the node.
        RpcError
            The node cannot be reached.
        ChainError
            The node belongs to another chain, or the call would revert.
        """
        from .prepare import prepare_request

        return prepare_request(self, request, chain_network, rpc)

    def finalize(self, prepared: Prepared, signatures: Sequence[Signature]) -> SignedTx:
        """The signed transaction: ``v`` from the recovery id; the sender is recovered with
        eth-account and must be the derived address.

        Raises
        ------
        SignatureVerificationError
            If the signature does not verify, or the transaction recovers to another sender.
        InvalidInputError
            If the bundle's payload is not its transaction's signing hash.
        """
        from .finalize import finalize_prepared

        return finalize_prepared(self, prepared, signatures)

    def broadcast(self, signed: SignedTx, rpc: ChainEndpoint) -> Receipt:
        """``eth_sendRawTransaction``, then wait (bounded) for the receipt.

        Status ``confirmed`` (status 1), ``failed`` (mined, reverted) or ``broadcast`` (not
        mined within ``receipt_timeout`` seconds, default 120).

        Raises
        ------
        RpcError
            The node cannot be reached.
        ChainError
            The node refused the transaction (wrong chain id, nonce too low, …).
        InsufficientFundsError
            The node says the sender cannot pay.
        """
        from .finalize import broadcast_signed

        return broadcast_signed(self, signed, rpc)

    def balance(self, address: str, chain_network: str, rpc: ChainEndpoint, token: str | None = None) -> Balance:
        """Native balance in wei, or ``token``'s ERC-20 balance in its base units.

        Raises
        ------
        InvalidAddressError, InvalidInputError (unknown token), RpcError
        """
        from .rpc import EvmRpc

        self.check_chain_network(chain_network)
        owner = parse_address(address)
        client = EvmRpc(rpc)
        if token is None:
            return Balance(self.name, chain_network, owner, client.balance(owner), self.decimals, self.symbol)
        from .erc20 import read_token, token_balance

        info = read_token(client, token)
        amount = token_balance(client, info.address, owner)
        return Balance(self.name, chain_network, owner, amount, info.decimals, info.symbol, info.address)

    # -- command line ----------------------------------------------------------------------

    def cli_options(self) -> Sequence[ChainOption]:
        from .options import cli_options

        return cli_options()
