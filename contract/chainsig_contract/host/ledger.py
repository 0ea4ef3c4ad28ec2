"""Accounts and access keys, and NEAR's transaction validation against them.

Amounts are integers of yoctoNEAR (JSON strings on the wire, never floats).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from chainsig_core.account_id import is_valid_account_id

from . import gas
from .transactions import DecodedTx, action_kind

ACCESS_KEY_NONCE_RANGE_MULTIPLIER = 1_000_000
"""NEAR: a new key's nonce is ``(height - 1) × 10⁶``; a transaction nonce must stay below
``height × 10⁶``."""

EMPTY_CODE_HASH = "11111111111111111111111111111111"
SUPPORTED_ACTIONS = ("CreateAccount", "Transfer", "AddKey", "DeleteKey", "FunctionCall")
MAX_METHOD_NAME_LENGTH = 256
MAX_ARGUMENTS_LENGTH = 4 * 2**20


class InvalidTx(Exception):
    """A transaction rejected before inclusion; ``error`` is NEAR's ``InvalidTxError`` JSON."""

    def __init__(self, error: Any) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True)
class TxCost:
    """What a transaction costs its signer, in gas and yoctoNEAR."""

    burnt_gas: int
    prepaid_gas: int
    deposit: int

    @property
    def total(self) -> int:
        return gas.tokens(self.burnt_gas + self.prepaid_gas) + self.deposit


def tx_cost(tx: DecodedTx) -> TxCost:
    burnt = gas.TX_BASE_GAS + gas.RECEIPT_BASE_GAS  # conversion + executing the first receipt
    prepaid = deposit = 0
    for action in tx.actions:
        kind = action_kind(action)
        if kind == "FunctionCall":
            body = action["FunctionCall"]
            burnt += gas.action_gas(kind, body["method_name"], len(body["args"]) * 3 // 4)
            prepaid += body["gas"]
            deposit += int(body["deposit"])
        elif kind in SUPPORTED_ACTIONS:
            burnt += gas.action_gas(kind)
            if kind == "Transfer":
                deposit += int(action["Transfer"]["deposit"])
    return TxCost(burnt, prepaid, deposit)


def validate_actions(tx: DecodedTx) -> None:
    """Static checks (nearcore's ``ActionsValidation``)."""
    if tx.size > 1_572_864:
        raise InvalidTx({"TransactionSizeExceeded": {"size": tx.size, "limit": 1_572_864}})
    total = 0
    for index, action in enumerate(tx.actions):
        kind = action_kind(action)
        if kind not in SUPPORTED_ACTIONS:
            raise InvalidTx({"ActionsValidation": {"UnsupportedProtocolFeature": {
                "protocol_feature": f"{kind} (not supported by the chainsig devnet)", "version": 0}}})
        if kind == "CreateAccount" and index != 0:
            raise InvalidTx({"ActionsValidation": "CreateAccountActionMustBeFirst"})
        if kind == "FunctionCall":
            body = action["FunctionCall"]
            if body["gas"] == 0:
                raise InvalidTx({"ActionsValidation": "FunctionCallZeroAttachedGas"})
            if len(body["method_name"]) > MAX_METHOD_NAME_LENGTH:
                raise InvalidTx({"ActionsValidation": {"FunctionCallMethodNameLengthExceeded": {
                    "length": len(body["method_name"]), "limit": MAX_METHOD_NAME_LENGTH}}})
            total += body["gas"]
        if kind == "AddKey" and not action["AddKey"]["public_key"].startswith("ed25519:"):
            raise InvalidTx({"ActionsValidation": {"UnsupportedProtocolFeature": {
                "protocol_feature": "non-ed25519 access keys", "version": 0}}})
        if kind == "AddKey":
            permission = action["AddKey"]["access_key"]["permission"]
            if permission != "FullAccess" and "FunctionCall" not in permission:
                raise InvalidTx({"ActionsValidation": {"UnsupportedProtocolFeature": {
                    "protocol_feature": "gas keys", "version": 0}}})
    if total > gas.MAX_TOTAL_PREPAID_GAS:
        raise InvalidTx({"ActionsValidation": {"TotalPrepaidGasExceeded": {
            "total_prepaid_gas": total, "limit": gas.MAX_TOTAL_PREPAID_GAS}}})


class Ledger:
    """Accounts (``{amount, locked, storage_usage, code_hash}``) and access keys
    (``{nonce, permission}``) with the set of entries changed since the last commit."""

    def __init__(self, accounts: dict[str, dict[str, Any]],
                 keys: dict[tuple[str, str], dict[str, Any]]) -> None:
        self.accounts = accounts
        self.keys = keys
        self.dirty_accounts: set[str] = set()
        self.dirty_keys: set[tuple[str, str]] = set()

    # -- mutation -------------------------------------------------------------------------
    def create_account(self, account_id: str, amount: int = 0, code_hash: str = EMPTY_CODE_HASH) -> None:
        self.accounts[account_id] = {"amount": str(amount), "locked": "0",
                                     "storage_usage": 182, "code_hash": code_hash}
        self.dirty_accounts.add(account_id)

    def delete_account(self, account_id: str) -> None:
        self.accounts.pop(account_id, None)
        for key in [k for k in self.keys if k[0] == account_id]:
            self.keys.pop(key)
            self.dirty_keys.add(key)
        self.dirty_accounts.add(account_id)

    def balance(self, account_id: str) -> int:
        return int(self.accounts[account_id]["amount"])

    def credit(self, account_id: str, amount: int) -> None:
        if account_id not in self.accounts:
            return  # NEAR burns a refund to a deleted account
        self.accounts[account_id]["amount"] = str(self.balance(account_id) + amount)
        self.dirty_accounts.add(account_id)

    def debit(self, account_id: str, amount: int) -> None:
        balance = self.balance(account_id)
        if amount > balance:
            raise ValueError("insufficient balance")
        self.accounts[account_id]["amount"] = str(balance - amount)
        self.dirty_accounts.add(account_id)

    def set_key(self, account_id: str, public_key: str, value: dict[str, Any] | None) -> None:
        if value is None:
            self.keys.pop((account_id, public_key), None)
        else:
            self.keys[(account_id, public_key)] = value
        self.dirty_keys.add((account_id, public_key))

    def key(self, account_id: str, public_key: str) -> dict[str, Any] | None:
        return self.keys.get((account_id, public_key))

    def keys_of(self, account_id: str) -> list[tuple[str, dict[str, Any]]]:
        return sorted((k[1], v) for k, v in self.keys.items() if k[0] == account_id)

    def take_dirty(self) -> tuple[list[tuple[str, Any]], list[tuple[tuple[str, str], Any]]]:
        accounts = [(a, self.accounts.get(a)) for a in sorted(self.dirty_accounts)]
        keys = [(k, self.keys.get(k)) for k in sorted(self.dirty_keys)]
        self.dirty_accounts.clear()
        self.dirty_keys.clear()
        return accounts, keys

    # -- transaction validation --------------------------------------------------------------
    def verify(self, tx: DecodedTx, height: int, pending_nonces: Collection[int] = ()) -> TxCost:
        """NEAR's checks of a transaction against the state at submission; nothing changes.

        The nonce is checked against the access key's *committed* nonce (as of the last block),
        as nearcore's pool does: transactions of one key may arrive out of nonce order and are
        included in nonce order (:meth:`include_nonce`). ``pending_nonces`` are the nonces the
        key already has in the mempool: a second transaction with one of them is refused with
        ``InvalidNonce`` — nearcore would accept it and silently drop one of the two at
        inclusion; refusing it early tells the sender. Its ``ak_nonce`` is then the key's
        highest pending nonce (≥ ``tx_nonce``, so the error reads as NEAR's "nonce must exceed
        ak_nonce"), from which a client that resynchronises on ``InvalidNonce`` (near-kit,
        chainsig) picks a free nonce at once.

        Balance and allowance are checked against the state *after* the charges of the pending
        transactions (the chain calls :meth:`charge` at submission), so an accepted transaction
        can always pay at inclusion.

        Raises
        ------
        InvalidTx
            ``SignerDoesNotExist``, ``InvalidAccessKeyError``, ``InvalidNonce``,
            ``NonceTooLarge``, ``NotEnoughBalance`` …
        """
        if tx.signer_id not in self.accounts:
            raise InvalidTx({"SignerDoesNotExist": {"signer_id": tx.signer_id}})
        access_key = self.key(tx.signer_id, tx.public_key)
        if access_key is None:
            raise InvalidTx({"InvalidAccessKeyError": {"AccessKeyNotFound": {
                "account_id": tx.signer_id, "public_key": tx.public_key}}})
        ak_nonce = access_key["nonce"]
        if tx.nonce <= ak_nonce or (tx.strict_nonce and tx.nonce != ak_nonce + 1):
            raise InvalidTx({"InvalidNonce": {"tx_nonce": tx.nonce, "ak_nonce": ak_nonce}})
        if tx.nonce in pending_nonces:
            raise InvalidTx({"InvalidNonce": {"tx_nonce": tx.nonce, "ak_nonce": max(pending_nonces)}})
        upper = (height + 1) * ACCESS_KEY_NONCE_RANGE_MULTIPLIER
        if tx.nonce >= upper:
            raise InvalidTx({"NonceTooLarge": {"tx_nonce": tx.nonce, "upper_bound": upper}})
        cost = tx_cost(tx)
        permission = access_key["permission"]
        if permission != "FullAccess":
            self._check_function_call_key(tx, permission["FunctionCall"], cost)
        balance = self.balance(tx.signer_id)
        if cost.total > balance:
            raise InvalidTx({"NotEnoughBalance": {"signer_id": tx.signer_id,
                                                  "balance": str(balance), "cost": str(cost.total)}})
        return cost

    def charge(self, tx: DecodedTx, cost: TxCost) -> None:
        """Debit a transaction :meth:`verify` accepted: its cost from the signer's balance, its
        gas from a function-call key's allowance. The key's nonce is not touched here."""
        access_key = self.keys[(tx.signer_id, tx.public_key)]
        permission = access_key["permission"]
        if permission != "FullAccess" and permission["FunctionCall"]["allowance"] is not None:
            fc = permission["FunctionCall"]
            left = int(fc["allowance"]) - gas.tokens(cost.burnt_gas + cost.prepaid_gas)
            self.set_key(tx.signer_id, tx.public_key,
                         dict(access_key, permission={"FunctionCall": dict(fc, allowance=str(left))}))
        self.debit(tx.signer_id, cost.total)

    def include_nonce(self, tx: DecodedTx) -> Any | None:
        """At inclusion: re-check the signer and key against the state *now* (the receipts
        executed earlier in the block may have deleted the key) and advance the key's nonce
        to the transaction's. Transactions of one key are included in nonce order, so the key
        ends at the highest included nonce.

        Returns ``None`` when the transaction may be included, else the NEAR
        ``InvalidTxError`` it now fails with (nearcore's chunk producer drops it).
        """
        if tx.signer_id not in self.accounts:
            return {"SignerDoesNotExist": {"signer_id": tx.signer_id}}
        access_key = self.key(tx.signer_id, tx.public_key)
        if access_key is None:
            return {"InvalidAccessKeyError": {"AccessKeyNotFound": {
                "account_id": tx.signer_id, "public_key": tx.public_key}}}
        ak_nonce = access_key["nonce"]
        if tx.nonce <= ak_nonce or (tx.strict_nonce and tx.nonce != ak_nonce + 1):
            return {"InvalidNonce": {"tx_nonce": tx.nonce, "ak_nonce": ak_nonce}}
        self.set_key(tx.signer_id, tx.public_key, dict(access_key, nonce=tx.nonce))
        return None

    def _check_function_call_key(self, tx: DecodedTx, fc: dict[str, Any], cost: TxCost) -> None:
        kinds = [action_kind(a) for a in tx.actions]
        if not kinds or any(k != "FunctionCall" for k in kinds):
            raise InvalidTx({"InvalidAccessKeyError": "RequiresFullAccess"})
        if cost.deposit:
            raise InvalidTx({"InvalidAccessKeyError": "DepositWithFunctionCall"})
        if tx.receiver_id != fc["receiver_id"]:
            raise InvalidTx({"InvalidAccessKeyError": {"ReceiverMismatch": {
                "tx_receiver": tx.receiver_id, "ak_receiver": fc["receiver_id"]}}})
        for action in tx.actions:
            method = action["FunctionCall"]["method_name"]
            if fc["method_names"] and method not in fc["method_names"]:
                raise InvalidTx({"InvalidAccessKeyError": {"MethodNameMismatch": {"method_name": method}}})
        if fc["allowance"] is None:
            return
        allowance = int(fc["allowance"])
        needed = gas.tokens(cost.burnt_gas + cost.prepaid_gas)
        if needed > allowance:
            raise InvalidTx({"InvalidAccessKeyError": {"NotEnoughAllowance": {
                "account_id": tx.signer_id, "public_key": tx.public_key,
                "allowance": str(allowance), "cost": str(needed)}}})


def validate_ids(tx: DecodedTx) -> None:
    if not is_valid_account_id(tx.signer_id):
        raise InvalidTx({"InvalidSignerId": {"signer_id": tx.signer_id}})
    if not is_valid_account_id(tx.receiver_id):
        raise InvalidTx({"InvalidReceiverId": {"receiver_id": tx.receiver_id}})
