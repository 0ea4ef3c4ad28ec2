"""``ChainConformanceTests``: the standard checks every chain plugin must pass.

A chain plugin gets the whole suite by subclassing it in its own tests::

    from chainsig_core.testing import ChainConformanceTests

    class TestMyChainConformance(ChainConformanceTests):
        chain_name = "mychain"
        recipients = {"local": "my1qqqq…", "testnet": "my1pppp…"}
        amount = "0.001"

Contract for subclasses (everything else has a default):

``chain_name`` (required)
    The name the plugin registers its :class:`~chainsig_core.Chain` under.
``recipients`` (required)
    ``{chain_network: valid recipient address}``. Spending checks run once per entry, so list
    the chain networks that can be prepared without a remote node (or give them an endpoint).
``amount``
    A small amount as a decimal string of the main unit (default ``"0.001"``).
``prepare_options``
    ``{chain_network: {option_dest: value}}``: what makes ``prepare`` work offline — a fixed
    ``nonce``, ``blockhash``, ``utxos`` … exactly as ``request.options`` carries them.
``bad_addresses``
    ``{chain_network: (address, …)}``: chain-specific addresses that ``validate_address`` and
    ``prepare`` must refuse on that network (bad checksum, another network's prefix …), in
    addition to the generic garbage every network must refuse.
``account``, ``path``
    The NEAR account and derivation path of the sender (dev network).

Fixtures a subclass may override (define a fixture of the same name in the class):

``conformance_chain``
    The :class:`Chain` under test; default: ``get_chain(chain_name)`` from the installed
    plugins (``CHAINSIG_CONFIG`` isolated by the ``chainsig_config`` fixture).
``conformance_endpoint``
    The :class:`ChainEndpoint` for ``conformance_chain_network``; default offline
    (``ChainEndpoint()``). Return a local node's URL (anvil, a recording server …) here.
``conformance_options``
    The ``request.options`` for a chain network; default ``prepare_options[chain_network]``.
    Depends on ``conformance_sender`` so that e.g. UTXOs can be built for the sender.

Signatures come from the ``dev`` signer with the documented default root (fixture
``chainsig_dev_signer``), so the checks need neither NEAR nor an MPC network.

Signer domains: a sender may be derived in a domain the contract added (``vote_add_domains``:
2, 3 …) rather than the chain's default 0 or 1. ``prepare`` must put every payload in the
sender's domain (``request.sender.domain_id``, never the class's ``domain_id``) and
``finalize`` must accept such a bundle; ``test_payloads_follow_the_senders_domain`` checks it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import pytest

from ..chain import Chain, ChainOption
from ..derive import derive_address
from ..errors import (
    ChainsigError,
    InvalidAddressError,
    InvalidAmountError,
    InvalidKeyError,
    SignatureVerificationError,
    UnknownNameError,
)
from ..flow import sign_prepared
from ..keys import SECP256K1_N, Curve, PublicKey
from ..plugins import get_chain
from ..signatures import EcdsaSignature, Ed25519Signature, Signature
from ..signers import DevSigner, SignRequest
from ..types import ChainEndpoint, DerivedAccount, Prepared, SignedTx, TransferRequest

_CHAIN_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
_GARBAGE_ADDRESSES = ("", "   ", "not an address", "0", "\x00\x01", "🙂" * 20)
_PATHS = ("chainsig/conformance", "", "ethereum-1", "a/much/longer/path/with/many/parts/0")
_ADDED_DOMAIN = {Curve.SECP256K1: 2, Curve.ED25519: 3}
"""A domain ``vote_add_domains`` could have added, per curve (as on the fake NEAR contract)."""


def _expect(error: type[ChainsigError], action: Callable[[], object], what: str) -> ChainsigError:
    """Run ``action``; it must raise ``error`` with a one-line message."""
    try:
        result = action()
    except error as exc:
        message = str(exc)
        assert message.strip(), f"{what}: {type(exc).__name__} has an empty message"
        assert "\n" not in message, f"{what}: error message is not one line: {message!r}"
        return exc
    except Exception as exc:  # noqa: BLE001 - the point is to name the wrong type
        raise AssertionError(
            f"{what}: expected {error.__name__}, got {type(exc).__name__}: {exc}"
        ) from exc
    raise AssertionError(f"{what}: expected {error.__name__}, but it returned {result!r}")


class ChainConformanceTests:
    """Base class of a chain plugin's conformance tests (see the module docstring)."""

    chain_name: ClassVar[str]
    recipients: ClassVar[Mapping[str, str]] = {}
    amount: ClassVar[str] = "0.001"
    prepare_options: ClassVar[Mapping[str, Mapping[str, Any]]] = {}
    bad_addresses: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    account: ClassVar[str] = "conformance.testnet"
    path: ClassVar[str] = "chainsig/conformance"

    # -- parametrisation and fixtures ---------------------------------------------------------

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "conformance_chain_network" in metafunc.fixturenames:
            if not self.recipients:
                raise pytest.UsageError(
                    f"{type(self).__name__}: set 'recipients' to {{chain_network: address}}"
                )
            networks = list(self.recipients)
            metafunc.parametrize("conformance_chain_network", networks, ids=networks)

    @pytest.fixture
    def conformance_chain(self, chainsig_config: Any) -> Chain:
        if not getattr(self, "chain_name", None):
            raise pytest.UsageError(f"{type(self).__name__}: set 'chain_name'")
        return get_chain(self.chain_name)

    @pytest.fixture
    def conformance_signer(self, chainsig_dev_signer: DevSigner) -> DevSigner:
        return chainsig_dev_signer

    @pytest.fixture
    def conformance_sender(self, conformance_chain: Chain, conformance_signer: DevSigner) -> DerivedAccount:
        key = conformance_signer.derived_public_key(self.account, self.path, conformance_chain.domain_id)
        return DerivedAccount("dev", self.account, self.path, key)

    @pytest.fixture
    def conformance_endpoint(self, conformance_chain_network: str) -> ChainEndpoint:
        return ChainEndpoint()

    @pytest.fixture
    def conformance_options(
        self, conformance_chain_network: str, conformance_sender: DerivedAccount
    ) -> Mapping[str, Any]:
        return dict(self.prepare_options.get(conformance_chain_network, {}))

    @pytest.fixture
    def conformance_prepare(
        self,
        conformance_chain: Chain,
        conformance_chain_network: str,
        conformance_sender: DerivedAccount,
        conformance_endpoint: ChainEndpoint,
        conformance_options: Mapping[str, Any],
    ) -> Callable[..., Prepared]:
        """``prepare(to=recipient, amount=amount, sender=conformance_sender)`` for the network
        under test."""
        chain = conformance_chain

        def prepare(*, to: str | None = None, amount: object = None, sender: DerivedAccount | None = None) -> Prepared:
            request = TransferRequest(
                sender=conformance_sender if sender is None else sender,
                to=self.recipients[conformance_chain_network] if to is None else to,
                amount=self.amount if amount is None else amount,  # type: ignore[arg-type]
                address_type=chain.check_address_type(None),
                options=dict(conformance_options),
            )
            return chain.prepare(request, conformance_chain_network, conformance_endpoint)

        return prepare

    @pytest.fixture
    def conformance_prepared(self, conformance_prepare: Callable[..., Prepared]) -> Prepared:
        return conformance_prepare()

    # -- chain metadata -----------------------------------------------------------------------

    def test_declares_metadata(self, conformance_chain: Chain) -> None:
        chain = conformance_chain
        assert isinstance(chain, Chain)
        assert _CHAIN_NAME.fullmatch(chain.name), f"bad chain name {chain.name!r}"
        assert chain.domain_id in (0, 1)
        assert chain.chain_networks and all(isinstance(n, str) for n in chain.chain_networks)
        for family in ("mainnet", "testnet", "local"):
            assert chain.default_chain_network(family) in chain.chain_networks
        assert isinstance(chain.decimals, int) and chain.decimals >= 0
        assert chain.symbol
        flags = [option.flag for option in chain.cli_options()]
        assert all(isinstance(o, ChainOption) for o in chain.cli_options())
        assert len(flags) == len(set(flags)), f"duplicate chain options {flags}"
        for network in self.recipients:
            assert network in chain.chain_networks, f"recipients names unknown network {network!r}"

    def test_registered_under_its_name(self, conformance_chain: Chain) -> None:
        assert isinstance(get_chain(conformance_chain.name), type(conformance_chain))

    # -- addresses ----------------------------------------------------------------------------

    def _keys(self, chain: Chain, signer: DevSigner) -> list[PublicKey]:
        return [signer.derived_public_key(self.account, p, chain.domain_id) for p in _PATHS]

    def test_address_round_trip(self, conformance_chain: Chain, conformance_signer: DevSigner) -> None:
        """For every chain network, address type and a few paths: the address is a string,
        stable, accepted (unchanged) by ``validate_address`` and what core's derive returns."""
        chain = conformance_chain
        for network in chain.chain_networks:
            for address_type in chain.address_types or (None,):
                for path, key in zip(_PATHS, self._keys(chain, conformance_signer), strict=True):
                    address = chain.address(key, network, address_type=address_type)
                    assert isinstance(address, str) and address
                    assert chain.address(key, network, address_type=address_type) == address
                    assert chain.validate_address(address, network) == address
                    derived = derive_address(
                        chain=chain, account=self.account, path=path, network="dev",
                        chain_network=network, address_type=address_type,
                    )
                    assert derived.address == address
                    json.dumps(derived.to_json())

    def test_distinct_keys_give_distinct_addresses(
        self, conformance_chain: Chain, conformance_signer: DevSigner
    ) -> None:
        chain = conformance_chain
        for network in chain.chain_networks:
            addresses = {chain.address(k, network) for k in self._keys(chain, conformance_signer)}
            assert len(addresses) == len(_PATHS)

    def test_address_refuses_key_of_other_curve(
        self, conformance_chain: Chain, conformance_signer: DevSigner
    ) -> None:
        chain = conformance_chain
        other = conformance_signer.derived_public_key(self.account, self.path, 1 - chain.domain_id)
        network = chain.chain_networks[0]
        _expect(InvalidKeyError, lambda: chain.address(other, network), "address() of a wrong-curve key")

    def test_address_refuses_unknown_chain_network(
        self, conformance_chain: Chain, conformance_signer: DevSigner
    ) -> None:
        chain = conformance_chain
        key = self._keys(chain, conformance_signer)[0]
        _expect(UnknownNameError, lambda: chain.address(key, "no-such-network"), "address() on an unknown network")

    def test_validate_address_refuses_garbage(self, conformance_chain: Chain) -> None:
        chain = conformance_chain
        for network in chain.chain_networks:
            for bad in (*_GARBAGE_ADDRESSES, *self.bad_addresses.get(network, ())):
                _expect(InvalidAddressError, lambda: chain.validate_address(bad, network),
                        f"validate_address({bad!r}, {network!r})")

    # -- prepare → sign → finalize ----------------------------------------------------------

    def test_prepare_sign_finalize_verifies(
        self,
        conformance_chain: Chain,
        conformance_chain_network: str,
        conformance_sender: DerivedAccount,
        conformance_signer: DevSigner,
        conformance_prepared: Prepared,
    ) -> None:
        chain, prepared = conformance_chain, conformance_prepared
        assert prepared.chain == chain.name
        assert prepared.chain_network == conformance_chain_network
        assert prepared.sender == conformance_sender
        assert prepared.from_address == chain.address(
            conformance_sender.public_key, conformance_chain_network,
            address_type=chain.check_address_type(None),
        )
        assert prepared.payloads, "prepare returned no payloads"
        for payload in prepared.payloads:
            assert payload.domain_id == chain.domain_id
            assert isinstance(payload.data, bytes) and payload.data
            if chain.domain_id == 0:
                assert len(payload.data) == 32, "an ECDSA payload is a 32-byte hash"
        signed = chain.finalize(prepared, sign_prepared(conformance_signer, prepared))
        assert isinstance(signed, SignedTx)
        assert signed.chain == chain.name and signed.chain_network == conformance_chain_network
        assert isinstance(signed.raw, str) and signed.raw
        assert isinstance(signed.tx_hash, str) and signed.tx_hash

    def test_payloads_follow_the_senders_domain(
        self,
        conformance_chain: Chain,
        conformance_sender: DerivedAccount,
        conformance_signer: DevSigner,
        conformance_prepare: Callable[..., Prepared],
    ) -> None:
        """A sender derived in an added domain gets every payload in that domain, through the
        bundle's JSON too, and the bundle finalizes.

        The dev network has domains 0 and 1 only, so the "added" domain (2 for secp256k1
        chains, 3 for ed25519 ones) reuses the default domain's key: the chain cannot tell —
        only the domain id on the payloads shows whether it followed the sender.
        """
        chain, default = conformance_chain, conformance_sender
        added = DerivedAccount(default.network, default.account_id, default.path, default.public_key,
                               _ADDED_DOMAIN[default.public_key.curve])
        prepared = conformance_prepare(sender=added)
        assert prepared.sender == added and prepared.sender.domain_id == added.domain_id
        assert prepared.payloads, "prepare returned no payloads"
        for payload in prepared.payloads:
            assert payload.domain_id == added.domain_id, (
                f"a sender in domain {added.domain_id} got a payload for domain {payload.domain_id}: "
                "build payloads with request.sender.domain_id, not the chain's domain_id"
            )
        reread = Prepared.from_json(json.loads(json.dumps(prepared.to_json())))
        assert reread.sender == added
        assert [p.domain_id for p in reread.payloads] == [added.domain_id] * len(prepared.payloads)
        # the same key signs in the chain's default domain on the dev network
        signatures = [
            conformance_signer.sign(SignRequest(added.account_id, added.path, chain.domain_id, p.data)).signature
            for p in prepared.payloads
        ]
        direct = chain.finalize(prepared, signatures)
        assert chain.finalize(reread, signatures).raw == direct.raw

    def test_bundle_round_trip_finalizes_identically(
        self, conformance_chain: Chain, conformance_signer: DevSigner, conformance_prepared: Prepared
    ) -> None:
        """The air-gapped path: prepare → JSON file → another machine signs and finalizes."""
        chain, prepared = conformance_chain, conformance_prepared
        reread = Prepared.from_json(json.loads(json.dumps(prepared.to_json())))
        direct = chain.finalize(prepared, sign_prepared(conformance_signer, prepared))
        via_json = chain.finalize(reread, sign_prepared(conformance_signer, reread))
        assert via_json.raw == direct.raw
        assert via_json.tx_hash == direct.tx_hash

    def test_tampered_signature_refused(
        self, conformance_chain: Chain, conformance_signer: DevSigner, conformance_prepared: Prepared
    ) -> None:
        chain, prepared = conformance_chain, conformance_prepared
        good = sign_prepared(conformance_signer, prepared)
        for label, tampered in self._tamperings(prepared, good, conformance_signer):
            _expect(SignatureVerificationError, lambda: chain.finalize(prepared, tampered),
                    f"finalize with {label}")

    def _tamperings(
        self, prepared: Prepared, good: list[Signature], signer: DevSigner
    ) -> list[tuple[str, list[Signature]]]:
        sender, first = prepared.sender, prepared.payloads[0]
        other_payload = bytes(b ^ 0xFF for b in first.data)
        if first.domain_id == 0 and int.from_bytes(other_payload, "big") >= SECP256K1_N:
            other_payload = bytes(32 - 1) + b"\x01"
        wrong_message = signer.sign(SignRequest(sender.account_id, sender.path, first.domain_id, other_payload))
        wrong_key = signer.sign(SignRequest(sender.account_id, sender.path + "/other", first.domain_id, first.data))
        out = [
            ("a signature over another payload", [wrong_message.signature, *good[1:]]),
            ("a signature by another derived key", [wrong_key.signature, *good[1:]]),
        ]
        sig = good[0]
        if isinstance(sig, EcdsaSignature):
            # The same (r, s) mirrored to high s and a modified s.
            out.append(("a high-s signature", [EcdsaSignature(sig.big_r, SECP256K1_N - sig.s, sig.recovery_id ^ 1), *good[1:]]))
            nudged = sig.s - 1 if sig.s > 1 else sig.s + 1
            out.append(("a modified s", [EcdsaSignature(sig.big_r, nudged, sig.recovery_id), *good[1:]]))
        elif isinstance(sig, Ed25519Signature):
            flipped = bytearray(sig.signature)
            flipped[40] ^= 0x01
            out.append(("a bit-flipped signature", [Ed25519Signature(bytes(flipped)), *good[1:]]))
        if len(good) > 1:
            out.append(("signatures in the wrong order", [*good[1:], good[0]]))
        return out

    # -- bad input ---------------------------------------------------------------------------

    def test_bad_recipient_refused(
        self, conformance_chain_network: str, conformance_prepare: Callable[..., Prepared]
    ) -> None:
        for bad in (*_GARBAGE_ADDRESSES, *self.bad_addresses.get(conformance_chain_network, ())):
            _expect(InvalidAddressError, lambda: conformance_prepare(to=bad), f"prepare(to={bad!r})")

    def test_bad_amount_refused(
        self, conformance_chain: Chain, conformance_prepare: Callable[..., Prepared]
    ) -> None:
        too_precise = "0." + "0" * conformance_chain.decimals + "1"
        for bad in ("-1", -1, 0.1, 1.0, too_precise, "abc", "1e3", ""):
            _expect(InvalidAmountError, lambda: conformance_prepare(amount=bad), f"prepare(amount={bad!r})")

    # -- JSON --------------------------------------------------------------------------------

    def test_json_output_serialisable(
        self,
        conformance_chain: Chain,
        conformance_chain_network: str,
        conformance_signer: DevSigner,
        conformance_prepared: Prepared,
    ) -> None:
        prepared = conformance_prepared
        bundle = json.loads(json.dumps(prepared.to_json()))
        assert bundle == prepared.to_json()
        assert Prepared.from_json(bundle).to_json() == bundle
        assert prepared.summary.get("to") == conformance_chain.validate_address(
            self.recipients[conformance_chain_network], conformance_chain_network
        )
        assert isinstance(prepared.summary.get("amount"), str)
        signed = conformance_chain.finalize(prepared, sign_prepared(conformance_signer, prepared))
        out = json.loads(json.dumps(signed.to_json()))
        assert SignedTx.from_json(out) == SignedTx(
            signed.chain, signed.chain_network, signed.raw, signed.tx_hash, dict(signed.details)
        )


__all__ = ["ChainConformanceTests"]
