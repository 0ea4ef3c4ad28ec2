"""The values that flow between core, signers and chain plugins (frozen dataclasses).

The flow::

    DerivedAccount ─▶ TransferRequest | CallRequest ─Chain.prepare─▶ Prepared (tx + payloads)
    payloads ─Signer─▶ signatures ─Chain.finalize─▶ SignedTx ─Chain.broadcast─▶ Receipt

:class:`Prepared` round-trips through JSON (``to_json`` / ``from_json``) so that ``chainsig
prepare`` can write an unsigned bundle and ``chainsig finalize`` can read it on another machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Literal

from .amounts import format_base_units
from .errors import ChainsigError, InvalidAmountError, InvalidInputError
from .keys import Curve, PublicKey, check_domain_id

BUNDLE_VERSION = 1
"""Version of the JSON form of :class:`Prepared` (the unsigned bundle)."""

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class DerivedAccount:
    """A foreign-chain account controlled by (NEAR account, path) through ``v1.signer``.

    Parameters
    ----------
    network:
        NEAR network whose root key derived the key (``mainnet``, ``testnet``, ``dev`` …).
    account_id:
        The NEAR account that calls ``sign`` (the predecessor).
    path:
        Derivation path.
    public_key:
        The derived public key.
    domain_id:
        The signer domain whose root key derived ``public_key`` — the domain every payload of
        this sender is signed in. Default (``None``): the default domain of the key's curve,
        0 for secp256k1 and 1 for ed25519; an added domain (2, 3, … — ``vote_add_domains``)
        is named explicitly. After construction it is always an ``int``.

    Raises
    ------
    InvalidInputError
        For a domain id that is not a u64, or domain 0/1 with a key of the other curve.
    """

    network: str
    account_id: str
    path: str
    public_key: PublicKey
    domain_id: int = None  # type: ignore[assignment]  # None → the curve's default domain

    def __post_init__(self) -> None:
        domain = self.domain_id
        if domain is None:
            object.__setattr__(self, "domain_id", self.public_key.curve.domain_id)
            return
        check_domain_id(domain)
        fixed = Curve.default_for_domain(domain)
        if fixed is not None and fixed is not self.public_key.curve:
            raise InvalidInputError(
                f"domain {domain} is {fixed.value}, but the sender's key is {self.public_key.curve.value}"
            )

    @property
    def is_default_domain(self) -> bool:
        """Whether :attr:`domain_id` is the default domain of the key's curve (0 or 1)."""
        return self.domain_id == self.public_key.curve.domain_id

    def to_json(self) -> dict[str, Any]:
        """The bundle's ``sender``; ``domain_id`` is written only for a non-default domain, so
        a bundle of a default-domain sender is exactly what earlier versions wrote."""
        out: dict[str, Any] = {
            "network": self.network,
            "account": self.account_id,
            "path": self.path,
            "public_key": self.public_key.to_near_string(),
        }
        if not self.is_default_domain:
            out["domain_id"] = self.domain_id
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DerivedAccount:
        """Read :meth:`to_json`'s form (a missing ``domain_id`` is the curve's default domain).

        Raises
        ------
        InvalidInputError
            For a missing field or a ``domain_id`` that is not a u64 fitting the key.
        """
        if not isinstance(data, Mapping):
            raise InvalidInputError("bundle sender must be a JSON object")
        try:
            network, account, path = str(data["network"]), str(data["account"]), str(data["path"])
            public_key = PublicKey.from_near_string(data["public_key"])
        except KeyError as exc:
            raise InvalidInputError(f"bundle sender is missing {exc.args[0]!r}") from None
        except ChainsigError as exc:
            raise InvalidInputError(f"bundle sender 'public_key': {exc}") from None
        domain = data.get("domain_id")
        if domain is not None:
            try:
                check_domain_id(domain)
            except InvalidInputError:
                raise InvalidInputError(
                    f"bundle sender 'domain_id' must be an unsigned 64-bit integer, not {domain!r}"
                ) from None
        return cls(network, account, path, public_key, domain)


@dataclass(frozen=True)
class ChainEndpoint:
    """Where and how to reach a chain network's node.

    Parameters
    ----------
    url:
        RPC or REST base URL, or ``None`` when offline.
    settings:
        The chain network's table from the config file (credentials, back-end kind, …).
    """

    url: str | None = None
    settings: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True)
class TransferRequest:
    """Move ``amount`` of the native asset (or of ``token``) from ``sender`` to ``to``.

    ``amount`` is a decimal string in the main unit (``"0.01"``), a string with the base
    unit's suffix (``"1000wei"``) or an ``int`` of base units — never a float; chains convert
    it with :func:`chainsig_core.amounts.to_base_units`. ``options`` carries the chain-specific
    settings of :meth:`Chain.cli_options` (``fee_rate``, ``nonce`` …) by their ``dest`` names.
    """

    sender: DerivedAccount
    to: str
    amount: str | int | Decimal
    token: str | None = None
    address_type: str | None = None
    options: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)

    def __post_init__(self) -> None:
        _check_request(self.sender, self.to, self.options)
        if isinstance(self.amount, bool) or not isinstance(self.amount, str | int | Decimal):
            raise InvalidAmountError(
                "amounts must be exact: pass a decimal string such as '0.01', a Decimal or an integer "
                f"of base units, not {type(self.amount).__name__}"
            )


@dataclass(frozen=True)
class CallRequest:
    """Call a contract or program: ``data`` to ``to`` with an optional native ``value``."""

    sender: DerivedAccount
    to: str
    data: bytes = b""
    value: str | int = 0
    address_type: str | None = None
    options: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)

    def __post_init__(self) -> None:
        _check_request(self.sender, self.to, self.options)
        if not isinstance(self.data, bytes | bytearray | memoryview):
            raise InvalidInputError(f"call data must be bytes, not {type(self.data).__name__}")
        if isinstance(self.value, bool) or not isinstance(self.value, str | int | Decimal):
            raise InvalidAmountError(f"value must be a decimal string or an integer of base units, "
                                     f"not {type(self.value).__name__}")


def _check_request(sender: object, to: object, options: object) -> None:
    if not isinstance(sender, DerivedAccount):
        raise InvalidInputError(f"a request's sender must be a DerivedAccount, not {type(sender).__name__}")
    if not isinstance(to, str):
        raise InvalidInputError(f"a request's recipient must be an address string, not {type(to).__name__}")
    if not isinstance(options, Mapping):
        raise InvalidInputError(f"a request's options must be a mapping of option names to values, "
                                f"not {type(options).__name__}")


ChainRequest = TransferRequest | CallRequest


@dataclass(frozen=True)
class Payload:
    """One message to be signed in ``domain_id`` (a Bitcoin spend has one per input)."""

    data: bytes
    domain_id: int
    label: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"payload": self.data.hex(), "domain_id": self.domain_id, "label": self.label}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Payload:
        try:
            return cls(bytes.fromhex(data["payload"]), int(data["domain_id"]), str(data.get("label", "")))
        except (KeyError, ValueError, TypeError):
            raise InvalidInputError("bundle payload must have hex 'payload' and 'domain_id'") from None


@dataclass(frozen=True)
class Prepared:
    """An unsigned transaction and the payloads to sign for it.

    Parameters
    ----------
    chain, chain_network:
        Where the transaction goes.
    sender:
        The derived account that signs.
    from_address:
        The sender's address on the chain.
    payloads:
        What to sign, in the order ``finalize`` expects the signatures.
    tx:
        The chain's unsigned transaction, JSON-serialisable (the chain defines its shape).
    summary:
        Human-facing facts (``to``, ``amount`` as a decimal string, ``fee`` …), JSON-serialisable.
    """

    chain: str
    chain_network: str
    sender: DerivedAccount
    from_address: str
    payloads: tuple[Payload, ...]
    tx: Mapping[str, Any]
    summary: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)

    def to_json(self) -> dict[str, Any]:
        """The unsigned bundle ``chainsig prepare`` writes."""
        return {
            "version": BUNDLE_VERSION,
            "chain": self.chain,
            "chain_network": self.chain_network,
            "sender": self.sender.to_json(),
            "from": self.from_address,
            "payloads": [p.to_json() for p in self.payloads],
            "tx": dict(self.tx),
            "summary": dict(self.summary),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Prepared:
        """Read a bundle written by :meth:`to_json`.

        Raises
        ------
        InvalidInputError
            If the bundle is malformed or of an unknown version.
        """
        if not isinstance(data, Mapping):
            raise InvalidInputError("a bundle must be a JSON object")
        if data.get("version") != BUNDLE_VERSION:
            raise InvalidInputError(
                f"unsupported bundle version {data.get('version')!r} (expected {BUNDLE_VERSION})"
            )
        try:
            payloads = data["payloads"]
            if not isinstance(payloads, list):
                raise InvalidInputError("bundle 'payloads' must be a list")
            return cls(
                chain=str(data["chain"]),
                chain_network=str(data["chain_network"]),
                sender=DerivedAccount.from_json(data["sender"]),
                from_address=str(data["from"]),
                payloads=tuple(Payload.from_json(p) for p in payloads),
                tx=dict(data["tx"]),
                summary=dict(data.get("summary") or {}),
            )
        except KeyError as exc:
            raise InvalidInputError(f"bundle is missing {exc.args[0]!r}") from None
        except (TypeError, ValueError) as exc:
            if isinstance(exc, InvalidInputError):
                raise
            raise InvalidInputError("bundle is malformed") from None


@dataclass(frozen=True)
class SignedTx:
    """A signed transaction, verified, ready to broadcast.

    Parameters
    ----------
    raw:
        The serialized transaction as the chain's RPC takes it (hex for EVM and Bitcoin,
        base64 for Solana — the chain documents which).
    tx_hash:
        The transaction id the chain will know it by.
    details:
        Chain-specific facts (vsize, fee, nonce …), JSON-serialisable.
    """

    chain: str
    chain_network: str
    raw: str
    tx_hash: str
    details: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)

    def to_json(self) -> dict[str, Any]:
        return {
            "chain": self.chain,
            "chain_network": self.chain_network,
            "raw": self.raw,
            "tx_hash": self.tx_hash,
            "details": dict(self.details),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SignedTx:
        try:
            return cls(
                str(data["chain"]),
                str(data["chain_network"]),
                str(data["raw"]),
                str(data["tx_hash"]),
                dict(data.get("details") or {}),
            )
        except (KeyError, TypeError, ValueError):
            raise InvalidInputError(
                "a signed transaction needs 'chain', 'chain_network', 'raw' and 'tx_hash'"
            ) from None


ReceiptStatus = Literal["confirmed", "broadcast", "failed"]


@dataclass(frozen=True)
class Receipt:
    """The outcome of a broadcast: ``confirmed`` (included and succeeded), ``broadcast``
    (accepted, not yet seen in a block within the wait) or ``failed`` (included, reverted)."""

    chain: str
    chain_network: str
    tx_hash: str
    status: ReceiptStatus
    details: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True)
class Balance:
    """An account's balance in integer base units."""

    chain: str
    chain_network: str
    address: str
    amount: int
    decimals: int
    symbol: str
    token: str | None = None

    @property
    def formatted(self) -> str:
        """The amount as a decimal string of the main unit."""
        return format_base_units(self.amount, self.decimals)

    def to_json(self) -> dict[str, Any]:
        return {
            "chain": self.chain,
            "chain_network": self.chain_network,
            "address": self.address,
            "token": self.token,
            "symbol": self.symbol,
            "decimals": self.decimals,
            "amount": self.formatted,
            "base_units": str(self.amount),
        }
