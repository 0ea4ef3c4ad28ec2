"""chainsig-mpc: threshold protocols (DKG, robust ECDSA, FROST Ed25519, resharing).

Registered under the ``chainsig`` entry-point group; importing this module is cheap — the
protocols live in :mod:`chainsig_mpc.protocols` and are imported on use.
"""

__all__: list[str] = []
