"""prepare → sign → finalize → broadcast, the library form of ``chainsig send``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .chain import Chain
from .config import Config, load_config
from .derive import derive_address, resolve_chain_network
from .errors import InvalidInputError, SignatureVerificationError, UnknownNameError
from .plugins import chain_object, get_chain
from .signatures import Signature, verify_signature
from .signers import Signer, SignRequest, SignResult, get_signer
from .types import ChainEndpoint, DerivedAccount, Prepared, Receipt, SignedTx, TransferRequest


def chain_endpoint(
    chain: Chain, chain_network: str, rpc_url: str | None = None, config: Config | None = None
) -> ChainEndpoint:
    """Where to reach ``chain_network``: ``rpc_url`` if given, else the config, else the
    chain's public default (``None`` when there is none).

    Raises
    ------
    InvalidInputError
        If ``chain`` is not a :class:`Chain` or ``chain_network`` not one of its networks.
    """
    if not isinstance(chain, Chain):
        raise InvalidInputError(f"chain_endpoint needs a Chain (plugins.get_chain(name)), not {type(chain).__name__}")
    chain.check_chain_network(chain_network)
    config = config or load_config()
    settings = config.chain_settings(chain.name, chain_network)
    url = rpc_url or settings.get("rpc_url") or chain.default_rpc_urls.get(chain_network)
    return ChainEndpoint(url=url, settings=settings)


def sign_prepared(signer: Signer, prepared: Prepared) -> list[Signature]:
    """Sign every payload of ``prepared`` with ``signer``; all verified, in payload order.

    Raises
    ------
    InvalidInputError
        If a payload is not in the sender's domain (before anything is signed).
    ChainsigError
        The first failure, after every request has finished.
    """
    sender = prepared.sender
    for index, payload in enumerate(prepared.payloads):
        if payload.domain_id != sender.domain_id:
            raise InvalidInputError(
                f"payload {index} of the bundle is for domain {payload.domain_id}, but its sender's "
                f"key is derived in domain {sender.domain_id}: refused"
            )
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
        """The ``send --json`` object (ARCHITECTURE.md); ``domain_id`` only when the sender is
        not in its curve's default domain (as in ``derive --json``)."""
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
        if not self.prepared.sender.is_default_domain:
            out["domain_id"] = self.prepared.sender.domain_id
        return out


def prepare(
    *,
    chain: str | Chain,
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
    domain_id: int | None = None,
    config: Config | None = None,
) -> Prepared:
    """The unsigned bundle of a transfer from the address ``(account, path)`` controls — the
    library form of ``chainsig prepare`` (nothing is signed; ``Prepared.to_json`` is the file).

    Parameters
    ----------
    chain, account, path, network, chain_network, address_type:
        As for :func:`~chainsig_core.derive.derive_address`: who sends, from where.
    to, amount, token:
        What moves (``amount`` a decimal string of the main unit or ``int`` base units).
    options:
        The chain's options by their ``dest`` names (``nonce``, ``fee_rate`` …).
    rpc_url:
        The chain's node; default from the config or the chain's public endpoint.
    domain_id:
        The signer domain to send from; default the chain's (0 secp256k1, 1 ed25519). An
        added domain must have a root key of the chain's curve in the configuration
        (``root_public_keys``): the payloads are signed in it.

    Raises
    ------
    UnknownNameError
        For an unknown chain, network, or a domain whose root key is not configured.
    InvalidInputError
        For a domain whose root key is not on the chain's curve, or a bad request.
    ChainsigError
        Whatever the chain refuses (funds, addresses, its node).
    """
    if options is not None and not isinstance(options, Mapping):
        raise InvalidInputError(f"options must be a mapping of option names to values, not {type(options).__name__}")
    config = config or load_config()
    chain_obj = chain_object(chain)
    chain_net = resolve_chain_network(chain_obj, config.network(network).family, chain_network)
    derived = derive_address(
        chain=chain_obj, account=account, path=path, network=network, chain_network=chain_net,
        address_type=address_type, config=config, domain_id=domain_id,
    )
    request = TransferRequest(
        sender=derived.derived_account, to=to, amount=amount, token=token,
        address_type=derived.address_type, options=dict(options or {}),
    )
    return chain_obj.prepare(request, chain_net, chain_endpoint(chain_obj, chain_net, rpc_url, config))


def send(
    *,
    chain: str | Chain,
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
    domain_id: int | None = None,
    config: Config | None = None,
) -> SendResult:
    """Move funds from the address ``(account, path)`` controls: prepare, sign, finalize and
    (unless ``dry_run``) broadcast.

    The arguments are :func:`prepare`'s, and ``dry_run`` (sign and verify, do not broadcast)
    and ``signer`` (default: the network's, closed afterwards). With ``domain_id`` the address
    is the one derived in that signer domain, and every payload is signed in it.

    Raises
    ------
    ChainsigError
        Whatever step failed; nothing is broadcast unless every signature verified.
    """
    config = config or load_config()
    chain_obj = chain_object(chain)
    prepared = prepare(
        chain=chain_obj, account=account, path=path, to=to, amount=amount, network=network,
        chain_network=chain_network, token=token, address_type=address_type, options=options,
        rpc_url=rpc_url, domain_id=domain_id, config=config,
    )
    endpoint = chain_endpoint(chain_obj, prepared.chain_network, rpc_url, config)
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


def finalize_bundle(prepared: Prepared, signatures: Sequence[Signature], config: Config | None = None) -> SignedTx:
    """Finalize an unsigned bundle with externally obtained signatures (air-gapped flow).

    Every signature is verified against the bundle's sender key before the chain sees it, and
    that key is checked to be the one the bundle's (network, account, path, domain) derives
    (:func:`check_sender_key`).

    Raises
    ------
    InvalidInputError
        If the number of signatures differs from the number of payloads, or the sender key is
        not the one its account derives (an edited bundle).
    SignatureVerificationError
    """
    if not isinstance(prepared, Prepared):
        raise InvalidInputError(f"finalize_bundle needs a Prepared bundle, not {type(prepared).__name__}")
    if isinstance(signatures, (str, bytes)) or not isinstance(signatures, Sequence):
        raise InvalidInputError("signatures must be a sequence of Signature, one per payload")
    check_sender_key(prepared.sender, config)
    if len(signatures) != len(prepared.payloads):
        raise InvalidInputError(
            f"the bundle has {len(prepared.payloads)} payload(s) but {len(signatures)} signature(s) were given"
        )
    for payload, signature in zip(prepared.payloads, signatures, strict=True):
        if not isinstance(signature, Signature):
            raise InvalidInputError(f"signatures must be Signature objects, not {type(signature).__name__}")
        verify_signature(prepared.sender.public_key, payload.data, signature)
    return get_chain(prepared.chain).finalize(prepared, signatures)


def check_sender_key(sender: DerivedAccount, config: Config | None = None) -> None:
    """Check that ``sender.public_key`` is what its network's root key derives for its account,
    path and domain — a bundle whose account, path, network or domain was edited after
    ``prepare`` is refused instead of finalized under a misleading name.

    Nothing is compared when the network or that domain's root key is not known here (an
    offline machine without the devnet's config): the signatures are still verified against
    the key.

    Raises
    ------
    InvalidInputError
        When the keys differ.
    """
    from .kdf import derive_public_key

    try:
        root = (config or load_config()).network(sender.network).root_public_key(sender.domain_id)
    except UnknownNameError:
        return
    if root.curve is not sender.public_key.curve:
        raise InvalidInputError(
            f"the bundle's sender key is {sender.public_key.curve.value}, but domain {sender.domain_id} "
            f"of network {sender.network!r} is {root.curve.value}: the bundle was edited"
        )
    if derive_public_key(root, sender.account_id, sender.path) != sender.public_key:
        raise InvalidInputError(
            f"the bundle's sender key is not the key {sender.account_id} derives at path {sender.path!r} "
            f"in domain {sender.domain_id} on {sender.network}: the bundle was edited after prepare, "
            "or the network's root key is not the one it was prepared under"
        )
