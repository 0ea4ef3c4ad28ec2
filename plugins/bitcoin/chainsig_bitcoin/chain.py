"""The ``bitcoin`` chain: P2WPKH/P2PKH addresses of the derived key, spends, broadcast."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from chainsig_core.amounts import format_base_units, to_base_units
from chainsig_core.chain import Chain, ChainOption
from chainsig_core.errors import ChainError, InvalidInputError
from chainsig_core.keys import PublicKey
from chainsig_core.signatures import Signature
from chainsig_core.types import (
    Balance,
    CallRequest,
    ChainEndpoint,
    ChainRequest,
    DerivedAccount,
    Payload,
    Prepared,
    Receipt,
    SignedTx,
)

from .addresses import ADDRESS_TYPES, compressed_key, decode_address, key_address, script_pubkey
from .networks import DEFAULT_ESPLORA_URLS, NETWORKS, get_network

if TYPE_CHECKING:
    from .spend import UnsignedSpend

class BitcoinChain(Chain):
    """Bitcoin: one derived secp256k1 key, spent as P2WPKH (default) or P2PKH."""

    name = "bitcoin"
    domain_id = 0
    chain_networks = tuple(NETWORKS)
    default_chain_networks = {"mainnet": "mainnet", "testnet": "testnet", "local": "regtest"}
    address_types = ADDRESS_TYPES
    symbol = "BTC"
    decimals = 8
    base_unit = "sat"
    default_rpc_urls = DEFAULT_ESPLORA_URLS

    # -- addresses -----------------------------------------------------------------------------

    def address(
        self, public_key: PublicKey, chain_network: str, *, address_type: str | None = None
    ) -> str:
        kind = self.check_address_type(address_type)
        self.check_chain_network(chain_network)
        return key_address(compressed_key(public_key), chain_network, kind or "p2wpkh")

    def validate_address(self, address: str, chain_network: str) -> str:
        """Check a recipient address of ``chain_network``; return it (bech32 lowercased).

        Raises
        ------
        InvalidAddressError
        """
        decode_address(address, self.check_chain_network(chain_network))
        text = address.strip()
        return text.lower() if text.lower().startswith(get_network(chain_network).hrp + "1") else text

    # -- spending ------------------------------------------------------------------------------

    def prepare(self, request: ChainRequest, chain_network: str, rpc: ChainEndpoint) -> Prepared:
        from .fees import check_fee_rate, fee_rate_limits
        from .options import parse_spend_options
        from .psbt import export_psbt
        from .selection import select_coins
        from .spend import build_spend

        options = parse_spend_options(request.options)  # the user's mistakes first, before any node
        if isinstance(request, CallRequest):
            raise InvalidInputError("bitcoin supports transfers only (no contract calls)")
        if request.token is not None:
            raise InvalidInputError("bitcoin has no tokens: leave out --token")
        self.check_chain_network(chain_network)
        kind = self.check_address_type(request.address_type) or "p2wpkh"
        pubkey = compressed_key(request.sender.public_key)
        own_spk = script_pubkey(pubkey, kind)
        from_address = key_address(pubkey, chain_network, kind)
        to = self.validate_address(request.to, chain_network)
        recipient_spk = decode_address(to, chain_network)
        amount = to_base_units(request.amount, self.decimals, base_unit=self.base_unit, symbol=self.symbol)
        where = f"[chains.bitcoin.{chain_network}]"

        backend = None
        try:
            if options.fee_rate is not None:
                fee_rate = check_fee_rate(options.fee_rate, rpc.settings, what="--fee-rate", where=where)
            else:
                backend = _backend(rpc, chain_network)
                estimate = backend.fee_rate(options.conf_target)
                low, _ = fee_rate_limits(rpc.settings)
                fee_rate = check_fee_rate(
                    max(estimate, low), rpc.settings,
                    what=f"the back end's fee estimate for a {options.conf_target}-block target", where=where,
                )
            if options.utxos is not None:
                utxos = _given_utxos(options.utxos)
            else:
                backend = backend or _backend(rpc, chain_network)
                utxos = backend.utxos(from_address)
            for utxo in utxos:
                if utxo.script_pubkey is not None and utxo.script_pubkey != own_spk:
                    raise InvalidInputError(
                        f"output {utxo.outpoint} is not locked to the sender's {kind} address "
                        f"{from_address} (wrong --utxos file or --address-type?)"
                    )
            selection = select_coins(utxos, kind, recipient_spk, amount, own_spk, fee_rate)
            spend = build_spend(kind, pubkey, selection.inputs, selection.outputs, rbf=options.rbf)
            prev_txs: dict[str, bytes] = {}
            if backend is not None and kind == "p2pkh":
                prev_txs = {u.txid: backend.raw_transaction(u.txid) for u in spend.inputs}
            psbt = export_psbt(spend, prev_txs)
        finally:
            if backend is not None:
                backend.close()
        summary = {
            "to": to,
            "amount": format_base_units(amount, self.decimals),
            "amount_sats": amount,
            "fee": selection.fee,
            "fee_rate": str(fee_rate),
            "estimated_vsize": selection.estimated_vsize,
            "change": selection.change,
        }
        return make_prepared(request.sender, chain_network, spend, psbt, summary)

    def finalize(self, prepared: Prepared, signatures: Sequence[Signature]) -> SignedTx:
        from .finalize import finalize_spend
        from .psbt import export_psbt
        from .spend import UnsignedSpend

        self.check_chain_network(prepared.chain_network)
        if "format" not in prepared.tx and isinstance(prepared.tx.get("psbt"), str):
            # A bundle whose tx is only {"psbt": …} (made by hand or by another tool): the
            # PSBT is the transaction; its digests must still equal the bundle's payloads.
            from .psbt import import_psbt

            spend = import_psbt(prepared.tx["psbt"], compressed_key(prepared.sender.public_key))
        else:
            spend = UnsignedSpend.from_json(prepared.tx)
        done = finalize_spend(spend, prepared.sender.public_key, [p.data for p in prepared.payloads], signatures)
        details: dict[str, Any] = {
            **done.details(),
            "inputs": len(spend.inputs),
            "rbf": spend.replaceable,
            "psbt": export_psbt(spend, None, done.signatures_der),
        }
        return SignedTx(self.name, prepared.chain_network, done.raw.hex(), done.txid, details)

    def broadcast(self, signed: SignedTx, rpc: ChainEndpoint) -> Receipt:
        self.check_chain_network(signed.chain_network)
        try:
            bytes.fromhex(signed.raw)
        except ValueError:
            raise InvalidInputError("the signed bitcoin transaction is not hex") from None
        backend = _backend(rpc, signed.chain_network)
        try:
            txid = backend.broadcast(signed.raw)
            if txid != signed.tx_hash:
                raise ChainError(f"the node reports txid {txid}, expected {signed.tx_hash}")
            status = backend.tx_status(txid)
        finally:
            backend.close()
        return Receipt(
            self.name, signed.chain_network, txid, "confirmed" if status.confirmed else "broadcast",
            {"backend": backend.kind, "block_height": status.block_height},
        )

    def balance(
        self, address: str, chain_network: str, rpc: ChainEndpoint, token: str | None = None
    ) -> Balance:
        if token is not None:
            raise InvalidInputError("bitcoin has no tokens: leave out --token")
        address = self.validate_address(address, chain_network)
        backend = _backend(rpc, chain_network)
        try:
            sats = backend.balance(address)
        finally:
            backend.close()
        return Balance(self.name, chain_network, address, sats, self.decimals, self.symbol)

    # -- command line --------------------------------------------------------------------------

    def cli_options(self) -> Sequence[ChainOption]:
        from .options import cli_options

        return cli_options()


def make_prepared(
    sender: DerivedAccount,
    chain_network: str,
    spend: UnsignedSpend,
    psbt: str | None,
    summary: Mapping[str, Any],
) -> Prepared:
    """The unsigned bundle of ``spend``: one payload (its sighash) per input, each signed in
    ``sender``'s domain (0, or a secp256k1 domain the contract added).

    ``summary`` gets the facts every Bitcoin bundle reports (inputs, fee, rbf, address type).
    """
    payloads = tuple(
        Payload(digest, sender.domain_id, f"input {i} {u.outpoint}")
        for i, (digest, u) in enumerate(zip(spend.sighashes(), spend.inputs, strict=True))
    )
    facts = {
        "fee": spend.fee,
        "inputs": len(spend.inputs),
        "rbf": spend.replaceable,
        "address_type": spend.address_type,
        **summary,
    }
    return Prepared(
        chain=BitcoinChain.name,
        chain_network=chain_network,
        sender=sender,
        from_address=key_address(spend.public_key, chain_network, spend.address_type),
        payloads=payloads,
        tx=dict(spend.to_json(psbt)),
        summary=facts,
    )


def _backend(rpc: ChainEndpoint, chain_network: str) -> Any:
    from .backends import get_backend

    return get_backend(rpc, chain_network)


def _given_utxos(value: Any) -> list[Any]:
    """``--utxos``: a file path (CLI), or — for library callers — a list of :class:`Utxo` or of
    the file's JSON objects."""
    from .utxos import Utxo, load_utxo_file, parse_utxo_list

    if isinstance(value, list | tuple):
        if all(isinstance(u, Utxo) for u in value):
            return list(value)
        return parse_utxo_list(list(value), "utxos option")
    if isinstance(value, str | os.PathLike):
        return load_utxo_file(value)
    raise InvalidInputError("the utxos option must be a file path or a list of UTXOs")


__all__ = ["BitcoinChain"]
