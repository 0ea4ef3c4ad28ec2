"""Addresses: known answers from tests/vectors/derivation.json, recipients, properties."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainsig_core.errors import InvalidAddressError, InvalidKeyError, UnknownNameError
from chainsig_core.keys import Curve, PublicKey
from chainsig_core.signers.dev import public_key_of_secret
from chainsig_core.keys import SECP256K1_N

from chainsig_bitcoin.addresses import decode_address, key_address, output_kind, script_pubkey


def _rows(vectors: Any) -> list[dict[str, Any]]:
    return [r for r in vectors("derivation.json")["derived"] if "btc_p2wpkh" in r]


def test_derivation_vectors_mainnet_and_testnet(btc: Any, vectors: Any) -> None:
    rows = _rows(vectors)
    assert {r["network"] for r in rows} == {"mainnet", "testnet"}
    for row in rows:
        key = PublicKey.from_near_string(row["secp256k1_near"])
        net = "mainnet" if row["network"] == "mainnet" else "testnet"
        assert btc.address(key, net) == row["btc_p2wpkh"]
        assert btc.address(key, net, address_type="p2wpkh") == row["btc_p2wpkh"]
        assert btc.address(key, net, address_type="p2pkh") == row["btc_p2pkh"]


def test_derive_matches_vectors_end_to_end(vectors: Any) -> None:
    from chainsig_core.derive import derive_address

    for row in _rows(vectors):
        for kind in ("p2wpkh", "p2pkh"):
            got = derive_address(chain="bitcoin", account=row["account"], path=row["path"],
                                 network=row["network"], address_type=kind)
            assert got.address == row[f"btc_{kind}"]
            assert got.chain_network == ("mainnet" if row["network"] == "mainnet" else "testnet")


def test_networks_share_or_differ_prefixes(btc: Any, vectors: Any) -> None:
    key = PublicKey.from_near_string(_rows(vectors)[0]["secp256k1_near"])
    assert btc.address(key, "regtest").startswith("bcrt1q")
    assert btc.address(key, "signet") == btc.address(key, "testnet4") == btc.address(key, "testnet")
    assert btc.address(key, "regtest", address_type="p2pkh") == btc.address(key, "testnet", address_type="p2pkh")


def test_address_refuses_bad_names_and_keys(btc: Any, vectors: Any) -> None:
    key = PublicKey.from_near_string(_rows(vectors)[0]["secp256k1_near"])
    with pytest.raises(UnknownNameError):
        btc.address(key, "mainnet", address_type="p2tr")
    with pytest.raises(UnknownNameError):
        btc.address(key, "litecoin")
    ed = PublicKey.from_near_string("ed25519:6vSEtQxrQj6txUMh33WC4ERyCWmNMRTdufDWAaDY3Un2")
    with pytest.raises(InvalidKeyError):
        btc.address(ed, "mainnet")


# BIP173 / BIP350 test addresses.
VALID = {
    "mainnet": [
        ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "0014751e76e8199196d454941c45d1b3a323f1433bd6"),
        ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"),
        ("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "76a91477bff20c60e522dfaa3350c39b030a5d004e839a88ac"),
        ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "a914b472a266d0bd89c13706a4132ccfb16f7c3b9fcb87"),
    ],
    "testnet": [
        ("tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262"),
    ],
}


@pytest.mark.parametrize("network,address,spk", [(n, a, s) for n, rows in VALID.items() for a, s in rows])
def test_decode_valid_recipients(btc: Any, network: str, address: str, spk: str) -> None:
    assert decode_address(address, network).hex() == spk
    assert btc.validate_address(address, network) == (address.lower() if address[:3].lower() in ("bc1", "tb1") else address)


@pytest.mark.parametrize(
    "network,address,fragment",
    [
        ("mainnet", "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", "not bitcoin mainnet"),
        ("testnet", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "not bitcoin testnet"),
        ("regtest", "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", "not bitcoin regtest"),
        ("testnet", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "not bitcoin testnet"),
        ("mainnet", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", "checksum"),
        ("mainnet", "bc1QW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "mixes"),
        ("mainnet", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3", "not a bitcoin address"),
        ("mainnet", "", "non-empty"),
        ("mainnet", "x" * 100, "too long"),
    ],
)
def test_decode_refuses(btc: Any, network: str, address: str, fragment: str) -> None:
    with pytest.raises(InvalidAddressError) as err:
        btc.validate_address(address, network)
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_witness_v1_with_bech32_instead_of_bech32m_is_refused(btc: Any) -> None:
    from embit import bech32

    program = bytes.fromhex("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
    wrong = bech32.bech32_encode(bech32.Encoding.BECH32, "bc", [1] + bech32.convertbits(program, 8, 5))
    with pytest.raises(InvalidAddressError, match="checksum"):
        btc.validate_address(wrong, "mainnet")


@settings(max_examples=60, deadline=None)
@given(secret=st.integers(min_value=1, max_value=SECP256K1_N - 1),
       network=st.sampled_from(["mainnet", "testnet", "testnet4", "signet", "regtest"]),
       kind=st.sampled_from(["p2wpkh", "p2pkh"]))
def test_encode_decode_round_trip(secret: int, network: str, kind: str) -> None:
    key = public_key_of_secret(Curve.SECP256K1, secret).compressed
    address = key_address(key, network, kind)
    spk = decode_address(address, network)
    assert spk == script_pubkey(key, kind)
    assert output_kind(spk) == kind


@settings(max_examples=40, deadline=None)
@given(secret=st.integers(min_value=1, max_value=SECP256K1_N - 1))
def test_own_bech32_encoder_agrees_with_embit(secret: int) -> None:
    from embit import bech32

    key = public_key_of_secret(Curve.SECP256K1, secret).compressed
    for hrp in ("bc", "tb", "bcrt"):
        program = script_pubkey(key, "p2wpkh")[2:]
        assert key_address(key, {"bc": "mainnet", "tb": "testnet", "bcrt": "regtest"}[hrp], "p2wpkh") == bech32.encode(hrp, 0, program)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(
    st.text(max_size=95),
    st.builds(lambda p, t: p + t, st.sampled_from(["bc1", "tb1", "bcrt1", "BC1", "1", "3", "m", "2"]),
              st.text(alphabet="qpzry9x8gf2tvdw0s3jn54khce6mua7lQPZRY1bio0O", max_size=70)),
))
def test_decoding_any_text_is_an_address_or_one_clear_error(text: str) -> None:
    for network in ("mainnet", "testnet", "regtest"):
        try:
            spk = decode_address(text, network)
        except InvalidAddressError as exc:
            assert "\n" not in str(exc)
        else:
            assert output_kind(spk) != "other"
