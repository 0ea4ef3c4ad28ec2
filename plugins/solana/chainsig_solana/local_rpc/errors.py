"""Solana JSON-RPC error objects and Solana's wording of transaction errors."""

from __future__ import annotations

import json
import re
from typing import Any, TypedDict

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SEND_TRANSACTION_PREFLIGHT_FAILURE = -32002
TRANSACTION_SIGNATURE_VERIFICATION_FAILURE = -32003
MIN_CONTEXT_SLOT_NOT_REACHED = -32016


class ErrorObjectJSON(TypedDict, total=False):
    """A JSON-RPC 2.0 error object."""

    code: int
    message: str
    data: Any


class RpcMethodError(Exception):
    """An error answer: code, message and optional data, exactly as the response carries them."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> ErrorObjectJSON:
        out: ErrorObjectJSON = {"code": self.code, "message": self.message}
        if self.data is not None:
            out["data"] = self.data
        return out


def invalid_params(message: str) -> RpcMethodError:
    """``-32602`` with Solana's ``Invalid params: …`` wording."""
    return RpcMethodError(INVALID_PARAMS, f"Invalid params: {message}")


def invalid_param(message: str) -> RpcMethodError:
    """``-32602`` with Solana's ``Invalid param: …`` wording (one bad value)."""
    return RpcMethodError(INVALID_PARAMS, f"Invalid param: {message}")


def transaction_error_json(err: Any) -> Any:
    """A solders ``TransactionErrorType`` as Solana's JSON (``"AccountNotFound"``,
    ``{"InstructionError": [0, {"Custom": 1}]}`` …), through solders' own serializer."""
    if err is None:
        return None
    from solders.rpc.responses import RpcSimulateTransactionResult

    return json.loads(RpcSimulateTransactionResult(err=err, logs=None, accounts=None, units_consumed=None, return_data=None).to_json())["err"]


# The Display strings of solana's TransactionError / InstructionError for the common cases.
_TRANSACTION_MESSAGES = {
    "AccountInUse": "Account in use",
    "AccountLoadedTwice": "Account loaded twice",
    "AccountNotFound": "Attempt to debit an account but found no record of a prior credit.",
    "ProgramAccountNotFound": "Attempt to load a program that does not exist",
    "InsufficientFundsForFee": "Insufficient funds for fee",
    "InvalidAccountForFee": "This account may not be used to pay transaction fees",
    "AlreadyProcessed": "This transaction has already been processed",
    "BlockhashNotFound": "Blockhash not found",
    "SignatureFailure": "Transaction did not pass signature verification",
    "MissingSignatureForFee": "Transaction requires a fee but has no signature present",
    "InvalidAccountIndex": "Transaction contains an invalid account reference",
    "SanitizeFailure": "Transaction failed to sanitize accounts offsets correctly",
    "UnsupportedVersion": "Transaction version is unsupported",
    "InvalidProgramForExecution": "This program may not be used for executing instructions",
}
_INSTRUCTION_MESSAGES = {
    "GenericError": "generic instruction error",
    "InvalidArgument": "invalid program argument",
    "InvalidInstructionData": "invalid instruction data",
    "InvalidAccountData": "invalid account data for instruction",
    "AccountDataTooSmall": "account data too small for instruction",
    "InsufficientFunds": "insufficient funds for instruction",
    "IncorrectProgramId": "incorrect program id for instruction",
    "MissingRequiredSignature": "missing required signature for instruction",
    "AccountAlreadyInitialized": "instruction requires an uninitialized account",
    "UninitializedAccount": "instruction requires an initialized account",
    "AccountNotExecutable": "instruction expected an executable account",
    "ComputationalBudgetExceeded": "Computational budget exceeded",
    "ProgramFailedToComplete": "Program failed to complete",
    "InvalidSeeds": "Provided seeds do not result in a valid address",
    "IllegalOwner": "Provided owner is not allowed",
}


def transaction_error_message(err_json: Any) -> str:
    """Solana's one-line wording of a transaction error given in its JSON form."""
    if isinstance(err_json, str):
        return _TRANSACTION_MESSAGES.get(err_json, _words(err_json))
    if isinstance(err_json, dict) and len(err_json) == 1:
        ((kind, value),) = err_json.items()
        if kind == "InstructionError" and isinstance(value, list) and len(value) == 2:
            index, inner = value
            return f"Error processing Instruction {index}: {_instruction_message(inner)}"
        if kind == "InsufficientFundsForRent" and isinstance(value, dict):
            return (
                f"Transaction results in an account ({value.get('account_index')}) with insufficient "
                "funds for rent"
            )
        if kind == "DuplicateInstruction":
            return f"Transaction contains a duplicate instruction ({value}) that is not allowed"
        return _words(kind)
    return str(err_json)


def _instruction_message(inner: Any) -> str:
    if isinstance(inner, dict) and "Custom" in inner:
        return f"custom program error: {inner['Custom']:#x}"
    if isinstance(inner, dict) and "BorshIoError" in inner:
        return "Failed to serialize or deserialize account data"
    if isinstance(inner, str):
        return _INSTRUCTION_MESSAGES.get(inner, _words(inner).lower())
    return str(inner)


def _words(name: str) -> str:
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return text[:1].upper() + text[1:].lower()
