"""Echo broadcast with abort (MPC-PROTOCOLS.md §1).

After a broadcast round every participant sends everyone a digest of each value it received.
A value is accepted only when all echoes agree with the local view; a sender whose value is
seen differently by two participants equivocated and is named. This is the echo-with-abort
variant, safe for any n (agreement or abort; no termination guarantee with a faulty party —
the node service's round timeout handles a silent one). Bracha's amplification (n ≥ 3f + 1,
terminates despite f faults) is not implemented.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from .errors import MessageError
from .messages import hex_field


def value_digest(sid: bytes, kind: str, sender: int, body: Mapping[str, Any]) -> str:
    """Hex SHA-256 digest of one broadcast value, bound to session, round and sender."""
    payload = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    h = hashlib.sha256(b"chainsig-mpc/echo/v1\x00" + sid + kind.encode() + b"\x00")
    h.update(sender.to_bytes(4, "big") + payload)
    return h.hexdigest()


def echo_body(sid: bytes, kind: str, received: Mapping[int, Mapping[str, Any]]) -> dict[str, Any]:
    """The echo a participant sends for one broadcast round."""
    return {"digests": {str(s): value_digest(sid, kind, s, b) for s, b in sorted(received.items())}}


def parse_echo(body: Mapping[str, Any], senders: tuple[int, ...]) -> dict[int, str]:
    """Validate an echo body: one 32-byte digest per sender of the round.

    Raises
    ------
    MessageError
    """
    digests = body.get("digests") if set(body) == {"digests"} else None
    if not isinstance(digests, dict) or set(digests) != {str(s) for s in senders}:
        raise MessageError("echo must carry one digest per sender of the round")
    for value in digests.values():
        hex_field(value, 32, "digest")
    return {int(k): v for k, v in digests.items()}


def equivocators(local: Mapping[int, str], echoes: Mapping[int, Mapping[int, str]]) -> set[int]:
    """Senders whose value some echoer saw differently from the local view."""
    return {s for view in echoes.values() for s, d in view.items() if local.get(s) != d}
