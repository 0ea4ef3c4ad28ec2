"""Parsing of the signer contract's ``sign`` and ``respond`` arguments, by the contract's rules.

``sign``: ``{"request": {"path", "payload_v2": {"Ecdsa"|"Eddsa": hex} | "payload": [32 ints],
"domain_id" | "key_version"}}`` — each pair mutually exclusive. ``respond``'s ``request`` is the
``SignatureRequest`` ``{"domain_id", "payload": {kind: hex}, "tweak": hex | [32 ints]}``.
Hex is accepted in either case. The format itself is parsed by ``chainsig_core.sign_args``
(shared with the contract and the client); the node adds the payload rules the contract
enforces and returns the request key in hex.
"""

from __future__ import annotations

from typing import Any

from chainsig_core import sign_args
from chainsig_core.errors import InvalidInputError
from chainsig_core.keys import Curve
from chainsig_core.payloads import validate_payload


def parse_sign_request(args: Any) -> tuple[str, str, bytes, int]:
    """``sign`` arguments → (path, payload kind, payload, domain id).

    Raises
    ------
    InvalidInputError
        If the arguments do not follow the contract's rules, or the payload is one the
        contract refuses to sign (an ECDSA hash of zero or not below the curve order).
    """
    request = args.get("request") if isinstance(args, dict) else None
    if not isinstance(request, dict):
        raise InvalidInputError("sign arguments need a 'request' object")
    path, kind, payload, domain_id = sign_args.parse_sign_request(request)
    validate_payload(Curve.SECP256K1 if kind == "Ecdsa" else Curve.ED25519, payload)
    return path, kind, payload, domain_id


def parse_signature_request(value: Any) -> tuple[int, str, str, str]:
    """A ``SignatureRequest`` → its request key ``(domain id, kind, payload hex, tweak hex)``.

    Raises
    ------
    InvalidInputError
    """
    domain_id, kind, payload, tweak = sign_args.parse_signature_request(value)
    return domain_id, kind, payload.hex(), tweak.hex()
