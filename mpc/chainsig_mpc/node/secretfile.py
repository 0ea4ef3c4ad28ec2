"""Writing a secret to a new file readable only by its owner (identity keys, node keys)."""

from __future__ import annotations

import os
from pathlib import Path

from chainsig_core.errors import ConfigError

from .errors import NodeConfigError


def write_new_secret_file(
    path: Path | str, data: bytes, what: str, error: type[ConfigError] = NodeConfigError
) -> Path:
    """Create ``path`` with mode 600 and write ``data``; never overwrite an existing file.

    Raises
    ------
    NodeConfigError (or the ``error`` class given)
        If the file exists or cannot be written; the message names ``what`` and the path,
        never the data.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise error(f"{what} {target} already exists; not overwriting it") from None
    except OSError as exc:
        raise error(f"cannot write {what} {target}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return target
