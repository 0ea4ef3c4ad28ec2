"""The v1.signer-compatible signer contract as a pure Python state machine.

:class:`~chainsig_contract.contract.signer.SignerContract` holds the contract's JSON state and
executes calls against a :class:`~chainsig_contract.contract.env.CallEnv` supplied by the host
(predecessor, deposit, gas, block height, yield/resume). It never does I/O: the devnet host
persists its state and turns its yields into receipts.
"""

from .env import CallEnv, CallResult, ContractPanic, ViewEnv
from .signer import SignerContract

__all__ = ["CallEnv", "CallResult", "ContractPanic", "SignerContract", "ViewEnv"]
