"""The MPC protocols of chainsig, one concern per module.

``groups`` (secp256k1 / ed25519), ``shamir``, ``messages`` (wire format), ``session``,
``broadcast`` (echo), ``rounds`` (state-machine engine), ``router`` (in-memory transport),
``dealing`` + ``dkg`` + ``reshare``, ``presign`` + ``ecdsa`` (robust ECDSA), ``frost`` +
``frost_nonces`` + ``frost_session`` (FROST Ed25519), ``pools``, ``storage`` (consumption
log), ``keystore``.
"""
