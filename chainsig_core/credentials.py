"""NEAR account keys in near-cli's credentials format.

A credentials file lives at ``<credentials_dir>/<network>/<account_id>.json``::

    {"account_id": "alice.testnet",
     "public_key": "ed25519:…",
     "private_key": "ed25519:<base58 of the 64-byte seed‖public key>"}

(``secret_key`` is accepted as an alias of ``private_key``, as near-cli writes both.) The
environment variable ``NEAR_PRIVATE_KEY`` supplies a key without a file: for whatever account is
asked for when ``NEAR_ACCOUNT_ID`` is unset, else for ``NEAR_ACCOUNT_ID`` only (other accounts
use their files). Only ed25519 access keys are supported.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import base58

from .account_id import validate_account_id
from .errors import CredentialsError, InvalidKeyError
from .keys import Curve, PublicKey

PRIVATE_KEY_ENV = "NEAR_PRIVATE_KEY"
ACCOUNT_ID_ENV = "NEAR_ACCOUNT_ID"


@dataclass(frozen=True)
class AccessKey:
    """An ed25519 NEAR access key with its secret (never printed: ``repr`` hides it)."""

    account_id: str
    public_key: PublicKey
    seed: bytes = field(repr=False)

    def to_near_secret_string(self) -> str:
        """``ed25519:`` + base58(seed‖public key), near-cli's ``private_key`` form."""
        return "ed25519:" + base58.b58encode(self.seed + self.public_key.data).decode()

    def sign(self, message: bytes) -> bytes:
        """Ed25519 signature of ``message`` with this key."""
        from nacl.signing import SigningKey

        return SigningKey(self.seed).sign(message).signature

    def to_credentials_json(self) -> dict[str, str]:
        """The near-cli credentials-file content for this key."""
        secret = self.to_near_secret_string()
        return {
            "account_id": self.account_id,
            "public_key": self.public_key.to_near_string(),
            "private_key": secret,
        }


def generate_access_key(account_id: str) -> AccessKey:
    """A fresh random ed25519 access key for ``account_id``."""
    from nacl.signing import SigningKey

    validate_account_id(account_id)
    signing = SigningKey.generate()
    return AccessKey(account_id, PublicKey(Curve.ED25519, bytes(signing.verify_key)), bytes(signing))


def parse_secret_key(account_id: str, secret: str) -> AccessKey:
    """Decode an ``ed25519:<base58>`` secret (64-byte seed‖pk, or a 32-byte seed).

    Raises
    ------
    InvalidKeyError
        If the string is malformed or its public half does not match its seed. The message
        never contains the secret.
    """
    from nacl.signing import SigningKey

    validate_account_id(account_id)
    if not isinstance(secret, str) or not secret.startswith("ed25519:"):
        raise InvalidKeyError("a NEAR secret key must start with 'ed25519:'")
    try:
        raw = base58.b58decode(secret[len("ed25519:"):].encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise InvalidKeyError("the NEAR secret key is not valid base58") from None
    if len(raw) not in (32, 64):
        raise InvalidKeyError("a NEAR ed25519 secret key is 32 or 64 bytes")
    seed = raw[:32]
    public = bytes(SigningKey(seed).verify_key)
    if len(raw) == 64 and raw[32:] != public:
        raise InvalidKeyError("the NEAR secret key's public half does not match its seed")
    return AccessKey(account_id, PublicKey(Curve.ED25519, public), seed)


def credentials_path(credentials_dir: Path, network: str, account_id: str) -> Path:
    """``<credentials_dir>/<network>/<account_id>.json``."""
    validate_account_id(account_id)
    return Path(credentials_dir) / network / f"{account_id}.json"


def env_key_applies(account_id: str) -> bool:
    """True when :func:`load_access_key` takes ``account_id``'s key from ``NEAR_PRIVATE_KEY``.

    The variable's key is for any account while ``NEAR_ACCOUNT_ID`` is unset (or empty), and
    belongs to ``NEAR_ACCOUNT_ID`` alone when it is set: a key never silently signs for an
    account its owner did not name.
    """
    env_account = os.environ.get(ACCOUNT_ID_ENV)
    return bool(os.environ.get(PRIVATE_KEY_ENV)) and (not env_account or env_account == account_id)


def load_access_key(credentials_dir: Path, network: str, account_id: str) -> AccessKey:
    """The account's key: from ``NEAR_PRIVATE_KEY`` when it applies to this account
    (:func:`env_key_applies`), else its credentials file.

    Raises
    ------
    CredentialsError
        If no key is found or the file is malformed (the message names the file or the
        variable, never the key).
    """
    if env_key_applies(account_id):
        try:
            return parse_secret_key(account_id, os.environ[PRIVATE_KEY_ENV])
        except InvalidKeyError as exc:
            raise CredentialsError(f"{PRIVATE_KEY_ENV}: {exc}") from None
    path = credentials_path(credentials_dir, network, account_id)
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        env_account = os.environ.get(ACCOUNT_ID_ENV)
        if os.environ.get(PRIVATE_KEY_ENV) and env_account:
            hint = f"{PRIVATE_KEY_ENV} is the key of {ACCOUNT_ID_ENV}={env_account}, not of {account_id}"
        else:
            hint = f"log in with near-cli, or set {PRIVATE_KEY_ENV}"
        raise CredentialsError(
            f"no key for {account_id} on {network}: {path} does not exist ({hint})"
        ) from None
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not valid JSON"
        raise CredentialsError(f"cannot read credentials file {path}: {reason}") from None
    if not isinstance(data, dict):
        raise CredentialsError(f"credentials file {path} must hold a JSON object")
    secret = data.get("private_key") or data.get("secret_key")
    if not isinstance(secret, str):
        raise CredentialsError(f"credentials file {path} has no private_key")
    try:
        key = parse_secret_key(account_id, secret)
    except InvalidKeyError as exc:
        raise CredentialsError(f"credentials file {path}: {exc}") from None
    listed = data.get("public_key")
    if listed is not None and listed != key.public_key.to_near_string():
        raise CredentialsError(f"credentials file {path}: public_key does not match private_key")
    return key


def write_access_key(credentials_dir: Path, network: str, key: AccessKey) -> Path:
    """Write ``key`` as a near-cli credentials file readable only by its owner."""
    path = credentials_path(credentials_dir, network, key.account_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(key.to_credentials_json(), handle, indent=2)
    return path
