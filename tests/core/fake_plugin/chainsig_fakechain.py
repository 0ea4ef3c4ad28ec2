"""A minimal chain plugin used by core's tests, installed through a real dist-info entry point.

Two chains: ``fakechain`` (secp256k1, domain 0) and ``fakechain-ed`` (ed25519, domain 1). The
"ledger" is in memory: broadcast records the transaction, balance reads a dict.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from chainsig_core import (
    Balance,
    Chain,
    ChainEndpoint,
    ChainOption,
    InvalidAddressError,
    InvalidKeyError,
    Payload,
    Prepared,
    PublicKey,
    Receipt,
    Signature,
    SignedTx,
    TransferRequest,
    hookimpl,
    to_base_units,
    verify_signature,
)

LEDGER: dict[str, int] = {}
SENT: list[SignedTx] = []


class FakeChain(Chain):
    name = "fakechain"
    domain_id = 0
    chain_networks = ("main", "test", "local")
    default_chain_networks = {"mainnet": "main", "testnet": "test", "local": "local"}
    address_types = ("short", "long")
    symbol = "FAKE"
    decimals = 6
    base_unit = "micro"

    def _check_key(self, public_key: PublicKey, chain_network: str) -> None:
        self.check_chain_network(chain_network)
        if public_key.domain_id != self.domain_id:
            raise InvalidKeyError(f"{self.name} needs a key of domain {self.domain_id}")

    def address(self, public_key: PublicKey, chain_network: str, *, address_type: str | None = None) -> str:
        self._check_key(public_key, chain_network)
        digest = hashlib.sha256(public_key.compressed).hexdigest()
        body = digest[:40] if (address_type or "short") == "short" else digest
        return f"{chain_network}1{body}"

    def validate_address(self, address: str, chain_network: str) -> str:
        prefix = f"{chain_network}1"
        if not isinstance(address, str) or not address.startswith(prefix) or len(address) not in (len(prefix) + 40, len(prefix) + 64):
            raise InvalidAddressError(f"not a {self.name} {chain_network} address: {address!r}")
        return address

    def prepare(self, request, chain_network: str, rpc: ChainEndpoint) -> Prepared:  # type: ignore[override]
        assert isinstance(request, TransferRequest)
        to = self.validate_address(request.to, chain_network)
        amount = to_base_units(request.amount, self.decimals, base_unit=self.base_unit, symbol=self.symbol)
        sender = self.address(request.sender.public_key, chain_network, address_type=request.address_type)
        tx = {"from": sender, "to": to, "amount": str(amount), "nonce": int(request.options.get("nonce", 0))}
        message = json.dumps(tx, sort_keys=True).encode()
        data = hashlib.sha256(message).digest() if self.domain_id == 0 else message
        return Prepared(
            chain=self.name, chain_network=chain_network, sender=request.sender, from_address=sender,
            # the sender's domain: 0/1 by default, an added one (2, 3 …) when derived there
            payloads=(Payload(data, request.sender.domain_id, "tx"),), tx=tx,
            summary={"to": to, "amount": str(request.amount)},
        )

    def finalize(self, prepared: Prepared, signatures: Sequence[Signature]) -> SignedTx:
        (payload,) = prepared.payloads
        (signature,) = signatures
        verify_signature(prepared.sender.public_key, payload.data, signature)
        raw = json.dumps({"tx": dict(prepared.tx), "signature": signature.to_json()}, sort_keys=True)
        return SignedTx(self.name, prepared.chain_network, raw, hashlib.sha256(raw.encode()).hexdigest())

    def broadcast(self, signed: SignedTx, rpc: ChainEndpoint) -> Receipt:
        SENT.append(signed)
        return Receipt(self.name, signed.chain_network, signed.tx_hash, "confirmed")

    def balance(self, address: str, chain_network: str, rpc: ChainEndpoint, token: str | None = None) -> Balance:
        return Balance(self.name, chain_network, address, LEDGER.get(address, 0), self.decimals, self.symbol, token)

    def cli_options(self) -> list[ChainOption]:
        return [ChainOption("--nonce", "Fake nonce.", type=int)]


class FakeEdChain(FakeChain):
    name = "fakechain-ed"
    domain_id = 1
    address_types = ()

    def address(self, public_key: PublicKey, chain_network: str, *, address_type: str | None = None) -> str:
        self._check_key(public_key, chain_network)
        return f"{chain_network}1{public_key.data.hex()[:40]}"


@hookimpl
def register_chains(register) -> None:  # type: ignore[no-untyped-def]
    register(FakeChain())
    register(FakeEdChain())
