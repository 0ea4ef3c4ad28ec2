"""The :class:`CosmosChain`: a Cosmos SDK chain, written only against chainsig's public API."""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence
from typing import Any

from chainsig_core import (
    Balance,
    Chain,
    ChainEndpoint,
    ChainOption,
    ConfigError,
    EcdsaSignature,
    InsufficientFundsError,
    InvalidAmountError,
    InvalidInputError,
    Payload,
    Prepared,
    PublicKey,
    Receipt,
    RpcError,
    Signature,
    SignatureVerificationError,
    SignedTx,
    TransferRequest,
    to_base_units,
    verify_signature,
)

from .address import account_id, decode_address, encode_address
from .spec import CosmosSpec, parse_gas_price

#: How long ``broadcast`` waits for inclusion before answering ``broadcast`` (seconds).
DEFAULT_CONFIRM_TIMEOUT = 30.0


class CosmosChain(Chain):
    """A Cosmos SDK chain (Cosmos Hub by default): bank sends in SIGN_MODE_DIRECT over REST.

    Parameters
    ----------
    spec:
        Prefix, denom, chain ids and endpoints of the chain.
    """

    domain_id = 0
    address_types = ()

    def __init__(self, spec: CosmosSpec) -> None:
        self.spec = spec
        self.name = spec.name
        self.chain_networks = tuple(spec.networks)
        self.default_chain_networks = {f: spec.default_network(f) for f in ("mainnet", "testnet", "local")}
        self.symbol = spec.symbol
        self.decimals = spec.decimals
        self.base_unit = spec.denom
        self.default_rpc_urls = {n: net.rest_url for n, net in spec.networks.items() if net.rest_url}

    # -- addresses ----------------------------------------------------------------------------

    def address(self, public_key: PublicKey, chain_network: str, *, address_type: str | None = None) -> str:
        """bech32(prefix, RIPEMD-160(SHA-256(compressed key))).

        Raises
        ------
        InvalidKeyError, UnknownNameError
        """
        self.check_chain_network(chain_network)
        self.check_address_type(address_type)
        return encode_address(self.spec.prefix, account_id(public_key))

    def validate_address(self, address: str, chain_network: str) -> str:
        """The canonical (lower-case) form of a bech32 address with this chain's prefix.

        Raises
        ------
        InvalidAddressError
        """
        return encode_address(self.spec.prefix, decode_address(address, self.spec.prefix))

    # -- spending -----------------------------------------------------------------------------

    def cli_options(self) -> Sequence[ChainOption]:
        from .options import cli_options

        return cli_options()

    def prepare(self, request: Any, chain_network: str, rpc: ChainEndpoint) -> Prepared:
        """A bank ``MsgSend`` of ``request.amount`` to ``request.to``.

        Account number and sequence come from ``request.options`` (``account_number`` and
        ``sequence``, for offline signing) or from the REST endpoint, which also checks the
        balance covers amount + fee.

        Raises
        ------
        InvalidInputError, InvalidAddressError, InvalidAmountError, InsufficientFundsError, RpcError
        """
        from . import tx as cosmos_tx
        from .options import refuse_unknown_options

        refuse_unknown_options(request.options)  # another chain's option is never dropped silently
        if not isinstance(request, TransferRequest):
            raise InvalidInputError(f"{self.name} supports transfers only, not contract calls")
        self.check_chain_network(chain_network)
        network = self.spec.networks[chain_network]
        to = self.validate_address(request.to, chain_network)
        denom = request.token or self.spec.denom
        if request.token is None:
            amount = to_base_units(request.amount, self.decimals, base_unit=self.spec.denom, symbol=self.symbol)
        else:  # another denom (IBC voucher, token factory): whole base units only
            amount = to_base_units(request.amount, 0, base_unit=denom)
        if amount == 0:
            raise InvalidAmountError("amount must be positive (Cosmos refuses zero-coin sends)")
        options = request.options
        gas_limit = _positive_int(options.get("gas_limit"), "gas limit", self.spec.gas_limit)
        gas_price = self.spec.gas_price
        if "gas_price" in rpc.settings:
            gas_price = parse_gas_price(rpc.settings["gas_price"], f"[chains.{self.name}.{chain_network}]")
        fee = _positive_int(options.get("fee"), "fee", math.ceil(gas_limit * gas_price), allow_zero=True)
        memo = options.get("memo") or ""
        if not isinstance(memo, str):
            raise InvalidInputError("memo must be a string")
        chain_id = str(rpc.settings.get("chain_id") or network.chain_id)
        sender = self.address(request.sender.public_key, chain_network)
        account = self._account(sender, options, rpc, denom, amount, fee)
        unsigned = cosmos_tx.build_transfer(
            cosmos_tx.Transfer(sender, to, amount, denom, fee, gas_limit, memo),
            request.sender.public_key.compressed, chain_id, account[0], account[1],
        )
        return Prepared(
            chain=self.name, chain_network=chain_network, sender=request.sender, from_address=sender,
            # the sender's domain: 0, or a secp256k1 domain the contract added
            payloads=(Payload(unsigned.sign_digest(), request.sender.domain_id, "sign_doc_sha256"),),
            tx=dict(unsigned.to_json()),
            summary={"to": to, "amount": _format(amount, denom, self), "denom": denom,
                     "base_units": str(amount), "fee": str(fee), "gas_limit": gas_limit,
                     "chain_id": chain_id, "memo": memo},
        )

    def _account(
        self, sender: str, options: Mapping[str, Any], rpc: ChainEndpoint, denom: str, amount: int, fee: int
    ) -> tuple[int, int]:
        number, sequence = options.get("account_number"), options.get("sequence")
        if number is not None or sequence is not None:
            if number is None or sequence is None:
                raise InvalidInputError("offline signing needs both --account-number and --sequence")
            return _uint(number, "account number"), _uint(sequence, "sequence")
        if not rpc.url:
            raise InvalidInputError(
                f"no REST URL for {self.name}: configure one or pass --account-number and --sequence"
            )
        from .rest import CosmosRest

        client = CosmosRest(rpc.url)
        try:
            info = client.account(sender)
            available = client.balance(sender, denom)
        finally:
            client.close()
        needed = amount + fee
        if available < needed:
            raise InsufficientFundsError(
                f"{sender} has {available}{denom}, needs {needed}{denom} (amount {amount} + fee {fee})"
            )
        return info.account_number, info.sequence

    def finalize(self, prepared: Prepared, signatures: Sequence[Signature]) -> SignedTx:
        """Attach the 64-byte ``r‖s`` signature after verifying it twice (core's check, and
        cosmpy's verifier over the sign doc rebuilt from the bundle's bytes).

        Raises
        ------
        SignatureVerificationError, InvalidInputError
        """
        from . import tx as cosmos_tx

        if len(prepared.payloads) != 1 or len(signatures) != 1:
            raise InvalidInputError("a Cosmos bundle has exactly one payload and takes one signature")
        unsigned = cosmos_tx.UnsignedTx.from_json(dict(prepared.tx))
        digest = unsigned.sign_digest()
        if digest != prepared.payloads[0].data:
            raise InvalidInputError("the bundle's payload is not the hash of its transaction")
        decoded = cosmos_tx.decode(unsigned)
        key = prepared.sender.public_key
        if decoded.signer_public_key != key.compressed or not decoded.sign_mode_direct:
            raise InvalidInputError("the bundle's transaction is not signed by its sender key in SIGN_MODE_DIRECT")
        if decoded.sequence != unsigned.sequence or set(decoded.from_addresses) != {prepared.from_address}:
            raise InvalidInputError("the bundle's transaction does not match its sender")
        (signature,) = signatures
        if not isinstance(signature, EcdsaSignature):
            raise SignatureVerificationError("a Cosmos transaction needs a secp256k1 ECDSA signature")
        verify_signature(key, digest, signature)  # low-s, recovers to the sender key
        rs = signature.rs_bytes()
        if not cosmos_tx.verify_with_cosmpy(key.compressed, digest, rs):
            raise SignatureVerificationError("signature does not verify over the transaction's sign doc")
        tx_bytes = cosmos_tx.assemble(unsigned, rs)
        return SignedTx(
            self.name, prepared.chain_network, base64.b64encode(tx_bytes).decode(), cosmos_tx.tx_hash(tx_bytes),
            {"chain_id": unsigned.chain_id, "account_number": str(unsigned.account_number),
             "sequence": str(unsigned.sequence), "size": len(tx_bytes)},
        )

    def broadcast(self, signed: SignedTx, rpc: ChainEndpoint) -> Receipt:
        """POST ``/cosmos/tx/v1beta1/txs`` (sync mode), then wait, bounded, for inclusion.

        ``confirm_timeout`` (seconds) in the chain network's config table bounds the wait.

        Raises
        ------
        RpcError, ChainError, InsufficientFundsError
        """
        from .rest import CosmosRest

        if not rpc.url:
            raise RpcError(f"no REST URL configured for {self.name} {signed.chain_network}")
        where = f"[chains.{self.name}.{signed.chain_network}]"
        timeout = _seconds(rpc.settings.get("confirm_timeout", DEFAULT_CONFIRM_TIMEOUT), f"{where} confirm_timeout")
        interval = _seconds(rpc.settings.get("poll_interval", 1.0), f"{where} poll_interval")
        client = CosmosRest(rpc.url)
        try:
            accepted = client.broadcast(signed.raw)
            tx_hash = accepted["txhash"].upper()
            if tx_hash != signed.tx_hash:
                raise RpcError(f"node answered with hash {tx_hash}, expected {signed.tx_hash}")
            included = client.wait_for_tx(tx_hash, timeout, interval=interval)
        finally:
            client.close()
        if included is None:
            return Receipt(self.name, signed.chain_network, tx_hash, "broadcast")
        details = {"height": included.get("height"), "gas_used": included.get("gas_used"),
                   "code": included.get("code", 0)}
        if included.get("code", 0):
            details["raw_log"] = str(included.get("raw_log", ""))[:500]
            return Receipt(self.name, signed.chain_network, tx_hash, "failed", details)
        return Receipt(self.name, signed.chain_network, tx_hash, "confirmed", details)

    def balance(self, address: str, chain_network: str, rpc: ChainEndpoint, token: str | None = None) -> Balance:
        """``GET /cosmos/bank/v1beta1/balances/{address}/by_denom``; ``token`` is another denom
        (reported in base units: decimals 0).

        Raises
        ------
        InvalidAddressError, RpcError
        """
        from .rest import CosmosRest

        self.check_chain_network(chain_network)
        address = self.validate_address(address, chain_network)
        if not rpc.url:
            raise RpcError(f"no REST URL configured for {self.name} {chain_network}")
        denom = token or self.spec.denom
        client = CosmosRest(rpc.url)
        try:
            amount = client.balance(address, denom)
        finally:
            client.close()
        if token is None:
            return Balance(self.name, chain_network, address, amount, self.decimals, self.symbol)
        return Balance(self.name, chain_network, address, amount, 0, token, token)


def _format(amount: int, denom: str, chain: CosmosChain) -> str:
    from chainsig_core import format_base_units

    return format_base_units(amount, chain.decimals) if denom == chain.spec.denom else str(amount)


def _seconds(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 3600:
        raise ConfigError(f"{where} must be a number of seconds between 0 and 3600")
    return float(value)


def _uint(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidInputError(f"{name} must be a whole number")
    try:
        number = int(value)
    except ValueError:
        raise InvalidInputError(f"{name} must be a whole number, not {value!r}") from None
    if not 0 <= number < 2**64:
        raise InvalidInputError(f"{name} must be between 0 and 2^64-1")
    return number


def _positive_int(value: object, name: str, default: int, *, allow_zero: bool = False) -> int:
    if value is None:
        return default
    number = _uint(value, name)
    if number == 0 and not allow_zero:
        raise InvalidInputError(f"{name} must be positive")
    return number
