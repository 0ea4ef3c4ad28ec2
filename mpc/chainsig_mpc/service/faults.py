"""Test-only misbehaviour: a node that sends corrupted shares on purpose.

``chainsig mpc node --insecure-corrupt MODE`` (repeatable) turns one node into the malicious
participant of the reliability tests, so they can show that the others name it, refuse its
output, exclude it and keep signing. It is never set by a config file; the node logs a
warning at start-up and reports the modes in ``/health``. The modes:

``dkg``
    Dealings (DKG and reshare) carry a wrong private share for every receiver, and the public
    opening after the complaint is the same wrong value — the Feldman checks name this node.
``ecdsa-share``
    Its ECDSA signature shares (ν) are off by one: the combined signature does not verify.
``frost-share``
    Its FROST signature shares (z) are off by one: the share check names this node.

The corruption is applied where the node's honest code hands a value to the network, so the
protocol implementations stay untouched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from chainsig_core.errors import InvalidInputError

if TYPE_CHECKING:
    from ..protocols.messages import Message

log = logging.getLogger(__name__)

MODES = ("dkg", "ecdsa-share", "frost-share")
_SHARE_FIELD = {"ecdsa-sign.share": ("nu", "secp256k1", "ecdsa-share"),
                "frost.share": ("z", "ed25519", "frost-share")}


@dataclass(frozen=True)
class Faults:
    """The misbehaviour a node was started with (none by default)."""

    modes: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        unknown = self.modes - set(MODES)
        if unknown:
            raise InvalidInputError(f"unknown corruption mode(s) {', '.join(sorted(unknown))}; "
                             f"expected {', '.join(MODES)}")

    def __bool__(self) -> bool:
        return bool(self.modes)

    def warn(self) -> None:
        """Log, loudly, that this node misbehaves on purpose."""
        if self.modes:
            log.warning("INSECURE TEST MODE: this node sends corrupted %s on purpose",
                        ", ".join(sorted(self.modes)))

    def tamper_protocol(self, protocol: Any) -> None:
        """Make a dealing protocol (DKG, reshare) deal wrong shares when ``dkg`` is set."""
        from ..protocols.dealing import DealingProtocol  # the CLI imports MODES: keep it light

        if "dkg" in self.modes and isinstance(protocol, DealingProtocol):
            honest, me, order = protocol._share_for, protocol.me, protocol.group.order

            def wrong_share(receiver: int) -> int:  # its own share stays right: no self-complaint
                return honest(receiver) if receiver == me else (honest(receiver) + 1) % order

            protocol._share_for = wrong_share  # type: ignore[method-assign]

    def tamper_share(self, message: Message) -> Message:
        """The signature share this node sends, corrupted when its mode is set."""
        field = _SHARE_FIELD.get(message.kind)
        if field is None or field[2] not in self.modes:
            return message
        from ..protocols.groups import ED25519, SECP256K1
        from ..protocols.messages import parse_scalar, scalar_hex

        name, curve, _mode = field
        group = SECP256K1 if curve == "secp256k1" else ED25519
        value = parse_scalar(group, message.body[name], name)
        return replace(message, body={**message.body, name: scalar_hex(group, (value + 1) % group.order)})
