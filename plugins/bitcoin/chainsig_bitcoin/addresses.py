"""Bitcoin addresses: encoding the derived key (P2WPKH, P2PKH) and decoding recipients.

Encoding runs for every ``chainsig derive``, so it uses only ``hashlib``, the ``base58`` package
core already depends on, and BIP173's reference checksum below. embit's ``bech32`` module would
do the same, but importing it loads embit's ctypes secp256k1 binding (~50 ms), which the derive
benchmark cannot afford; decoding recipients (a spend, not a derive) uses embit.
"""

from __future__ import annotations

import hashlib

import base58

from chainsig_core.errors import InvalidAddressError, InvalidKeyError, UnknownNameError

from .networks import NETWORKS, BitcoinNetwork, get_network

ADDRESS_TYPES = ("p2wpkh", "p2pkh")

# -- hashing -----------------------------------------------------------------------------------


def _ripemd160(data: bytes) -> bytes:
    try:
        return hashlib.new("ripemd160", data).digest()
    except ValueError:  # OpenSSL 3 without the legacy provider
        from embit.util.py_ripemd160 import ripemd160

        return ripemd160(data)


def hash160(data: bytes) -> bytes:
    """RIPEMD-160(SHA-256(data))."""
    return _ripemd160(hashlib.sha256(data).digest())


# -- BIP173 (bech32, witness v0 only) ----------------------------------------------------------
# The reference implementation's checksum (BIP173, by Pieter Wuille), encode side only; see the
# module docstring for why it is not imported from embit here.

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
# The reference loop XORs GEN[i] for each set bit i of the top five bits; precomputing that XOR
# for all 32 values of the top bits gives the same checksum about ten times faster.
def _top_table() -> tuple[int, ...]:
    table = []
    for top in range(32):
        acc = 0
        for i in range(5):
            if (top >> i) & 1:
                acc ^= _GEN[i]
        table.append(acc)
    return tuple(table)


_TOP = _top_table()


def _polymod(values: list[int]) -> int:
    chk = 1
    for value in values:
        chk = ((chk & 0x1FFFFFF) << 5) ^ value ^ _TOP[chk >> 25]
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]


def _to_5bit(data: bytes) -> list[int]:
    acc, bits, out = 0, 0, []
    for byte in data:
        acc = (acc << 8) | byte
        bits += 8
        while bits >= 5:
            bits -= 5
            out.append((acc >> bits) & 31)
    if bits:
        out.append((acc << (5 - bits)) & 31)
    return out


def segwit_v0_address(hrp: str, program: bytes) -> str:
    """The bech32 address of a witness-v0 program (20 or 32 bytes)."""
    data = [0] + _to_5bit(program)
    polymod = _polymod(_hrp_expand(hrp) + data + [0] * 6) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_CHARSET[d] for d in data + checksum)


# -- the derived key's scripts and addresses ---------------------------------------------------


def compressed_key(public_key: object) -> bytes:
    """The 33-byte SEC1 compressed form of a chainsig secp256k1 :class:`PublicKey`.

    Raises
    ------
    InvalidKeyError
        For an ed25519 key.
    """
    from chainsig_core.keys import Curve, PublicKey

    if not isinstance(public_key, PublicKey) or public_key.curve is not Curve.SECP256K1:
        raise InvalidKeyError("bitcoin addresses need a secp256k1 key")
    return public_key.compressed


def script_pubkey(pubkey33: bytes, address_type: str) -> bytes:
    """The locking script of the compressed key ``pubkey33`` for ``address_type``.

    Raises
    ------
    UnknownNameError
    """
    h = hash160(pubkey33)
    if address_type == "p2wpkh":
        return b"\x00\x14" + h
    if address_type == "p2pkh":
        return b"\x76\xa9\x14" + h + b"\x88\xac"
    raise UnknownNameError(f"unknown bitcoin address type {address_type!r} (known: p2wpkh, p2pkh)")


def key_address(pubkey33: bytes, network: str | BitcoinNetwork, address_type: str) -> str:
    """The P2WPKH (bech32) or P2PKH (base58check) address of a compressed key.

    Raises
    ------
    UnknownNameError
        For an unknown network or address type.
    """
    net = network if isinstance(network, BitcoinNetwork) else get_network(network)
    h = hash160(pubkey33)
    if address_type == "p2wpkh":
        return segwit_v0_address(net.hrp, h)
    if address_type == "p2pkh":
        return base58.b58encode_check(bytes([net.p2pkh_prefix]) + h).decode("ascii")
    raise UnknownNameError(f"unknown bitcoin address type {address_type!r} (known: p2wpkh, p2pkh)")


# -- recipients --------------------------------------------------------------------------------


def _networks_of_hrp(hrp: str) -> list[str]:
    return [n.name for n in NETWORKS.values() if n.hrp == hrp]


def _networks_of_prefix(prefix: int) -> list[str]:
    return [n.name for n in NETWORKS.values() if prefix in (n.p2pkh_prefix, n.p2sh_prefix)]


def _wrong_network(address: str, network: BitcoinNetwork, belongs: list[str]) -> InvalidAddressError:
    where = "/".join(belongs) if belongs else "no known network"
    return InvalidAddressError(
        f"address {address!r} is for {where}, not bitcoin {network.name}"
    )


def decode_address(address: str, network: str | BitcoinNetwork) -> bytes:
    """The scriptPubKey an address of ``network`` pays to.

    Accepts P2PKH, P2SH (base58check) and segwit v0 / v1 (bech32 / bech32m) addresses.

    Raises
    ------
    InvalidAddressError
        If the address is malformed, has a bad checksum, or belongs to another network.
    """
    net = network if isinstance(network, BitcoinNetwork) else get_network(network)
    if not isinstance(address, str) or not address.strip():
        raise InvalidAddressError("bitcoin address must be a non-empty string")
    text = address.strip()
    if len(text) > 90:
        raise InvalidAddressError(f"{text[:20]}… is too long to be a bitcoin address")
    lowered = text.lower()
    for hrp in sorted({n.hrp for n in NETWORKS.values()}, key=len, reverse=True):
        if lowered.startswith(hrp + "1"):
            return _decode_segwit(text, hrp, net)
    try:
        raw = base58.b58decode_check(text)
    except ValueError:
        raise InvalidAddressError(
            f"{text!r} is not a bitcoin address (bad base58check or bech32 encoding)"
        ) from None
    if len(raw) != 21:
        raise InvalidAddressError(f"{text!r} is not a bitcoin address (wrong payload length)")
    prefix, body = raw[0], raw[1:]
    if prefix == net.p2pkh_prefix:
        return b"\x76\xa9\x14" + body + b"\x88\xac"
    if prefix == net.p2sh_prefix:
        return b"\xa9\x14" + body + b"\x87"
    raise _wrong_network(text, net, _networks_of_prefix(prefix))


def _decode_segwit(text: str, hrp: str, net: BitcoinNetwork) -> bytes:
    from embit import bech32

    if text != text.lower() and text != text.upper():
        raise InvalidAddressError(f"{text!r} mixes upper and lower case")
    version, program = bech32.decode(hrp, text.lower())
    if version is None:
        raise InvalidAddressError(f"{text!r} is not a valid segwit address (bad bech32 checksum or character)")
    if hrp != net.hrp:
        raise _wrong_network(text, net, _networks_of_hrp(hrp))
    program = bytes(program)
    if version == 0 and len(program) in (20, 32):
        return bytes([0, len(program)]) + program
    if version == 1 and len(program) == 32:
        return bytes([0x51, 32]) + program
    raise InvalidAddressError(
        f"{text!r}: witness version {version} with a {len(program)}-byte program is not supported"
    )


def output_kind(spk: bytes) -> str:
    """``p2wpkh``, ``p2wsh``, ``p2tr``, ``p2pkh``, ``p2sh`` or ``other`` for a scriptPubKey."""
    if len(spk) == 22 and spk[:2] == b"\x00\x14":
        return "p2wpkh"
    if len(spk) == 34 and spk[:2] == b"\x00\x20":
        return "p2wsh"
    if len(spk) == 34 and spk[:2] == b"\x51\x20":
        return "p2tr"
    if len(spk) == 25 and spk[:3] == b"\x76\xa9\x14" and spk[-2:] == b"\x88\xac":
        return "p2pkh"
    if len(spk) == 23 and spk[:2] == b"\xa9\x14" and spk[-1] == 0x87:
        return "p2sh"
    return "other"
