"""The JSON-RPC methods of the local Solana node, with Solana's parameter rules and shapes.

Each method takes the request's ``params`` (a list) and returns the ``result`` value or raises
:class:`~.errors.RpcMethodError`. Commitment settings are accepted and ignored: every block of
the single local node is final at once.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import Any

import base58

from .errors import (
    MIN_CONTEXT_SLOT_NOT_REACHED,
    SEND_TRANSACTION_PREFLIGHT_FAILURE,
    TRANSACTION_SIGNATURE_VERIFICATION_FAILURE,
    RpcMethodError,
    invalid_param,
    invalid_params,
    transaction_error_message,
)
from .node import MAX_AIRDROP_LAMPORTS, LocalSolanaNode
from .params import (
    config_param,
    decode,
    hash_param,
    is_uint,
    pubkey_param,
    require,
    signature_param,
    simulation_json,
    transaction_param,
    ui_amount,
)

API_VERSION = "2.2.0"
"""The Solana RPC API version this server follows (reported in contexts and getVersion)."""
FEATURE_SET = 3294202862
MAX_MULTIPLE_ACCOUNTS = 100
MAX_SIGNATURE_STATUSES = 256
MAX_BASE58_ACCOUNT_DATA = 128
TOKEN_PROGRAMS = ("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA", "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")

Method = Callable[[LocalSolanaNode, list[Any]], Any]


class Methods:
    """Dispatch table: ``Methods(node).call(name, params)``."""

    def __init__(self, node: LocalSolanaNode) -> None:
        self.node = node
        self.table: dict[str, Method] = {
            name[len("rpc_"):]: getattr(type(self), name) for name in dir(type(self)) if name.startswith("rpc_")
        }

    def call(self, method: str, params: list[Any]) -> Any:
        """Run ``method``.

        Raises
        ------
        RpcMethodError
        """
        impl = self.table.get(method)
        if impl is None:
            raise RpcMethodError(-32601, "Method not found")
        return impl(self, params)

    # -- helpers ---------------------------------------------------------------------------

    def _context(self, value: Any) -> dict[str, Any]:
        return {"context": {"apiVersion": API_VERSION, "slot": self.node.slot}, "value": value}

    def _check_min_context_slot(self, config: Mapping[str, Any]) -> None:
        wanted = config.get("minContextSlot")
        if wanted is not None:
            if not is_uint(wanted):
                raise invalid_params("minContextSlot must be an unsigned integer")
            if wanted > self.node.slot:
                raise RpcMethodError(MIN_CONTEXT_SLOT_NOT_REACHED, "Minimum context slot has not been reached",
                                     {"contextSlot": self.node.slot})

    # -- cluster ---------------------------------------------------------------------------

    def rpc_getHealth(self, params: list[Any]) -> str:
        return "ok"

    def rpc_getVersion(self, params: list[Any]) -> dict[str, Any]:
        return {"solana-core": f"{API_VERSION} (chainsig LiteSVM)", "feature-set": FEATURE_SET}

    def rpc_getGenesisHash(self, params: list[Any]) -> str:
        return self.node.genesis_hash

    def rpc_getSlot(self, params: list[Any]) -> int:
        self._check_min_context_slot(config_param(params, 0))
        return self.node.slot

    def rpc_getBlockHeight(self, params: list[Any]) -> int:
        self._check_min_context_slot(config_param(params, 0))
        return self.node.slot

    def rpc_getTransactionCount(self, params: list[Any]) -> int:
        return self.node.transaction_count

    def rpc_getEpochInfo(self, params: list[Any]) -> dict[str, Any]:
        with self.node.lock:
            schedule = self.node.svm.get_epoch_schedule()
        slot = self.node.slot
        # Epoch arithmetic of Solana's EpochSchedule (warm-up epochs double from 32 slots).
        if schedule.warmup and slot < schedule.first_normal_slot:
            epoch, first, length = 0, 0, 32
            while first + length <= slot:
                first, length, epoch = first + length, length * 2, epoch + 1
            index, in_epoch = slot - first, length
        else:
            offset = slot - schedule.first_normal_slot
            epoch = schedule.first_normal_epoch + offset // schedule.slots_per_epoch
            index, in_epoch = offset % schedule.slots_per_epoch, schedule.slots_per_epoch
        return {
            "absoluteSlot": slot, "blockHeight": slot, "epoch": epoch, "slotIndex": index,
            "slotsInEpoch": in_epoch, "transactionCount": self.node.transaction_count,
        }

    def rpc_getLatestBlockhash(self, params: list[Any]) -> dict[str, Any]:
        self._check_min_context_slot(config_param(params, 0))
        blockhash, last_valid = self.node.latest_blockhash()
        return self._context({"blockhash": blockhash, "lastValidBlockHeight": last_valid})

    def rpc_isBlockhashValid(self, params: list[Any]) -> dict[str, Any]:
        require(params, 1)
        blockhash = hash_param(params[0])
        return self._context(self.node.is_blockhash_valid(blockhash))

    def rpc_getFeeForMessage(self, params: list[Any]) -> dict[str, Any]:
        from solders.message import from_bytes_versioned

        from ..ledger import estimate_fee

        require(params, 1)
        raw = decode(params[0], "base64", "solana_message::VersionedMessage")
        try:
            msg = from_bytes_versioned(raw)
        except Exception:  # solders' own deserialization error
            raise invalid_params("invalid message: failed to deserialize") from None
        if not self.node.is_blockhash_valid(str(msg.recent_blockhash)):
            return self._context(None)
        return self._context(estimate_fee(raw))

    def rpc_getMinimumBalanceForRentExemption(self, params: list[Any]) -> int:
        require(params, 1)
        size = params[0]
        if not is_uint(size) or size > 10 * 1024 * 1024:
            raise invalid_params("data length must be an unsigned integer of at most 10485760 bytes")
        return self.node.rent_exempt_minimum(size)

    def rpc_getRecentPrioritizationFees(self, params: list[Any]) -> list[Any]:
        return []

    # -- accounts --------------------------------------------------------------------------

    def rpc_getBalance(self, params: list[Any]) -> dict[str, Any]:
        require(params, 1)
        key = pubkey_param(params[0])
        self._check_min_context_slot(config_param(params, 1))
        account = self.node.get_account(key)
        return self._context(account.lamports if account is not None else 0)

    def rpc_getAccountInfo(self, params: list[Any]) -> dict[str, Any]:
        require(params, 1)
        key = pubkey_param(params[0])
        config = config_param(params, 1)
        self._check_min_context_slot(config)
        return self._context(self._account_json(self.node.get_account(key), config))

    def rpc_getMultipleAccounts(self, params: list[Any]) -> dict[str, Any]:
        require(params, 1)
        if not isinstance(params[0], list):
            raise invalid_params("invalid type: expected an array of base58 pubkeys")
        if len(params[0]) > MAX_MULTIPLE_ACCOUNTS:
            raise invalid_params(f"Too many inputs provided; max {MAX_MULTIPLE_ACCOUNTS}")
        keys = [pubkey_param(p) for p in params[0]]
        config = config_param(params, 1)
        self._check_min_context_slot(config)
        return self._context([self._account_json(self.node.get_account(k), config) for k in keys])

    def rpc_getTokenAccountBalance(self, params: list[Any]) -> dict[str, Any]:
        from solders.token.state import TokenAccount

        require(params, 1)
        key = pubkey_param(params[0])
        account = self.node.get_account(key)
        if account is None:
            raise invalid_param("could not find account")
        if str(account.owner) not in TOKEN_PROGRAMS or len(account.data) < 165:
            raise invalid_param("not a Token account")
        try:
            token = TokenAccount.from_bytes(bytes(account.data)[:165])
        except ValueError:
            raise invalid_param("not a Token account") from None
        decimals = self._mint_decimals(token.mint)
        return self._context(ui_amount(token.amount, decimals))

    def rpc_getTokenSupply(self, params: list[Any]) -> dict[str, Any]:
        from solders.token.state import Mint

        require(params, 1)
        key = pubkey_param(params[0])
        account = self.node.get_account(key)
        if account is None:
            raise invalid_param("could not find mint")
        if str(account.owner) not in TOKEN_PROGRAMS or len(account.data) < 82:
            raise invalid_param("not a Token mint")
        try:
            mint = Mint.from_bytes(bytes(account.data)[:82])
        except ValueError:
            raise invalid_param("not a Token mint") from None
        return self._context(ui_amount(mint.supply, mint.decimals))

    def _mint_decimals(self, mint_key: Any) -> int:
        from solders.token.state import Mint

        account = self.node.get_account(mint_key)
        if account is None or str(account.owner) not in TOKEN_PROGRAMS or len(account.data) < 82:
            raise invalid_param("Token mint could not be unpacked")
        return Mint.from_bytes(bytes(account.data)[:82]).decimals

    def _account_json(self, account: Any, config: Mapping[str, Any]) -> dict[str, Any] | None:
        if account is None:
            return None
        encoding = config.get("encoding") or "base58"
        data = bytes(account.data)
        data_slice = config.get("dataSlice")
        if data_slice is not None:
            if not isinstance(data_slice, Mapping) or not is_uint(data_slice.get("offset")) or not is_uint(data_slice.get("length")):
                raise invalid_params("dataSlice needs unsigned integers offset and length")
            data = data[data_slice["offset"]: data_slice["offset"] + data_slice["length"]]
        parsed = self._parsed_token_data(account) if encoding == "jsonParsed" and data_slice is None else None
        if parsed is not None:
            encoded: Any = parsed
        elif encoding in ("base64", "jsonParsed"):
            # jsonParsed falls back to base64 for data this node does not parse, as Solana's
            # does for programs it has no parser for.
            encoded = [base64.b64encode(data).decode(), "base64"]
        elif encoding == "base58":
            if len(data) > MAX_BASE58_ACCOUNT_DATA:
                raise invalid_params(
                    "Encoded binary (base 58) data should be less than 128 bytes, please use Base64 encoding."
                )
            encoded = [base58.b58encode(data).decode(), "base58"]
        else:
            raise invalid_params(f"unsupported account encoding {encoding!r} (use base64, base58 or jsonParsed)")
        return {
            "data": encoded, "executable": account.executable, "lamports": account.lamports,
            "owner": str(account.owner), "rentEpoch": account.rent_epoch, "space": len(account.data),
        }

    def _parsed_token_data(self, account: Any) -> dict[str, Any] | None:
        """Solana's ``jsonParsed`` form of an SPL token account or mint (else ``None``)."""
        from solders.token.state import Mint, TokenAccount, TokenAccountState

        owner = str(account.owner)
        if owner not in TOKEN_PROGRAMS:
            return None
        data = bytes(account.data)
        program = "spl-token" if owner == TOKEN_PROGRAMS[0] else "spl-token-2022"
        try:
            if len(data) >= 165:
                token = TokenAccount.from_bytes(data[:165])
                state = ("initialized" if token.state == TokenAccountState.Initialized
                         else "frozen" if token.state == TokenAccountState.Frozen else "uninitialized")
                info: dict[str, Any] = {
                    "isNative": token.is_native is not None, "mint": str(token.mint), "owner": str(token.owner),
                    "state": state,
                    "tokenAmount": ui_amount(token.amount, self._mint_decimals(token.mint)),
                }
                if token.delegate is not None:
                    info["delegate"] = str(token.delegate)
                    info["delegatedAmount"] = ui_amount(token.delegated_amount, info["tokenAmount"]["decimals"])
                kind = "account"
            elif len(data) >= 82:
                mint = Mint.from_bytes(data[:82])
                info = {
                    "decimals": mint.decimals, "isInitialized": mint.is_initialized, "supply": str(mint.supply),
                    "mintAuthority": str(mint.mint_authority) if mint.mint_authority else None,
                    "freezeAuthority": str(mint.freeze_authority) if mint.freeze_authority else None,
                }
                kind = "mint"
            else:
                return None
        except (ValueError, RpcMethodError):
            return None
        return {"program": program, "parsed": {"info": info, "type": kind}, "space": len(data)}

    # -- transactions ----------------------------------------------------------------------

    def rpc_requestAirdrop(self, params: list[Any]) -> str:
        require(params, 2)
        key = pubkey_param(params[0])
        lamports = params[1]
        if not is_uint(lamports) or lamports == 0 or lamports > MAX_AIRDROP_LAMPORTS:
            raise invalid_params(f"airdrop lamports must be an integer from 1 to {MAX_AIRDROP_LAMPORTS}")
        signature, err = self.node.airdrop(key, lamports)
        if err is not None:
            raise RpcMethodError(-32603, f"airdrop request failed: {transaction_error_message(err)}")
        return signature

    def rpc_sendTransaction(self, params: list[Any]) -> str:
        require(params, 1)
        config = config_param(params, 1)
        tx = transaction_param(params[0], config.get("encoding", "base58"))
        self._check_min_context_slot(config)
        signature = str(tx.signatures[0])
        skip_preflight = bool(config.get("skipPreflight", False))
        if not skip_preflight:
            if not all(tx.verify_with_results()):
                raise RpcMethodError(TRANSACTION_SIGNATURE_VERIFICATION_FAILURE, "Transaction signature verification failure")
            self._preflight(tx)
        elif not all(tx.verify_with_results()) or not self.node.is_blockhash_valid(str(tx.message.recent_blockhash)):
            return signature  # as on a cluster: accepted by the RPC, dropped by the leader
        outcome = self.node.process(tx)
        if not outcome.landed and not skip_preflight:  # pragma: no cover - preflight caught it
            raise self._preflight_error(outcome.err, outcome.logs, outcome.units_consumed)
        return signature

    def _preflight(self, tx: Any) -> None:
        if not self.node.is_blockhash_valid(str(tx.message.recent_blockhash)):
            raise self._preflight_error("BlockhashNotFound", [], 0)
        if self.node.status(str(tx.signatures[0])) is not None:
            raise self._preflight_error("AlreadyProcessed", [], 0)
        outcome = self.node.simulate(tx)
        if outcome.err is not None:
            raise self._preflight_error(outcome.err, outcome.logs, outcome.units_consumed)

    def _preflight_error(self, err: Any, logs: list[str], units: int) -> RpcMethodError:
        return RpcMethodError(
            SEND_TRANSACTION_PREFLIGHT_FAILURE,
            f"Transaction simulation failed: {transaction_error_message(err)}",
            simulation_json(err, logs, units),
        )

    def rpc_simulateTransaction(self, params: list[Any]) -> dict[str, Any]:
        from solders.message import MessageV0
        from solders.transaction import VersionedTransaction

        require(params, 1)
        config = config_param(params, 1)
        tx = transaction_param(params[0], config.get("encoding", "base58"))
        self._check_min_context_slot(config)
        sig_verify = bool(config.get("sigVerify", False))
        replace = bool(config.get("replaceRecentBlockhash", False))
        if sig_verify and replace:
            raise invalid_params("sigVerify may not be used with replaceRecentBlockhash")
        if sig_verify and not all(tx.verify_with_results()):
            raise RpcMethodError(TRANSACTION_SIGNATURE_VERIFICATION_FAILURE, "Transaction signature verification failure")
        replacement = None
        if replace:
            from solders.hash import Hash
            from solders.message import Message

            blockhash, last_valid = self.node.latest_blockhash()
            msg = tx.message
            if isinstance(msg, Message):
                msg = Message.new_with_compiled_instructions(
                    msg.header.num_required_signatures, msg.header.num_readonly_signed_accounts,
                    msg.header.num_readonly_unsigned_accounts, msg.account_keys, Hash.from_string(blockhash), msg.instructions,
                )
            else:
                msg = MessageV0(msg.header, msg.account_keys, Hash.from_string(blockhash), msg.instructions, msg.address_table_lookups)
            tx = VersionedTransaction.populate(msg, tx.signatures)
            replacement = {"blockhash": blockhash, "lastValidBlockHeight": last_valid}
        elif not self.node.is_blockhash_valid(str(tx.message.recent_blockhash)):
            return self._context({**simulation_json("BlockhashNotFound", [], 0), "replacementBlockhash": None})
        outcome = self.node.simulate(tx)
        value = simulation_json(outcome.err, outcome.logs, outcome.units_consumed)
        value["replacementBlockhash"] = replacement
        value["fee"] = outcome.fee
        return self._context(value)

    def rpc_getSignatureStatuses(self, params: list[Any]) -> dict[str, Any]:
        require(params, 1)
        if not isinstance(params[0], list):
            raise invalid_params("invalid type: expected an array of base58 signatures")
        if len(params[0]) > MAX_SIGNATURE_STATUSES:
            raise invalid_params(f"Too many inputs provided; max {MAX_SIGNATURE_STATUSES}")
        config_param(params, 1)
        out = []
        for item in params[0]:
            status = self.node.status(signature_param(item))
            if status is None:
                out.append(None)
                continue
            out.append({
                "slot": status.slot, "confirmations": None, "err": status.err,
                "status": {"Ok": None} if status.err is None else {"Err": status.err},
                "confirmationStatus": "finalized",
            })
        return self._context(out)
