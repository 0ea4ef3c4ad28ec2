"""Receipt execution: NEAR's action semantics and the signer contract's calls.

A receipt's actions apply atomically: when one fails, every change of the receipt is undone
and its deposits go back to the predecessor in a refund receipt (predecessor ``system``), as
on NEAR. Yields created by ``sign`` become callback receipts (``is_promise_yield``) that run
when ``respond`` resumes them or when they time out.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import base58

from ..contract import CallEnv, ContractPanic, SignerContract
from . import gas
from .ids import derive_id
from chainsig_core.jsonlimits import MAX_JSON_DEPTH, nesting_exceeds
from .ledger import ACCESS_KEY_NONCE_RANGE_MULTIPLIER, Ledger
from .transactions import action_kind

def guard_call_args(args: bytes) -> None:
    """Refuse call arguments nested deeper than near-sdk (serde_json) would decode.

    The contract decodes its arguments with Python's ``json``, which would hit the
    interpreter's recursion limit on such input: the call must panic as it would on NEAR.

    Raises
    ------
    ContractPanic
        near-sdk's deserialization failure.
    """
    if nesting_exceeds(args):
        from ..contract.rules import deserialize_error

        raise deserialize_error(f"recursion limit exceeded (nested deeper than {MAX_JSON_DEPTH} levels)")


SYSTEM_ACCOUNT = "system"
_IMPLICIT = re.compile(r"[0-9a-f]{64}")


class ActionFailure(Exception):
    def __init__(self, index: int, kind: Any) -> None:
        super().__init__(str(kind))
        self.index = index
        self.kind = kind


def new_receipt(receipt_id: str, predecessor: str, receiver: str, signer_id: str,
                signer_key: str, actions: list[Any], tx_hash: str, **extra: Any) -> dict[str, Any]:
    receipt = {"receipt_id": receipt_id, "predecessor_id": predecessor, "receiver_id": receiver,
               "signer_id": signer_id, "signer_public_key": signer_key,
               "gas_price": str(gas.GAS_PRICE), "actions": actions, "tx_hash": tx_hash,
               "is_promise_yield": False, "input_data_ids": []}
    receipt.update(extra)
    return receipt


def receipt_view(receipt: dict[str, Any]) -> dict[str, Any]:
    """NEAR's ``ReceiptView`` JSON."""
    return {
        "predecessor_id": receipt["predecessor_id"], "receiver_id": receipt["receiver_id"],
        "receipt_id": receipt["receipt_id"], "priority": 0,
        "receipt": {"Action": {
            "signer_id": receipt["signer_id"], "signer_public_key": receipt["signer_public_key"],
            "gas_price": receipt["gas_price"], "output_data_receivers": [],
            "input_data_ids": receipt["input_data_ids"], "actions": receipt["actions"],
            "is_promise_yield": receipt["is_promise_yield"]}},
    }


@dataclass
class Effects:
    """What executing a receipt produced besides state changes."""

    logs: list[str] = field(default_factory=list)
    children: list[dict[str, Any]] = field(default_factory=list)
    yields: list[dict[str, Any]] = field(default_factory=list)
    resumes: list[tuple[str, bytes]] = field(default_factory=list)
    status: Any = None
    gas_burnt: int = 0


class Runtime:
    """Executes receipts against a :class:`Ledger` and the contract account's contract."""

    def __init__(self, ledger: Ledger, contract: SignerContract, contract_id: str,
                 yield_exists: Callable[[str], bool], registrar: str | None = None) -> None:
        self.ledger = ledger
        self.contract = contract
        self.contract_id = contract_id
        self.yield_exists = yield_exists
        self.registrar = registrar

    def execute(self, receipt: dict[str, Any], height: int) -> Effects:
        """Apply ``receipt`` at ``height`` and return its effects (status in NEAR's JSON)."""
        system = receipt["predecessor_id"] == SYSTEM_ACCOUNT
        effects = Effects(gas_burnt=0 if system else gas.RECEIPT_BASE_GAS)
        receiver = receipt["receiver_id"]
        saved_account = copy.deepcopy(self.ledger.accounts.get(receiver))
        saved_keys = {k: copy.deepcopy(v) for k, v in self.ledger.keys.items() if k[0] == receiver}
        saved_contract = copy.deepcopy(self.contract.state) if (
            receiver == self.contract_id and len(receipt["actions"]) > 1) else None
        try:
            self._apply(receipt, height, effects)
        except ActionFailure as failure:
            self._restore(receiver, saved_account, saved_keys)
            if saved_contract is not None:
                self.contract.state = saved_contract
            effects.children = []
            effects.yields.clear()
            effects.resumes.clear()
            effects.status = {"Failure": {"ActionError": {"index": failure.index, "kind": failure.kind}}}
            prepaid = sum(int(a["FunctionCall"]["gas"]) for a in receipt["actions"]
                          if action_kind(a) == "FunctionCall")
            unused = prepaid - (effects.gas_burnt - gas.RECEIPT_BASE_GAS)
            if unused > 0 and not receipt["is_promise_yield"]:
                self.ledger.credit(receipt["signer_id"], gas.tokens(unused))
            deposit = _deposits(receipt["actions"])
            if deposit and receipt["predecessor_id"] != SYSTEM_ACCOUNT:
                effects.children.append(self._refund(receipt, receipt["predecessor_id"], deposit, "deposit"))
        return effects

    def _restore(self, receiver: str, account: Any, keys: dict[tuple[str, str], Any]) -> None:
        if account is None:
            self.ledger.accounts.pop(receiver, None)
        else:
            self.ledger.accounts[receiver] = account
        self.ledger.dirty_accounts.add(receiver)
        for key in [k for k in self.ledger.keys if k[0] == receiver]:
            self.ledger.keys.pop(key)
            self.ledger.dirty_keys.add(key)
        for key, value in keys.items():
            self.ledger.keys[key] = value
            self.ledger.dirty_keys.add(key)

    def _refund(self, receipt: dict[str, Any], to: str, amount: int, why: str) -> dict[str, Any]:
        return new_receipt(derive_id(receipt["receipt_id"], "refund", why), SYSTEM_ACCOUNT, to,
                           SYSTEM_ACCOUNT, "ed25519:11111111111111111111111111111111",
                           [{"Transfer": {"deposit": str(amount)}}], receipt["tx_hash"])

    def _apply(self, receipt: dict[str, Any], height: int, effects: Effects) -> None:
        receiver, predecessor = receipt["receiver_id"], receipt["predecessor_id"]
        created = False
        status: Any = {"SuccessValue": ""}
        for index, action in enumerate(receipt["actions"]):
            kind = action_kind(action)
            if kind == "CreateAccount":
                self._create_account(index, receiver, predecessor)
                created = True
                continue
            if receiver not in self.ledger.accounts:
                if kind == "Transfer" and index == 0 and _IMPLICIT.fullmatch(receiver):
                    self._create_implicit(receiver)
                    created = True
                else:
                    raise ActionFailure(index, {"AccountDoesNotExist": {"account_id": receiver}})
            if kind in ("AddKey", "DeleteKey") and predecessor != receiver and not created:
                raise ActionFailure(index, {"ActorNoPermission": {"account_id": receiver,
                                                                  "actor_id": predecessor}})
            if kind == "Transfer":
                self.ledger.credit(receiver, int(action["Transfer"]["deposit"]))
            elif kind == "AddKey":
                body = action["AddKey"]
                if self.ledger.key(receiver, body["public_key"]) is not None:
                    raise ActionFailure(index, {"AddKeyAlreadyExists": {
                        "account_id": receiver, "public_key": body["public_key"]}})
                self.ledger.set_key(receiver, body["public_key"], {
                    "nonce": max(height - 1, 0) * ACCESS_KEY_NONCE_RANGE_MULTIPLIER,
                    "permission": body["access_key"]["permission"]})
            elif kind == "DeleteKey":
                key = action["DeleteKey"]["public_key"]
                if self.ledger.key(receiver, key) is None:
                    raise ActionFailure(index, {"DeleteKeyDoesNotExist": {
                        "account_id": receiver, "public_key": key}})
                self.ledger.set_key(receiver, key, None)
            elif kind == "FunctionCall":
                status = self._function_call(index, receipt, action["FunctionCall"], height, effects)
        effects.status = status

    def _create_account(self, index: int, account: str, predecessor: str) -> None:
        if account in self.ledger.accounts:
            raise ActionFailure(index, {"AccountAlreadyExists": {"account_id": account}})
        if _IMPLICIT.fullmatch(account):
            raise ActionFailure(index, {"OnlyImplicitAccountCreationAllowed": {"account_id": account}})
        is_sub = account.endswith("." + predecessor)
        top_level = "." not in account
        if not (is_sub and "." not in account[: -len(predecessor) - 1]) and not (
            top_level and predecessor == self.registrar
        ):
            raise ActionFailure(index, {"CreateAccountNotAllowed": {
                "account_id": account, "predecessor_id": predecessor}})
        self.ledger.create_account(account)

    def _create_implicit(self, account: str) -> None:
        self.ledger.create_account(account)
        key = "ed25519:" + base58.b58encode(bytes.fromhex(account)).decode()
        self.ledger.set_key(account, key, {"nonce": 0, "permission": "FullAccess"})

    def _function_call(self, index: int, receipt: dict[str, Any], body: dict[str, Any],
                       height: int, effects: Effects) -> Any:
        receiver = receipt["receiver_id"]
        deposit = int(body["deposit"])
        prepaid = int(body["gas"])
        if deposit:
            self.ledger.credit(receiver, deposit)
        if receiver != self.contract_id:
            raise ActionFailure(index, {"FunctionCallError": {"CompilationError": {
                "CodeDoesNotExist": {"account_id": receiver}}}})
        method = body["method_name"]
        cost = gas.method_gas(method)
        if cost > prepaid:
            effects.gas_burnt += prepaid
            raise ActionFailure(index, {"FunctionCallError": {"ExecutionError": "Exceeded the prepaid gas."}})
        effects.gas_burnt += cost
        args = base64.b64decode(body["args"])
        yields: list[dict[str, Any]] = []
        resumes: list[tuple[str, bytes]] = []

        def create_yield(callback: str, callback_args: dict[str, Any]) -> bytes:
            n = len(yields)
            data_id = hashlib.sha256(f"{receipt['receipt_id']}/yield/{n}".encode()).digest()
            callback_gas = self.contract.config[
                "return_signature_and_clean_state_on_success_call_tera_gas"] * gas.TGAS
            callback_receipt = new_receipt(
                derive_id(receipt["receipt_id"], "yield", str(n)), receiver, receiver,
                receipt["signer_id"], receipt["signer_public_key"],
                [{"FunctionCall": {"method_name": callback,
                                   "args": base64.b64encode(json.dumps(callback_args).encode()).decode(),
                                   "gas": callback_gas, "deposit": "0"}}],
                receipt["tx_hash"], is_promise_yield=True,
                input_data_ids=[base58.b58encode(data_id).decode()], yield_data_id=data_id.hex())
            yields.append(callback_receipt)
            return data_id

        def resume_yield(data_id: bytes, payload: bytes) -> bool:
            if not self.yield_exists(data_id.hex()) or data_id.hex() in {d for d, _ in resumes}:
                return False
            resumes.append((data_id.hex(), payload))
            return True

        promise_result = receipt.get("promise_result")
        env = CallEnv(
            current_account_id=receiver, predecessor_account_id=receipt["predecessor_id"],
            signer_account_id=receipt["signer_id"], attached_deposit=deposit, prepaid_gas=prepaid,
            block_height=height, create_yield=create_yield, resume_yield=resume_yield,
            promise_result=None if promise_result is None else base64.b64decode(promise_result),
        )
        try:
            guard_call_args(args)
            result = self.contract.call(method, args, env)
        except ContractPanic as panic:
            effects.logs.extend(panic.logs)
            if panic.message == "MethodNotFound":
                raise ActionFailure(index, {"FunctionCallError": {"MethodResolveError": "MethodNotFound"}}) from None
            raise ActionFailure(index, {"FunctionCallError": {
                "ExecutionError": f"Smart contract panicked: {panic.message}"}}) from None
        effects.logs.extend(result.logs)
        effects.yields.extend(yields)
        effects.resumes.extend(resumes)
        for target, amount in result.transfers:
            self.ledger.debit(receiver, amount)
            refund = new_receipt(derive_id(receipt["receipt_id"], "transfer", target, str(amount)),
                                 receiver, target, receipt["signer_id"], receipt["signer_public_key"],
                                 [{"Transfer": {"deposit": str(amount)}}], receipt["tx_hash"])
            effects.children.append(refund)
        reserved = sum(int(y["actions"][0]["FunctionCall"]["gas"]) for y in yields)
        for n, (call, call_args) in enumerate(result.self_calls):
            child = new_receipt(
                derive_id(receipt["receipt_id"], "call", str(n)), receiver, receiver,
                receipt["signer_id"], receipt["signer_public_key"],
                [{"FunctionCall": {"method_name": call, "deposit": "0",
                                   "args": base64.b64encode(json.dumps(call_args).encode()).decode(),
                                   "gas": self.contract.config["fail_on_timeout_tera_gas"] * gas.TGAS}}],
                receipt["tx_hash"])
            effects.children.append(child)
        unused = prepaid - cost - reserved
        if unused > 0 and receipt["signer_id"] != SYSTEM_ACCOUNT and not receipt["is_promise_yield"]:
            self.ledger.credit(receipt["signer_id"], gas.tokens(unused))
        if yields:
            return {"SuccessReceiptId": yields[0]["receipt_id"]}
        if result.self_calls:
            return {"SuccessReceiptId": effects.children[-1]["receipt_id"]}
        if result.value is None:
            return {"SuccessValue": ""}
        return {"SuccessValue": base64.b64encode(
            json.dumps(result.value, separators=(",", ":")).encode()).decode()}


def _deposits(actions: list[Any]) -> int:
    total = 0
    for action in actions:
        kind = action_kind(action)
        if kind == "Transfer":
            total += int(action["Transfer"]["deposit"])
        elif kind == "FunctionCall":
            total += int(action["FunctionCall"]["deposit"])
    return total
