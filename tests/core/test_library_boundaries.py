"""The library API answers wrong types with the project's errors (one ``ChainsigError`` family,
each also the matching builtin), never with a bare ``TypeError``/``AttributeError``."""

from __future__ import annotations

import pytest

from chainsig_core import ChainsigError, derive_address, derive_public_key, send
from chainsig_core.errors import InvalidAmountError, InvalidInputError, InvalidKeyError
from chainsig_core.flow import chain_endpoint
from chainsig_core.keys import Curve
from chainsig_core.signers.dev import dev_root_public_key
from chainsig_core.types import CallRequest, DerivedAccount, TransferRequest


@pytest.fixture
def sender() -> DerivedAccount:
    root = dev_root_public_key(Curve.SECP256K1)
    return DerivedAccount("dev", "a.near", "p", derive_public_key(root, "a.near", "p"))


@pytest.mark.parametrize("chain", [None, 5, b"fakechain"])
def test_derive_address_needs_a_chain_name_or_chain(fake_plugin, chain):
    with pytest.raises(InvalidInputError, match="chain must be a chain name or a Chain"):
        derive_address(chain=chain, account="a.near", path="p")


def test_derive_public_key_takes_the_root_as_its_near_string_too():
    root = dev_root_public_key(Curve.ED25519)
    assert derive_public_key(root.to_near_string(), "a.near", "p") == derive_public_key(root, "a.near", "p")
    with pytest.raises(InvalidKeyError, match="must be a PublicKey or a NEAR key string"):
        derive_public_key(5, "a.near", "p")  # type: ignore[arg-type]
    with pytest.raises(InvalidKeyError):
        derive_public_key("secp256k1:xyz", "a.near", "p")


def test_chain_endpoint_needs_a_chain():
    with pytest.raises(InvalidInputError, match="chain_endpoint needs a Chain"):
        chain_endpoint(None, "main")  # type: ignore[arg-type]


def test_send_options_must_be_a_mapping(fake_plugin):
    with pytest.raises(InvalidInputError, match="options must be a mapping"):
        send(chain="fakechain", account="a.near", path="p", to="x", amount="1", network="dev",
             options=[1])  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", [0.1, True, None, b"1"])
def test_a_transfer_of_an_inexact_amount_is_refused_when_built(sender, amount):
    with pytest.raises(InvalidAmountError, match="amounts must be exact"):
        TransferRequest(sender, "x", amount)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"sender": None}, "sender must be a DerivedAccount"),
    ({"to": None}, "recipient must be an address string"),
    ({"options": [1]}, "options must be a mapping"),
])
def test_requests_check_their_fields(sender, kwargs, message):
    fields = {"sender": sender, "to": "x", **kwargs}
    with pytest.raises(InvalidInputError, match=message):
        TransferRequest(amount="1", **fields)
    with pytest.raises(InvalidInputError, match=message):
        CallRequest(**fields)


def test_exact_amounts_of_every_accepted_type_still_build(sender):
    from decimal import Decimal

    for amount in ("0.01", 10, Decimal("0.01")):
        assert TransferRequest(sender, "x", amount).amount == amount
    assert CallRequest(sender, "x", data=bytearray(b"\x01"), value=Decimal("1")).value == Decimal("1")


def test_call_request_data_and_value(sender):
    with pytest.raises(InvalidInputError, match="call data must be bytes"):
        CallRequest(sender, "x", data="00")  # type: ignore[arg-type]
    with pytest.raises(InvalidAmountError):
        CallRequest(sender, "x", value=1.5)  # type: ignore[arg-type]
    assert isinstance(InvalidAmountError("x"), ChainsigError)
