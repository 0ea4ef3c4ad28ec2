"""EVM addresses: NEAR-derived vectors, EIP-55 (against eth-utils), and user-input checks."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainsig_core import InvalidAddressError, InvalidKeyError, PublicKey, UnknownNameError, derive_address
from chainsig_core.keys import Curve
from chainsig_evm import address_from_public_key, keccak256, parse_address, to_checksum_address


def test_keccak_known_answers() -> None:
    # Keccak-256, not NIST SHA3-256 (which gives a7ffc6f8…).
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert keccak256(b"transfer(address,uint256)")[:4].hex() == "a9059cbb"


def test_derivation_vectors(vectors) -> None:
    rows = vectors("derivation.json")["derived"]
    assert rows
    for row in rows:
        key = PublicKey.from_bytes(Curve.SECP256K1, bytes.fromhex(row["secp256k1_uncompressed"]))
        assert address_from_public_key(key) == row["evm_address"]
        for chain in ("ethereum", "base"):
            derived = derive_address(chain=chain, account=row["account"], path=row["path"], network=row["network"])
            assert derived.address == row["evm_address"]
            assert derived.public_key == key


@pytest.mark.parametrize(
    "address",
    [
        # EIP-55's own examples
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        "0x52908400098527886E0F7030069857D2E4169EE7",
        "0xde709f2102306220921060314715629080e2fb77",
    ],
)
def test_eip55_examples(address: str) -> None:
    assert to_checksum_address(address.lower()) == address
    assert parse_address(address) == address


@given(st.binary(min_size=20, max_size=20))
def test_eip55_matches_eth_utils(raw: bytes) -> None:
    from eth_utils import to_checksum_address as reference

    assert to_checksum_address(raw) == reference(raw)
    assert parse_address("0x" + raw.hex()) == reference(raw)
    assert parse_address("0x" + raw.hex().upper()) == reference(raw)


def test_bad_checksum_is_refused() -> None:
    good = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    bad = good.replace("aAeb", "AAeb")  # one letter's case changed
    with pytest.raises(InvalidAddressError, match="checksum"):
        parse_address(bad)


@pytest.mark.parametrize(
    "text",
    ["", "0x", "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe",
     "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAedd", "0xZZAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
     "bc1q9nf8pqc4hzex0c5677gy6lsncpfzl5f8mpcalh", "example.near"],
)
def test_malformed_addresses(text: str) -> None:
    with pytest.raises(InvalidAddressError) as info:
        parse_address(text)
    assert "\n" not in str(info.value)


def test_non_string_address() -> None:
    with pytest.raises(InvalidAddressError):
        parse_address(1234)


def test_ed25519_key_refused() -> None:
    key = PublicKey(Curve.ED25519, bytes(range(32)))
    with pytest.raises(InvalidKeyError):
        address_from_public_key(key)


def test_chain_address_checks_network_and_type(chainsig_config) -> None:
    from chainsig_core.plugins import get_chain

    chain = get_chain("base")
    key = derive_address(chain="base", account="a.near", path="p", network="dev").public_key
    with pytest.raises(UnknownNameError):
        chain.address(key, "goerli")
    with pytest.raises(UnknownNameError):
        chain.address(key, "mainnet", address_type="p2pkh")
    assert chain.address(key, "mainnet") == chain.address(key, "sepolia") == chain.address(key, "local")


def test_derive_imports_neither_web3_nor_eth_account(tmp_path) -> None:
    code = (
        "import sys\n"
        "from chainsig_core import derive_address\n"
        "print(derive_address(chain='ethereum', account='example.near', path='ethereum-1').address)\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('web3', 'eth_account', 'eth_abi', 'requests'))\n"
        "print(heavy)\n"
    )
    env = {"CHAINSIG_CONFIG": str(tmp_path / "none.toml"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout.split("\n")
    assert out[0] == "0xEF4Ea05e5c11057DeCC8E1bd6F5369f2acD91fA5"
    assert out[1] == "[]"
