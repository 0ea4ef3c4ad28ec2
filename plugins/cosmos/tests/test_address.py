"""Cosmos addresses: known answers, agreement with cosmpy, and refusal of bad input."""

from __future__ import annotations

import coincurve
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainsig_core import Curve, InvalidAddressError, InvalidKeyError, PublicKey, UnknownNameError
from chainsig_cosmos.address import account_id, decode_address, encode_address

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def key_of_secret(secret: int) -> PublicKey:
    return PublicKey(Curve.SECP256K1, coincurve.PrivateKey(secret.to_bytes(32, "big")).public_key.format(False)[1:])


def test_known_answer_key_one(cosmos_chain) -> None:  # type: ignore[no-untyped-def]
    # hash160(1·G) = 751e76e8…3bd6, the witness program of BIP-173's first P2WPKH vector
    # (bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4): same 5-bit data part, another prefix.
    key = key_of_secret(1)
    assert account_id(key).hex() == "751e76e8199196d454941c45d1b3a323f1433bd6"
    address = cosmos_chain.address(key, "mainnet")
    assert address == "cosmos1w508d6qejxtdg4y5r3zarvary0c5xw7k6ah60c"
    assert address[len("cosmos1"):-6] == "w508d6qejxtdg4y5r3zarvary0c5xw7k"


def test_dev_derived_address_is_stable(cosmos_chain, chainsig_derived_account) -> None:  # type: ignore[no-untyped-def]
    sender = chainsig_derived_account("alice.near", "x", 0)
    assert cosmos_chain.address(sender.public_key, "local") == "cosmos1m05euq6cf3rhdsdmcgynwspvrhdwhxu4q5m539"


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=SECP256K1_N - 1))
def test_agrees_with_cosmpy(secret: int) -> None:
    from cosmpy.crypto.address import Address
    from cosmpy.crypto.keypairs import PublicKey as CosmpyKey

    key = key_of_secret(secret)
    expected = str(Address(CosmpyKey(key.compressed), prefix="cosmos"))
    assert encode_address("cosmos", account_id(key)) == expected
    assert decode_address(expected, "cosmos") == account_id(key)


def test_32_byte_module_accounts_accepted() -> None:
    address = encode_address("cosmos", bytes(range(32)))
    assert decode_address(address, "cosmos") == bytes(range(32))


@pytest.mark.parametrize("bad", [
    encode_address("cosmos", bytes(19)), encode_address("cosmos", bytes(21)),  # wrong lengths
    encode_address("cosmosvaloper", bytes(20)),  # a validator operator address
    "cosmos1" + "q" * 200, "cosmos1", "1" * 40, 42,
])
def test_bad_addresses(bad: object) -> None:
    with pytest.raises(InvalidAddressError):
        decode_address(bad, "cosmos")  # type: ignore[arg-type]


def test_upper_case_address_is_canonicalised(cosmos_chain) -> None:  # type: ignore[no-untyped-def]
    address = "cosmos1w508d6qejxtdg4y5r3zarvary0c5xw7k6ah60c"
    assert cosmos_chain.validate_address(address.upper(), "mainnet") == address
    assert cosmos_chain.validate_address(f"  {address} ", "mainnet") == address


def test_ed25519_key_refused(cosmos_chain, chainsig_derived_account) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidKeyError):
        cosmos_chain.address(chainsig_derived_account("alice.near", "x", 1).public_key, "mainnet")


def test_unknown_chain_network_refused(cosmos_chain) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnknownNameError, match="unknown chain network"):
        cosmos_chain.address(key_of_secret(5), "osmosis-1")


def test_importing_the_plugin_is_cheap() -> None:
    """``chainsig derive`` imports every plugin: cosmpy, protobuf and requests wait until needed."""
    import subprocess
    import sys

    code = ("import sys, chainsig_cosmos; "
            "print([m for m in ('cosmpy', 'google.protobuf', 'requests', 'ecdsa') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["cosmos", "osmo", "celestia", "a", "cosmosvaloper"]), st.binary(min_size=0, max_size=40))
def test_fast_encoder_matches_the_reference_bech32(prefix: str, data: bytes) -> None:
    import bech32

    assert encode_address(prefix, data) == bech32.bech32_encode(prefix, bech32.convertbits(data, 8, 5, True))
