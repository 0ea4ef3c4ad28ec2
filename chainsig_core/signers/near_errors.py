"""What the NEAR contract signer (:mod:`chainsig_core.signers.near`) makes of near-kit's and the
NEAR RPC's errors, and of a ``sign`` transaction's final outcome.

Everything here is pure: it classifies an exception or an answer and returns chainsig's error;
the signer decides what to do with it.

**Sending** (``send_tx``) must put each ``sign`` request on chain exactly once, so a failed send
falls in one of three kinds:

* *refused* (:func:`refusal`) — the node did not accept the transaction, so nothing is on chain
  and a new one (fresh nonce, fresh block hash) cannot make a second request:
  near-kit's ``InvalidNonceError`` (another sender of the key got there first) and
  ``TransactionExpiredError``; an ``RpcError`` whose data carries nearcore's ``InvalidTxError``
  ``Expired``, ``InvalidChain`` or ``NonceTooLarge`` (unit variants arrive as plain strings);
  and :class:`Unreachable` — the send client's transport (:mod:`.near_transport`) could not
  even connect, so nothing left this process. The signer sends again, a bounded number of times.
* *unknown outcome* (:func:`outcome_unknown`) — the transaction was transmitted but the answer
  was lost: a retryable ``RpcError`` or one coded ``TIMEOUT_ERROR``/``RPC_ERROR`` (near-kit folds
  every transport error into those), an httpx error, ``OSError`` or ``asyncio.TimeoutError``. It
  may be on chain, so the signer waits on its hash and never sends another.
* anything else is final and becomes one error through :func:`translate_error`.

**Errors** (:func:`translate_error`), one line each, never a secret:

* chainsig's own errors pass through unchanged;
* ``AccountNotFoundError`` / ``AccessKeyNotFoundError`` → :class:`CredentialsError` (naming the
  account, or the key and where it came from);
* ``ContractNotFoundError`` → :class:`SigningError` "no signer contract at …";
* ``InsufficientBalanceError`` → :class:`InsufficientFundsError`;
* ``ContractPanicError`` → the contract's refusal: :class:`SignRequestTimedOutError` for
  ``Request has timed out.`` (the only outcome the signer submits again: a timed-out request can
  never be resumed, and re-signing signs the same foreign transaction), else
  :class:`SigningError` with the contract's text;
* ``InvalidNonceError`` / ``TransactionExpiredError`` left after the last attempt, and an
  ``RpcError`` coded ``INVALID_TRANSACTION``/``RPC_ERROR`` that is not about connecting →
  :class:`SigningError` "NEAR rejected the transaction";
* any other ``RpcError``, ``OSError`` or httpx error → :class:`~chainsig_core.errors.RpcError`:
  the node is busy or unreachable, and while waiting for an outcome the signer keeps polling
  the same hash on exactly this class until its deadline;
* any other near-kit error → :class:`SigningError`; anything else → :class:`SigningError`
  "unexpected error …" with its type.

**Views** (:func:`view_error`): a panicking view gets the contract's own text, never the node's
``Server error``. Nearcore ≥ 2 answers a JSON-RPC ``CONTRACT_EXECUTION_ERROR`` with the VM's text
in ``cause.info.vm_error`` (near-kit: a bare ``RpcError``), older nodes a result with an
``error`` string (near-kit: ``ContractPanicError``); both become :class:`ViewPanic`. A missing
view method means the network's ``contract_id`` is not a ``v1.signer``. A ``public_key`` view that
panics for a domain the contract's ``state`` does not list is :class:`UnknownNameError`
(:func:`domain_error`). Remote text is cut to one printable line (:func:`_printable`).

**Outcomes** (:func:`response_of_outcome`): a final ``sign`` outcome is either the contract's JSON
signature response or its refusal, as above.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import Mapping
from typing import Any

from ..credentials import AccessKey
from ..errors import (
    ChainsigError,
    CredentialsError,
    InsufficientFundsError,
    RpcError,
    SignatureResponseError,
    SigningError,
    SignRequestTimedOutError,
    UnknownNameError,
)

TIMEOUT_TEXT = "Request has timed out."
"""The signer contract's panic when the MPC network did not respond within the yield."""


class Unreachable(Exception):
    """``send_tx`` could not connect to the node: nothing was transmitted."""


class ViewPanic(SigningError):
    """A view of the signer contract panicked; ``text`` is the contract's message."""

    def __init__(self, message: str, text: str) -> None:
        super().__init__(message)
        self.text = text


# -- sending -------------------------------------------------------------------------------


def outcome_unknown(exc: BaseException) -> bool:
    """True when a failed ``send_tx`` may still have put the transaction on chain (the answer
    was lost, timed out, or the node was busy) — then its hash is waited on, never resent.

    Parameters
    ----------
    exc:
        What ``send_tx`` raised (not a :func:`refusal`).

    Returns
    -------
    bool
    """
    import httpx
    import near

    if isinstance(exc, near.RpcError):
        return bool(exc.retryable) or getattr(exc, "code", "") in ("TIMEOUT_ERROR", "RPC_ERROR")
    if isinstance(exc, near.NearError):
        return False  # a typed refusal: the node did not accept the transaction
    return isinstance(exc, httpx.HTTPError | OSError | asyncio.TimeoutError)


def refusal(exc: BaseException) -> str | None:
    """Why the node refused a transaction before inclusion — then nothing is on chain and a new
    one may be sent — or None. ``"unreachable"``: the connection failed, nothing was sent.

    Parameters
    ----------
    exc:
        What ``send_tx`` raised.

    Returns
    -------
    str | None
        ``"InvalidNonce"``, ``"Expired"``, ``"InvalidChain"``, ``"NonceTooLarge"``,
        ``"unreachable"``, or None.
    """
    import near

    if isinstance(exc, near.InvalidNonceError):
        return "InvalidNonce"
    if isinstance(exc, near.TransactionExpiredError):
        return "Expired"
    if isinstance(exc, Unreachable):
        return "unreachable"
    data = getattr(exc, "data", None)
    invalid = data.get("data") if isinstance(data, dict) else None
    invalid = invalid.get("TxExecutionError", invalid) if isinstance(invalid, dict) else invalid
    invalid = invalid.get("InvalidTxError") if isinstance(invalid, dict) else None
    # nearcore sends unit variants of InvalidTxError as plain strings ("Expired").
    for name in ("Expired", "InvalidChain", "NonceTooLarge"):
        if invalid == name or (isinstance(invalid, dict) and name in invalid):
            return name
    return None


# -- errors --------------------------------------------------------------------------------


def translate_error(
    exc: BaseException,
    *,
    network: str,
    rpc_url: str,
    contract_id: str,
    key: AccessKey | None = None,
    key_name: str | None = None,
) -> ChainsigError:
    """chainsig's one error for a failed near-kit call (see the module's table).

    Parameters
    ----------
    exc:
        What near-kit (or httpx beneath it) raised.
    network, rpc_url, contract_id:
        The signer's network name, RPC URL and contract, for the message.
    key:
        The access key the call was made for, if any.
    key_name:
        How to name ``key`` in a message (``the key ed25519:… (NEAR_PRIVATE_KEY)``); defaults to
        ``the key <public key>``.

    Returns
    -------
    ChainsigError
        ``exc`` itself when it already is one.
    """
    if isinstance(exc, ChainsigError):
        return exc
    import near

    where = f"{network} ({rpc_url})"
    if isinstance(exc, near.AccountNotFoundError):
        who = key.account_id if key else "the account"
        return CredentialsError(f"account {who} does not exist on {where}")
    if isinstance(exc, near.AccessKeyNotFoundError):
        if key is not None:
            name = key_name or f"the key {key.public_key}"
            return CredentialsError(f"{name} is not an access key of {key.account_id} on {where}")
        return CredentialsError(f"access key not found on {where}")
    if isinstance(exc, near.ContractNotFoundError):
        return SigningError(f"no signer contract at {contract_id} on {where}")
    if isinstance(exc, near.InsufficientBalanceError):
        return InsufficientFundsError(f"not enough NEAR to pay for the sign call: {exc}")
    if isinstance(exc, near.ContractPanicError):
        return _panic_error(exc.panic)
    if isinstance(exc, near.InvalidNonceError | near.TransactionExpiredError):
        return SigningError(f"NEAR rejected the transaction: {exc}")
    if isinstance(exc, near.RpcError):
        code = getattr(exc, "code", "")
        if code in ("INVALID_TRANSACTION", "RPC_ERROR") and "connect" not in str(exc).lower():
            return SigningError(f"NEAR rejected the transaction: {exc}")
        return RpcError(f"NEAR RPC {where} failed: {exc}")
    if isinstance(exc, near.NearError):
        return SigningError(f"NEAR error: {exc}")
    if isinstance(exc, OSError):
        return RpcError(f"cannot reach NEAR RPC {where}: {exc}")
    import httpx

    if isinstance(exc, httpx.HTTPError):
        return RpcError(f"cannot reach NEAR RPC {where}: {exc}")
    return SigningError(f"unexpected error talking to {where}: {type(exc).__name__}: {exc}")


def _panic_error(panic: str) -> SigningError:
    text = panic.removeprefix("Smart contract panicked: ")
    if TIMEOUT_TEXT in text:
        return SignRequestTimedOutError(f"the signer contract answered: {TIMEOUT_TEXT}")
    return SigningError(f"the signer contract refused the request: {text}")


# -- outcomes ------------------------------------------------------------------------------


def response_of_outcome(raw: Mapping[str, Any], tx_hash: str) -> Mapping[str, Any]:
    """The signature response of a final ``sign`` outcome.

    Parameters
    ----------
    raw:
        The ``tx`` RPC result (near-kit's ``model_dump()``) of a final outcome.
    tx_hash:
        The transaction's hash, for messages.

    Returns
    -------
    Mapping[str, Any]
        The contract's JSON response (not verified yet).

    Raises
    ------
    SignRequestTimedOutError
        When the contract answered ``Request has timed out.``.
    SigningError
        When the contract refused the request (its text) or the execution failed otherwise.
    SignatureResponseError
        When it succeeded without a JSON object.
    """
    from near.errors import ContractPanicError
    from near.rpc import raise_for_execution_failure

    try:
        raise_for_execution_failure(dict(raw))
    except ContractPanicError as exc:
        raise _panic_error(exc.panic) from None
    status = raw["status"]
    try:
        value = json.loads(base64.b64decode(status["SuccessValue"]))
    except (ValueError, TypeError, KeyError):
        raise SignatureResponseError(f"NEAR tx {tx_hash} succeeded without a JSON signature") from None
    if not isinstance(value, dict):
        raise SignatureResponseError(f"NEAR tx {tx_hash} returned {type(value).__name__}, not a signature")
    return value


# -- views ---------------------------------------------------------------------------------

_METHOD_NOT_FOUND = "MethodNotFound"

_PANIC_PATTERNS = (
    re.compile(r'panic_msg: "((?:[^"\\]|\\.)*)"'),  # HostError(GuestPanic { panic_msg: "…" })
    re.compile(r'Smart contract panicked: ((?:[^"\\]|\\.)*)'),  # ExecutionError("Smart contract panicked: …")
)


def view_error(exc: BaseException, method: str, *, network: str, contract_id: str) -> SigningError | None:
    """The error of a contract view ``method`` that panicked, or None when ``exc`` is no panic
    (then :func:`translate_error` applies).

    Parameters
    ----------
    exc:
        What near-kit's ``view`` raised.
    method, network, contract_id:
        The view, for the message.

    Returns
    -------
    SigningError | None
        :class:`ViewPanic` with the contract's text, or a :class:`SigningError` saying the
        contract has no such view (not a ``v1.signer``).
    """
    text = view_panic_text(exc)
    if text is None:
        return None
    if text == _METHOD_NOT_FOUND:
        return SigningError(
            f"{contract_id} on {network} has no {method} view: is it a "
            "v1.signer contract? (check the network's contract_id)"
        )
    return ViewPanic(f"{contract_id} on {network} refused the {method} view: {text}", text)


def view_panic_text(exc: BaseException) -> str | None:
    """The contract's message when ``exc`` is near-kit's report of a view that panicked, else
    None. Nearcore ≥ 2 answers a JSON-RPC error ``CONTRACT_EXECUTION_ERROR`` with the VM's text
    in ``cause.info.vm_error`` (near-kit: ``RpcError`` "Server error", the payload in
    ``data``); older nodes a result with an ``error`` string (near-kit: ``ContractPanicError``).

    Parameters
    ----------
    exc:
        What near-kit's ``view`` raised.

    Returns
    -------
    str | None
        One printable line; ``"MethodNotFound"`` when the contract has no such method.
    """
    import near

    vm_error: Any = None
    if isinstance(exc, near.ContractPanicError):
        vm_error = exc.panic
    elif isinstance(exc, near.RpcError) and getattr(exc, "code", "") == "CONTRACT_EXECUTION_ERROR":
        data = exc.data if isinstance(exc.data, dict) else {}
        cause = data.get("cause") if isinstance(data.get("cause"), dict) else {}
        info = cause.get("info") if isinstance(cause.get("info"), dict) else {}
        vm_error = info.get("vm_error") or data.get("data") or ""
    if vm_error is None:
        return None
    vm_error = str(vm_error)
    if "MethodNotFound" in vm_error:
        return _METHOD_NOT_FOUND
    for pattern in _PANIC_PATTERNS:
        found = pattern.search(vm_error)
        if found:
            return _printable(found.group(1).replace('\\"', '"'))
    text = vm_error.partition("wasm execution failed with error: ")[2] or vm_error
    return _printable(text) or "the contract panicked without a message"


def _printable(text: str, limit: int = 300) -> str:
    """Remote text made safe for one terminal line: no control characters (an RPC endpoint
    could send escape sequences), at most ``limit`` characters."""
    text = "".join(c if c.isprintable() else "?" for c in text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def domain_error(
    network: str, domain_id: int, domains: Mapping[int, str] | None, panic: ViewPanic
) -> ChainsigError:
    """The error for a ``public_key`` view of ``domain_id`` that panicked: the domain is
    unknown when the contract's ``state`` does not list it (or, with no readable state,
    when the panic says so) — worded as ``dev`` words it; otherwise the panic itself.

    Parameters
    ----------
    network:
        The network's name.
    domain_id:
        The domain asked for.
    domains:
        :func:`domains_of_state` of the contract's ``state`` view, None when unreadable.
    panic:
        The ``public_key`` view's panic.

    Returns
    -------
    ChainsigError
        :class:`UnknownNameError`, or ``panic``.
    """
    if domains is not None and domain_id not in domains:
        named = [f"{i} ({curve})" for i, curve in sorted(domains.items())]
        if not named:
            has = "no domains yet"
        elif len(named) == 1:
            has = f"domain {named[0]} only"
        else:
            has = f"domains {', '.join(named[:-1])} and {named[-1]}"
        return UnknownNameError(f"network {network!r} has no domain {domain_id}: it has {has}")
    if domains is None and _says_domain_not_found(panic.text):
        return UnknownNameError(
            f"network {network!r} has no domain {domain_id} (the contract answered: {panic.text})"
        )
    return panic


def _says_domain_not_found(text: str) -> bool:
    lowered = text.lower()
    return "domain" in lowered and "not found" in lowered


_CURVE_NAMES = {"secp256k1": "secp256k1", "edwards25519": "ed25519", "ed25519": "ed25519"}


def domains_of_state(state: Any) -> dict[int, str] | None:
    """Domain id → curve name from the contract's ``state`` view (``Running``, or the running
    state a ``Resharing``/``Initializing`` one carries), or None when it lists none.

    Parameters
    ----------
    state:
        The view's JSON value (never trusted: at most 64 objects are looked at).

    Returns
    -------
    dict[int, str] | None
    """
    stack, seen = [state], 0
    while stack and seen < 64:  # the state nests a few levels; never walk a hostile answer long
        node, seen = stack.pop(), seen + 1
        if not isinstance(node, dict):
            continue
        inner = node.get("domains")
        listed = inner.get("domains") if isinstance(inner, dict) else None
        if isinstance(listed, list):
            domains = {}
            for entry in listed:
                if isinstance(entry, dict) and isinstance(entry.get("id"), int):
                    curve = str(entry.get("curve") or entry.get("scheme") or "unknown curve")
                    domains[entry["id"]] = _CURVE_NAMES.get(curve.lower(), curve.lower())
            return domains
        stack.extend(value for value in node.values() if isinstance(value, dict))
    return None
