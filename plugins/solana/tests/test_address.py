"""Addresses: base58 of the derived ed25519 key, as in tests/vectors/derivation.json."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainsig_core import InvalidAddressError, InvalidKeyError, PublicKey, UnknownNameError, derive_address
from chainsig_core.config import load_config

from chainsig_solana import SolanaChain
from chainsig_solana.addresses import canonical_address, decode_address, encode_address


def test_addresses_match_the_vectors(vectors: Any, chain: SolanaChain) -> None:
    rows = [r for r in vectors("derivation.json")["derived"] if "solana_address" in r]
    assert rows
    for row in rows:
        derived = derive_address(chain=chain, account=row["account"], path=row["path"], network=row["network"])
        assert derived.public_key.to_near_string() == row["ed25519_public_key"]
        assert derived.address == row["solana_address"]
        assert derived.chain_network == ("mainnet-beta" if row["network"] == "mainnet" else "devnet")


def test_address_is_the_key_on_every_network(chain: SolanaChain) -> None:
    key = PublicKey.from_near_string("ed25519:GLLMegupbxhukwpfExph4xU2yRRyJJeeHf7kGkEE32mE")
    assert {chain.address(key, n) for n in chain.chain_networks} == {"GLLMegupbxhukwpfExph4xU2yRRyJJeeHf7kGkEE32mE"}


def test_secp256k1_key_is_refused(chain: SolanaChain) -> None:
    key = PublicKey.from_near_string(load_config().network("mainnet").root_public_keys[0].to_near_string())
    with pytest.raises(InvalidKeyError):
        chain.address(key, "devnet")


def test_unknown_network_and_address_type(chain: SolanaChain) -> None:
    key = PublicKey.from_near_string("ed25519:GLLMegupbxhukwpfExph4xU2yRRyJJeeHf7kGkEE32mE")
    with pytest.raises(UnknownNameError):
        chain.address(key, "mainnet")
    with pytest.raises(UnknownNameError):
        chain.address(key, "devnet", address_type="p2pkh")


def test_defaults_follow_the_near_network(chain: SolanaChain) -> None:
    assert chain.default_chain_network("mainnet") == "mainnet-beta"
    assert chain.default_chain_network("testnet") == "devnet"
    assert chain.default_chain_network("local") == "local"
    assert (chain.symbol, chain.decimals, chain.base_unit, chain.domain_id) == ("SOL", 9, "lamports", 1)


def test_custom_chain_networks_from_config() -> None:
    chain = SolanaChain.from_config({"chains": {"solana": {"my-rpc": {"rpc_url": "http://10.0.0.1:8899"}, "bad": 3}}})
    assert chain.chain_networks == ("mainnet-beta", "devnet", "testnet", "local", "my-rpc")
    assert chain.check_chain_network("my-rpc") == "my-rpc"


@pytest.mark.parametrize(
    "bad",
    ["", "   ", "0OIl" * 8, "abc", "1" * 45, "GLLMegupbxhukwpfExph4xU2yRRyJJeeHf7kGkEE32mEx", "é" * 32, None, 12],
)
def test_bad_addresses(chain: SolanaChain, bad: Any) -> None:
    with pytest.raises(InvalidAddressError):
        chain.validate_address(bad, "devnet")


def test_validate_address_canonicalises(chain: SolanaChain) -> None:
    assert chain.validate_address("  11111111111111111111111111111111 ", "local") == "11111111111111111111111111111111"


@given(st.binary(min_size=32, max_size=32))
def test_base58_round_trip_agrees_with_solders(raw: bytes) -> None:
    from solders.pubkey import Pubkey

    text = encode_address(raw)
    assert text == str(Pubkey(raw))
    assert decode_address(text) == raw
    assert canonical_address(text) == text


def test_importing_the_plugin_does_not_import_solana() -> None:
    code = (
        "import sys, chainsig_solana; from chainsig_core import derive_address;"
        "derive_address(chain=chainsig_solana.SolanaChain(), account='a.near', path='p', network='mainnet');"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('solana', 'solders', 'spl', 'aiohttp', 'httpx2')];"
        "print(heavy); assert not heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=60)
