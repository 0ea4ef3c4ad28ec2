"""The node key: 32 random bytes that encrypt the node's store at rest.

It comes from a file (64 hex characters, readable only by the node's user) or from an
environment variable holding the same hex, so an operator can keep it in a secret manager
instead of on the disk that holds the database.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .errors import NodeKeyError
from .secretfile import write_new_secret_file

NODE_KEY_BYTES = 32
DEFAULT_NODE_KEY_ENV = "CHAINSIG_MPC_NODE_KEY"


@dataclass(frozen=True)
class NodeKeySource:
    """Where the node key comes from: exactly one of ``file`` and ``env``.

    Parameters
    ----------
    file:
        A file holding the key as 64 hex characters.
    env:
        The name of an environment variable holding it.
    """

    file: Path | None = None
    env: str | None = None

    def __post_init__(self) -> None:
        if (self.file is None) == (self.env is None):
            raise NodeKeyError("the node key source needs exactly one of 'file' and 'env'")

    def describe(self) -> str:
        """Where the key is read from (for messages; never the key)."""
        return f"file {self.file}" if self.file is not None else f"environment variable {self.env}"

    def load(self) -> bytes:
        """Read the key.

        Returns
        -------
        bytes
            32 bytes.

        Raises
        ------
        NodeKeyError
            If the file or variable is missing, is not 64 hex characters, or the file is
            readable by other users.
        """
        if self.env is not None:
            text = os.environ.get(self.env)
            if not text:
                raise NodeKeyError(f"the node key variable {self.env} is not set")
        else:
            assert self.file is not None
            try:
                mode = self.file.stat().st_mode
                text = self.file.read_text("ascii")
            except FileNotFoundError:
                raise NodeKeyError(f"node key file {self.file} does not exist (run 'chainsig mpc init')") from None
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) else "not ASCII text"
                raise NodeKeyError(f"cannot read node key file {self.file}: {reason}") from None
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise NodeKeyError(
                    f"node key file {self.file} is accessible by other users; chmod 600 it"
                )
        return parse_node_key(text, self.describe())


def parse_node_key(text: str, where: str = "the node key") -> bytes:
    """Decode 64 hex characters (surrounding whitespace ignored).

    Raises
    ------
    NodeKeyError
        Naming ``where``, never the content.
    """
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise NodeKeyError(f"{where} is not hex") from None
    if len(key) != NODE_KEY_BYTES:
        raise NodeKeyError(f"{where} must hold {NODE_KEY_BYTES} bytes (64 hex characters)")
    return key


def generate_node_key_file(path: Path | str) -> Path:
    """Write a fresh random node key to ``path`` (mode 600; never overwrites).

    Raises
    ------
    NodeKeyError
        If the file exists or cannot be written.
    """
    data = (os.urandom(NODE_KEY_BYTES).hex() + "\n").encode("ascii")
    return write_new_secret_file(path, data, "node key file", NodeKeyError)
