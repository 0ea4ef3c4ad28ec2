"""The devnet's gas model — simple, deterministic and documented in docs/devnet.md.

Real NEAR gas comes from WASM instruction metering and cannot be reproduced for a contract
written in Python. The devnet charges fixed amounts instead, in NEAR's units:

* every transaction burns :data:`TX_BASE_GAS` when it is converted to a receipt, plus each
  action's cost from :func:`action_gas` (function calls add a per-byte cost for method name
  and arguments);
* a function-call receipt burns :data:`RECEIPT_BASE_GAS` plus the method's cost from
  :data:`METHOD_GAS` (default :data:`DEFAULT_METHOD_GAS`);
* ``sign`` also reserves the contract's ``return_signature_and_clean_state_on_success`` gas
  for its yield callback;
* gas is priced at the constant :data:`GAS_PRICE` (NEAR's minimum gas price). The signer pays
  ``(burnt + prepaid) × price`` up front and the unused prepaid gas is refunded at once.
"""

from __future__ import annotations

TGAS = 10**12
GAS_PRICE = 100_000_000
"""yoctoNEAR per gas unit (NEAR's minimum gas price)."""

MAX_TOTAL_PREPAID_GAS = 300 * TGAS
"""Largest total gas a transaction may attach (NEAR's ``max_total_prepaid_gas``)."""

TX_BASE_GAS = 108_059_500_000
RECEIPT_BASE_GAS = 108_059_500_000
FUNCTION_CALL_BYTE_GAS = 2_235_934
_ACTION_GAS = {
    "CreateAccount": 3_850_000_000_000 // 10,
    "Transfer": 115_123_062_500,
    "AddKey": 101_765_125_000,
    "DeleteKey": 94_946_625_000,
    "FunctionCall": 200_000_000_000,
}
METHOD_GAS = {
    "sign": 5 * TGAS,
    "respond": 8 * TGAS,
    "return_signature_and_clean_state_on_success": 2 * TGAS,
    "fail_on_timeout": 1 * TGAS,
}
DEFAULT_METHOD_GAS = 3 * TGAS


def action_gas(kind: str, method_name: str = "", args_len: int = 0) -> int:
    """Gas burnt for sending one action of ``kind``."""
    gas = _ACTION_GAS[kind]
    if kind == "FunctionCall":
        gas += FUNCTION_CALL_BYTE_GAS * (len(method_name.encode()) + args_len)
    return gas


def method_gas(method: str) -> int:
    """Gas a contract method burns when its receipt executes (before its base cost)."""
    return RECEIPT_BASE_GAS + METHOD_GAS.get(method, DEFAULT_METHOD_GAS)


def tokens(gas: int) -> int:
    """yoctoNEAR for ``gas`` at :data:`GAS_PRICE`."""
    return gas * GAS_PRICE
