"""NEAR JSON-RPC error objects (nearcore's ``RpcError`` shapes) and their HTTP statuses."""

from __future__ import annotations

from typing import Any


class RpcFailure(Exception):
    """An error answer: ``body`` is the JSON-RPC ``error`` object, ``status`` the HTTP status."""

    def __init__(self, body: dict[str, Any], status: int = 200) -> None:
        super().__init__(body.get("cause", {}).get("name", body.get("name")))
        self.body = body
        self.status = status


def handler_error(cause: str, info: dict[str, Any] | None = None, data: Any = None,
                  status: int = 200) -> RpcFailure:
    """``HANDLER_ERROR`` with a cause such as ``UNKNOWN_ACCOUNT`` or ``INVALID_TRANSACTION``."""
    body = {"name": "HANDLER_ERROR", "cause": {"name": cause, "info": info or {}},
            "code": -32000, "message": "Server error", "data": data if data is not None else cause}
    return RpcFailure(body, status)


def parse_error(message: str) -> RpcFailure:
    body = {"name": "REQUEST_VALIDATION_ERROR",
            "cause": {"name": "PARSE_ERROR", "info": {"error_message": message}},
            "code": -32700, "message": "Parse error", "data": message}
    return RpcFailure(body, 400)


def method_not_found(method: str) -> RpcFailure:
    body = {"name": "REQUEST_VALIDATION_ERROR",
            "cause": {"name": "METHOD_NOT_FOUND", "info": {"method_name": method}},
            "code": -32601, "message": "Method not found", "data": method}
    return RpcFailure(body, 400)


def internal_error(message: str) -> RpcFailure:
    body = {"name": "INTERNAL_ERROR", "cause": {"name": "INTERNAL_ERROR", "info": {"error_message": message}},
            "code": -32000, "message": "Server error", "data": message}
    return RpcFailure(body, 500)


def invalid_transaction(error: Any) -> RpcFailure:
    """``INVALID_TRANSACTION`` carrying NEAR's ``InvalidTxError`` JSON."""
    data = {"TxExecutionError": {"InvalidTxError": error}}
    return handler_error("INVALID_TRANSACTION", data, data)


def timeout_error() -> RpcFailure:
    return handler_error("TIMEOUT_ERROR", {}, "Timeout", status=408)


def unknown_block() -> RpcFailure:
    return handler_error("UNKNOWN_BLOCK", {}, "DB Not Found Error: block not found")
