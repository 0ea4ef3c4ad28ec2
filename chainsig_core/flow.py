"""prepare → sign → finalize → broadcast, the library form of ``chainsig send``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .chain import Chain
from .config import Config, load_config
from .derive import derive_address, resolve_chain_network
from .errors import SignatureVerificationError
from .plugins import get_chain
from .signatures import Signature, verify_signature
from .signers import Signer, SignRequest, SignResult, get_signer
from .types import ChainEndpoint, Prepared, Receipt, SignedTx, TransferRequest


def chain_endpoint(
    chain: Chain, chain_network: str, rpc_url: str | None = None, config: Config | None = None
) -> ChainEndpoint:
    """Where to reach ``chain_network``: ``rpc_url`` if given, else the config, else the
    chain's public default (``None`` when there is none)."""
    config = config or load_config()
    settings = config.chain_settings(chain.name, chain_network)
    url = rpc_url or settings.get("rpc_url") or chain.default_rpc_urls.get(chain_network)
    return ChainEndpoint(url=url, settings=settings)


def sign_prepared(signer: Signer, prepared: Prepared) -> list[Signature]:
    """Sign every payload of ``prepared`` with ``signer``; all verified, in payload order.

    Raises
    ------
    ChainsigError
        The first failure, after every request has finished.
    """
    sender = prepared.sender
    requests = [SignRequest(sender.account_id, sender.path, p.domain_id, p.data) for p in prepared.payloads]
    results = signer.sign_all(requests)
    for payload, result in zip(prepared.payloads, results, strict=True):
        # The signer verified against its own derivation; check it is the bundle's key too.
        if result.public_key != sender.public_key:
            raise SignatureVerificationError(
                "the bundle's sender key is not the key the signer derives for this account and "
                "path (was the bundle prepared on another NEAR network?)"
            )
        verify_signature(sender.public_key, payload.data, result.signature)
    return [r.signature for r in results]


@dataclass(frozen=True)
class SendResult:
    """What :func:`send` did."""

    prepared: Prepared
    signed: SignedTx
    receipt: Receipt | None

    def to_json(self, network: str) -> dict[str, Any]:
        """The ``send --json`` object (ARCHITECTURE.md)."""
        summary = self.prepared.summary
        out: dict[str, Any] = {
            "network": network,
            "chain": self.prepared.chain,
            "chain_network": self.prepared.chain_network,
            "from": self.prepared.from_address,
            "to": summary.get("to"),
            "amount": summary.get("amount"),
            "tx_hash": self.signed.tx_hash,
            "status": self.receipt.status if self.receipt else "signed",
        }
        if self.receipt is None:
            out["raw"] = self.signed.raw
        return out


def send(
    *,
    chain: str,
    account: str,
    path: str,
    to: str,
    amount: str | int,
    network: str = "mainnet",
    chain_network: str | None = None,
    token: str | None = None,
    address_type: str | None = None,
    options: Mapping[str, Any] | None = None,
    rpc_url: str | None = None,
    dry_run: bool = False,
    signer: Signer | None = None,
    config: Config | None = None,
) -> SendResult:
    """Move funds from the address ``(account, path)`` controls: prepare, sign, finalize and
    (unless ``dry_run``) broadcast.

    Raises
    ------
    ChainsigError
        Whatever step failed; nothing is broadcast unless every signature verified.
    """
    config = config or load_config()
    chain_obj = get_chain(chain)
    near = config.network(network)
    chain_net = resolve_chain_network(chain_obj, near.family, chain_network)
    derived = derive_address(
        chain=chain_obj, account=account, path=path, network=network,
        chain_network=chain_net, address_type=address_type, config=config,
    )
    endpoint = chain_endpoint(chain_obj, chain_net, rpc_url, config)
    request = TransferRequest(
        sender=derived.derived_account, to=to, amount=amount, token=token,
        address_type=derived.address_type, options=dict(options or {}),
    )
    prepared = chain_obj.prepare(request, chain_net, endpoint)
    own_signer = signer is None
    signer = signer or get_signer(network, config)
    try:
        signatures = sign_prepared(signer, prepared)
    finally:
        if own_signer:
            signer.close()
    signed = chain_obj.finalize(prepared, signatures)
    receipt = None if dry_run else chain_obj.broadcast(signed, endpoint)
    return SendResult(prepared, signed, receipt)


async def send_async(**kwargs: Any) -> SendResult:
    """:func:`send` for asyncio code (chain I/O runs in a worker thread; the arguments are
    :func:`send`'s)."""
    import asyncio

    return await asyncio.to_thread(send, **kwargs)


def sign(
    *,
    account: str,
    path: str,
    payload: bytes,
    domain_id: int = 0,
    network: str = "mainnet",
    signer: Signer | None = None,
    config: Config | None = None,
) -> SignResult:
    """One verified signature of ``payload`` for ``(account, path)`` from the network's signer.

    Raises
    ------
    ChainsigError
        Invalid request, signing failure, or a signature that does not verify.
    """
    from .signers.base import _run

    return _run(sign_async(account=account, path=path, payload=payload, domain_id=domain_id,
                           network=network, signer=signer, config=config))


async def sign_async(
    *,
    account: str,
    path: str,
    payload: bytes,
    domain_id: int = 0,
    network: str = "mainnet",
    signer: Signer | None = None,
    config: Config | None = None,
) -> SignResult:
    """:func:`sign` for asyncio code."""
    request = SignRequest(account, path, domain_id, payload)
    own = signer is None
    signer = signer or get_signer(network, config)
    try:
        return await signer.sign_async(request)
    finally:
        if own:
            await signer.aclose()


def finalize_bundle(prepared: Prepared, signatures: Sequence[Signature]) -> SignedTx:
    """Finalize an unsigned bundle with externally obtained signatures (air-gapped flow).

    Every signature is verified against the bundle's sender key before the chain sees it.

    Raises
    ------
    InvalidInputError
        If the number of signatures differs from the number of payloads.
    SignatureVerificationError
    """
    from .errors import InvalidInputError

    if len(signatures) != len(prepared.payloads):
        raise InvalidInputError(
            f"the bundle has {len(prepared.payloads)} payload(s) but {len(signatures)} signature(s) were given"
        )
    for payload, signature in zip(prepared.payloads, signatures, strict=True):
        verify_signature(prepared.sender.public_key, payload.data, signature)
    return get_chain(prepared.chain).finalize(prepared, signatures)
