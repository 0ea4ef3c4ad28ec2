"""A node's long-term TLS identity: an ed25519 key whose public half is the participant's
``tls_public_key`` in the signer contract (a NEAR ``ed25519:<base58>`` string).

Peers are authenticated by this key alone. The X.509 certificate is only the envelope TLS needs
to carry the key: it is self-signed, and nobody checks its names or dates — the verify callback
of :mod:`chainsig_mpc.node.tls` compares the certificate's public key with the contract's list.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from chainsig_core.errors import InvalidKeyError
from chainsig_core.keys import Curve, PublicKey

from .errors import NodeConfigError
from .secretfile import write_new_secret_file

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

CERTIFICATE_VALIDITY = datetime.timedelta(days=3650)
"""Validity written into the self-signed certificate (informational: peers ignore dates)."""


@dataclass(frozen=True)
class NodeIdentity:
    """An ed25519 TLS identity (the secret never appears in ``repr``).

    Parameters
    ----------
    seed:
        The 32-byte ed25519 secret seed.
    """

    seed: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.seed, bytes) or len(self.seed) != 32:
            raise InvalidKeyError("a TLS identity seed is 32 bytes")

    @cached_property
    def private_key(self) -> Ed25519PrivateKey:
        """The key as a ``cryptography`` object."""
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        return Ed25519PrivateKey.from_private_bytes(self.seed)

    @cached_property
    def public_key(self) -> PublicKey:
        """The public key (``PublicKey(ED25519, 32 bytes)``)."""
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        raw = self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return PublicKey(Curve.ED25519, raw)

    @property
    def tls_public_key(self) -> str:
        """The key as the contract lists it: ``ed25519:<base58>``."""
        return self.public_key.to_near_string()

    @cached_property
    def certificate(self) -> x509.Certificate:
        """A self-signed X.509 certificate carrying :attr:`public_key`."""
        from cryptography import x509
        from cryptography.x509.oid import NameOID

        name = x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "chainsig-mpc"),
            x509.NameAttribute(NameOID.COMMON_NAME, self.tls_public_key[:64]),
        ])
        now = datetime.datetime.now(datetime.timezone.utc)
        return (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.private_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + CERTIFICATE_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(self.private_key, algorithm=None)  # ed25519 signs without a separate hash
        )

    @classmethod
    def generate(cls) -> NodeIdentity:
        """A fresh random identity."""
        return cls(os.urandom(32))

    def to_pem(self) -> bytes:
        """The secret as unencrypted PKCS#8 PEM (what :func:`save_identity` writes)."""
        from cryptography.hazmat.primitives.serialization import (
            Encoding,
            NoEncryption,
            PrivateFormat,
        )

        return self.private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


def save_identity(path: Path | str, identity: NodeIdentity) -> Path:
    """Write ``identity`` as a PKCS#8 PEM file readable only by its owner (never overwrites).

    Raises
    ------
    NodeConfigError
        If the file exists or cannot be written.
    """
    return write_new_secret_file(path, identity.to_pem(), "TLS identity file")


def load_identity(path: Path | str) -> NodeIdentity:
    """Read an identity written by :func:`save_identity` (any PKCS#8 ed25519 PEM key).

    Raises
    ------
    NodeConfigError
        If the file is missing, unreadable or not an unencrypted ed25519 PEM key.
    """
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
        load_pem_private_key,
    )

    source = Path(path)
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise NodeConfigError(f"cannot read TLS identity file {source}: {exc.strerror}") from None
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise NodeConfigError(f"TLS identity file {source} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise NodeConfigError(f"TLS identity file {source} holds a non-ed25519 key")
    return NodeIdentity(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))


def public_key_of_certificate(certificate: x509.Certificate) -> PublicKey | None:
    """The ed25519 key a certificate carries, or ``None`` for any other key type."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    try:
        key = certificate.public_key()
    except (ValueError, TypeError):  # unsupported algorithm or malformed key
        return None
    if not isinstance(key, Ed25519PublicKey):
        return None
    return PublicKey(Curve.ED25519, key.public_bytes(Encoding.Raw, PublicFormat.Raw))
