"""What the host gives a contract call, and what the call gives back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class ContractPanic(Exception):
    """The contract call failed; ``str(panic)`` is the contract's error text.

    The host rolls the contract state back and reports
    ``FunctionCallError(ExecutionError("Smart contract panicked: <text>"))``.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.logs: list[str] = []
        """Logs the call emitted before it failed (NEAR keeps them in the failed outcome)."""


@dataclass
class ViewEnv:
    """The environment of a view call (no predecessor, no deposit, no state changes)."""

    current_account_id: str
    block_height: int


@dataclass
class CallEnv:
    """The environment of a state-changing call.

    Parameters
    ----------
    current_account_id, predecessor_account_id, signer_account_id:
        As NEAR's ``env::*`` functions report them.
    attached_deposit:
        yoctoNEAR attached to the call.
    prepaid_gas:
        Gas attached to the call.
    block_height:
        Height of the block the receipt executes in.
    create_yield:
        ``create_yield(callback_method, callback_args_json) -> data_id`` (32 bytes): NEAR's
        ``promise_yield_create``; the host runs the callback when the yield is resumed or
        times out.
    resume_yield:
        ``resume_yield(data_id, payload) -> bool``: NEAR's ``promise_yield_resume``.
    """

    current_account_id: str
    predecessor_account_id: str
    signer_account_id: str
    attached_deposit: int
    prepaid_gas: int
    block_height: int
    create_yield: Callable[[str, dict[str, Any]], bytes]
    resume_yield: Callable[[bytes, bytes], bool]
    promise_result: bytes | None = None
    """For a yield callback: the resumed payload, or ``None`` when the yield timed out."""


@dataclass
class CallResult:
    """The outcome of a successful call.

    ``value`` is the JSON return value (``None`` = no value). ``yields`` lists data ids
    created (the call's result is then the first yield's callback); ``transfers`` are
    ``(receiver, yocto)`` refunds; ``self_calls`` are ``(method, args)`` calls the contract
    makes on itself (e.g. ``fail_on_timeout``), whose result becomes the call's result.
    """

    value: Any = None
    logs: list[str] = field(default_factory=list)
    yields: list[bytes] = field(default_factory=list)
    transfers: list[tuple[str, int]] = field(default_factory=list)
    self_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    gas_used: int = 0
