"""Encrypted backup and restore of a node's key shares (passphrase → scrypt → AES-256-GCM).

Only key shares (and other long-lived kinds the caller names) are backed up. Presignatures and
FROST nonces are single-use: restoring an old copy of one could make the node use it twice,
which leaks the key share — so they are refused on both backup and restore.

File format (JSON)::

    {"format": "chainsig-mpc-share-backup", "version": 1,
     "kdf": {"name": "scrypt", "n": 32768, "r": 8, "p": 1, "salt": "<hex 16 bytes>"},
     "nonce": "<hex 12 bytes>", "ciphertext": "<base64>"}

The header (everything but ``ciphertext``, canonical JSON) is the associated data, so changing
the KDF parameters or the nonce fails authentication. The plaintext is JSON
``{"records": [{"kind", "id", "value": base64}]}``.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Collection
from pathlib import Path
from typing import Any

from .errors import BackupError
from .store import KIND_FROST_NONCE, KIND_KEYSHARE, KIND_PRESIGNATURE, NodeStore

log = logging.getLogger(__name__)

BACKUP_FORMAT = "chainsig-mpc-share-backup"
BACKUP_VERSION = 1
DEFAULT_SCRYPT_N = 2**15
SINGLE_USE_KINDS = frozenset({KIND_PRESIGNATURE, KIND_FROST_NONCE})
MIN_PASSPHRASE_CHARS = 12


def backup_shares(
    store: NodeStore,
    path: Path | str,
    passphrase: str,
    *,
    kinds: Collection[str] = (KIND_KEYSHARE,),
    scrypt_n: int = DEFAULT_SCRYPT_N,
) -> int:
    """Write the records of ``kinds`` to an encrypted backup file (mode 600; never overwrites).

    Returns
    -------
    int
        The number of records written.

    Raises
    ------
    BackupError
        For a short passphrase, a single-use kind, an existing file or a write failure.
    """
    _check_kinds(kinds)
    _check_passphrase(passphrase)
    records = [
        {"kind": kind, "id": record_id, "value": base64.b64encode(value).decode()}
        for kind in sorted(kinds) for record_id, value in store.items(kind)
    ]
    salt, nonce = os.urandom(16), os.urandom(12)
    header = {
        "format": BACKUP_FORMAT, "version": BACKUP_VERSION,
        "kdf": {"name": "scrypt", "n": scrypt_n, "r": 8, "p": 1, "salt": salt.hex()},
        "nonce": nonce.hex(),
    }
    aead = _aead(passphrase, header["kdf"])
    ciphertext = aead.encrypt(nonce, json.dumps({"records": records}).encode(), _aad(header))
    document = dict(header, ciphertext=base64.b64encode(ciphertext).decode())
    target = Path(path)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BackupError(f"backup file {target} already exists; not overwriting it") from None
    except OSError as exc:
        raise BackupError(f"cannot write backup file {target}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    log.info("backed up %d records to %s", len(records), target)
    return len(records)


def restore_shares(store: NodeStore, path: Path | str, passphrase: str, *, replace: bool = False) -> int:
    """Put the records of a backup file into ``store``.

    Parameters
    ----------
    replace:
        Overwrite records that exist with other values (default: refuse).

    Returns
    -------
    int
        The number of records restored.

    Raises
    ------
    BackupError
        Wrong passphrase or damaged file, a single-use kind inside, or a conflicting record.
    """
    source = Path(path)
    try:
        document = json.loads(source.read_text("utf-8"))
    except FileNotFoundError:
        raise BackupError(f"backup file {source} does not exist") from None
    except (OSError, ValueError):
        raise BackupError(f"backup file {source} is not a readable JSON document") from None
    header = _header(document, source)
    try:
        ciphertext = base64.b64decode(document["ciphertext"], validate=True)
        nonce = bytes.fromhex(header["nonce"])
    except (KeyError, TypeError, ValueError):
        raise BackupError(f"backup file {source} is damaged") from None
    from cryptography.exceptions import InvalidTag

    try:
        plaintext = _aead(passphrase, header["kdf"]).decrypt(nonce, ciphertext, _aad(header))
    except (InvalidTag, ValueError):
        raise BackupError(f"cannot decrypt backup {source}: wrong passphrase or damaged file") from None
    records = _records(plaintext, source)
    with store.atomic():
        for kind, record_id, value in records:
            existing = store.get(kind, record_id)
            if existing is not None and existing != value and not replace:
                raise BackupError(f"{kind} {record_id} exists with another value; pass replace to overwrite")
            store.put(kind, record_id, value)
    log.info("restored %d records from %s", len(records), source)
    return len(records)


def _header(document: Any, source: Path) -> dict[str, Any]:
    if not isinstance(document, dict) or document.get("format") != BACKUP_FORMAT:
        raise BackupError(f"{source} is not a chainsig-mpc share backup")
    if document.get("version") != BACKUP_VERSION:
        raise BackupError(f"backup {source} has version {document.get('version')!r}; this node reads {BACKUP_VERSION}")
    kdf = document.get("kdf")
    if not isinstance(kdf, dict) or kdf.get("name") != "scrypt":
        raise BackupError(f"backup {source} names an unknown key derivation")
    return {k: document[k] for k in ("format", "version", "kdf", "nonce") if k in document}


def _records(plaintext: bytes, source: Path) -> list[tuple[str, str, bytes]]:
    try:
        raw = json.loads(plaintext)["records"]
        records = [(r["kind"], r["id"], base64.b64decode(r["value"], validate=True)) for r in raw]
    except (KeyError, TypeError, ValueError):
        raise BackupError(f"backup {source} decrypts to malformed content") from None
    _check_kinds({kind for kind, _, _ in records})
    return records


def _aead(passphrase: str, kdf: dict[str, Any]) -> Any:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    try:
        n, r, p, salt = int(kdf["n"]), int(kdf["r"]), int(kdf["p"]), bytes.fromhex(kdf["salt"])
        if not (2**10 <= n <= 2**20 and 1 <= r <= 32 and 1 <= p <= 16 and len(salt) >= 16):
            raise ValueError
        key = Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))
    except (KeyError, TypeError, ValueError):
        raise BackupError("the backup's scrypt parameters are malformed or out of range") from None
    return AESGCM(key)


def _aad(header: dict[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode()


def _check_kinds(kinds: Collection[str]) -> None:
    bad = sorted(set(kinds) & SINGLE_USE_KINDS)
    if bad:
        raise BackupError(f"{', '.join(bad)} records are single-use and are never backed up or restored")


def _check_passphrase(passphrase: str) -> None:
    if not isinstance(passphrase, str) or len(passphrase) < MIN_PASSPHRASE_CHARS:
        raise BackupError(f"the backup passphrase must have at least {MIN_PASSPHRASE_CHARS} characters")
