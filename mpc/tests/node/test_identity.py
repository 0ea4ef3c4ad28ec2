"""The TLS identity: ed25519 key, NEAR key string, self-signed certificate, PEM file."""

from __future__ import annotations

import os

import pytest

from chainsig_core.errors import InvalidKeyError
from chainsig_core.keys import PublicKey
from chainsig_mpc.node.errors import NodeConfigError
from chainsig_mpc.node.identity import NodeIdentity, load_identity, public_key_of_certificate, save_identity


def test_certificate_carries_the_tls_public_key():
    identity = NodeIdentity(bytes(range(32)))
    assert PublicKey.from_near_string(identity.tls_public_key) == identity.public_key
    assert public_key_of_certificate(identity.certificate) == identity.public_key
    # The same seed is the same key as PyNaCl's (what near-cli and the contract use).
    from nacl.signing import SigningKey

    assert bytes(SigningKey(bytes(range(32))).verify_key) == identity.public_key.data
    assert bytes(range(32)).hex() not in repr(identity)


def test_identity_file_round_trip_and_errors(tmp_path):
    identity = NodeIdentity.generate()
    path = save_identity(tmp_path / "id.pem", identity)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert load_identity(path) == identity
    with pytest.raises(NodeConfigError, match="already exists"):
        save_identity(path, NodeIdentity.generate())
    with pytest.raises(NodeConfigError, match="cannot read"):
        load_identity(tmp_path / "missing.pem")
    garbage = tmp_path / "garbage.pem"
    garbage.write_bytes(os.urandom(64))
    with pytest.raises(NodeConfigError, match="not an unencrypted PEM"):
        load_identity(garbage)
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    other = tmp_path / "p256.pem"
    other.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    with pytest.raises(NodeConfigError, match="non-ed25519"):
        load_identity(other)
    with pytest.raises(InvalidKeyError):
        NodeIdentity(b"short")
