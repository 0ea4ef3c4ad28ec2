"""A NEAR JSON-RPC server on loopback that answers in exactly the shapes NEAR's RPC returns
(docs.near.org, "RPC API": query view_access_key / call_function, block, send_tx, tx, and the
HANDLER_ERROR envelopes), backed by a tiny model of v1.signer that signs with the dev key.

It verifies what a real node verifies for these tests: the transaction's ed25519 signature over
its hash, the access key, the nonce, the block hash, the deposit and the sign arguments.

Its contract has four domains, as one after ``vote_add_domains`` would: 0 (secp256k1) and 1
(ed25519) with the dev root keys, and added domains 2 (secp256k1) and 3 (ed25519) with root
secrets of their own. Like v1.signer it refuses a payload variant that is not its domain's and
an unknown domain.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import base58
import pytest

from chainsig_core.config import register_network
from chainsig_core.credentials import AccessKey, generate_access_key, write_access_key
from chainsig_core.keys import Curve
from chainsig_core.signers.dev import (
    dev_root_public_key,
    dev_root_secret,
    ecdsa_sign_with_scalar,
    ed25519_sign_with_scalar,
)
from chainsig_core.kdf import derive_secret_key

CONTRACT = "v1.signer-dev.testnet"
BLOCK_HASH = base58.b58encode(hashlib.sha256(b"block").digest()).decode()


def handler_error(name: str, info: dict[str, Any] | None = None, data: Any = None) -> dict[str, Any]:
    return {
        "name": "HANDLER_ERROR",
        "cause": {"name": name, "info": info or {}},
        "code": -32000,
        "message": "Server error",
        "data": data if data is not None else name,
    }


DOMAIN_SEEDS = {0: None, 1: None, 2: "fake-near-domain-2", 3: "fake-near-domain-3"}
"""Domain → the dev seed its root secret comes from (None: the default dev seed)."""
DOMAIN_CURVES = {0: Curve.SECP256K1, 1: Curve.ED25519, 2: Curve.SECP256K1, 3: Curve.ED25519}


def domain_root_secret(domain_id: int) -> int:
    return dev_root_secret(DOMAIN_CURVES[domain_id], DOMAIN_SEEDS[domain_id])


def domain_root_public_key(domain_id: int):
    return dev_root_public_key(DOMAIN_CURVES[domain_id], DOMAIN_SEEDS[domain_id])


@dataclass
class FakeNear:
    """The node's state and the knobs a test turns."""

    keys: dict[str, tuple[str, int, str]] = field(default_factory=dict)  # pk -> (account, nonce, perm)
    txs: dict[str, dict[str, Any]] = field(default_factory=dict)
    pending_polls: int = 1  # tx polls answered with TIMEOUT_ERROR before the outcome
    mode: str = "ok"  # ok | timeout | timeout-once | garbage-signature
    root_override: str | None = None
    foreign_keys: dict[int, str] = field(default_factory=dict)  # domains of other curves (bls12381)
    state_view: bool = True  # False: the contract answers no ``state`` view (an older contract)
    sign_calls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_key(self, key: AccessKey, permission: str = "FullAccess") -> None:
        self.keys[key.public_key.to_near_string()] = (key.account_id, 100, permission)

    # -- RPC methods ------------------------------------------------------------------------

    def rpc(self, method: str, params: Any) -> tuple[str, Any]:
        if method == "block":
            return "result", {"author": "node0", "header": {"height": 1000, "hash": BLOCK_HASH, "prev_hash": BLOCK_HASH,
                                                         "timestamp": 1_700_000_000_000_000_000, "random_value": BLOCK_HASH},
                              "chunks": []}
        if method == "query":
            return self.query(params)
        if method == "send_tx":
            return self.send_tx(params)
        if method == "tx":
            return self.tx(params)
        return "error", {"name": "REQUEST_VALIDATION_ERROR", "cause": {"name": "METHOD_NOT_FOUND", "info": {"method_name": method}},
                         "code": -32601, "message": "Method not found", "data": method}

    def query(self, params: dict[str, Any]) -> tuple[str, Any]:
        kind = params.get("request_type")
        if kind == "view_access_key":
            entry = self.keys.get(params["public_key"])
            if entry is None or entry[0] != params["account_id"]:
                if params["account_id"] not in {a for a, _, _ in self.keys.values()}:
                    return "error", handler_error("UNKNOWN_ACCOUNT", {"requested_account_id": params["account_id"], "block_height": 1000, "block_hash": BLOCK_HASH})
                return "error", handler_error("UNKNOWN_ACCESS_KEY", {"public_key": params["public_key"], "block_height": 1000, "block_hash": BLOCK_HASH})
            permission: Any = "FullAccess" if entry[2] == "FullAccess" else {
                "FunctionCall": {"allowance": "250000000000000000000000", "receiver_id": CONTRACT, "method_names": []}}
            return "result", {"nonce": entry[1], "permission": permission, "block_height": 1000, "block_hash": BLOCK_HASH}
        if kind == "call_function":
            args = json.loads(base64.b64decode(params["args_base64"]) or b"{}")
            if params["method_name"] == "public_key":
                domain_id = args.get("domain_id", 0)
                if domain_id in self.foreign_keys:
                    value = self.foreign_keys[domain_id]
                elif domain_id in DOMAIN_CURVES:
                    value = self.root_override or domain_root_public_key(domain_id).to_near_string()
                else:  # what nearcore answers for a view that panics
                    return "result", {"error": "wasm execution failed with error: HostError(GuestPanic { panic_msg: "
                                      f"\"The provided domain ID, {domain_id}, was not found.\" }})",
                                      "logs": [], "block_height": 1000, "block_hash": BLOCK_HASH}
                return "result", {"result": list(json.dumps(value).encode()), "logs": [], "block_height": 1000, "block_hash": BLOCK_HASH}
            if params["method_name"] == "state" and self.state_view:
                curves = {Curve.SECP256K1: "Secp256k1", Curve.ED25519: "Edwards25519"}
                domains = [{"id": d, "curve": curves[c], "protocol": "CaitSith", "reconstruction_threshold": 2, "purpose": "Sign"}
                           for d, c in sorted(DOMAIN_CURVES.items())]
                value = {"Running": {"domains": {"domains": domains, "next_domain_id": len(domains)}}}
                return "result", {"result": list(json.dumps(value).encode()), "logs": [], "block_height": 1000, "block_hash": BLOCK_HASH}
            return "result", {"error": "wasm execution failed with error: FunctionCallError(MethodResolveError(MethodNotFound))",
                              "logs": [], "block_height": 1000, "block_hash": BLOCK_HASH}
        return "error", handler_error("UNKNOWN_BLOCK")

    def send_tx(self, params: dict[str, Any]) -> tuple[str, Any]:
        from nacl.signing import VerifyKey
        from near.wire import SignedTransaction

        raw = base64.b64decode(params["signed_tx_base64"])
        signed = SignedTransaction.from_borsh(raw)
        tx = signed.transaction
        tx_bytes = tx.to_borsh()
        tx_hash = hashlib.sha256(tx_bytes).digest()
        public = "ed25519:" + base58.b58encode(bytes(tx.public_key.data)).decode()
        entry = self.keys.get(public)
        if entry is None:
            return "error", _invalid_tx({"InvalidAccessKeyError": {"AccessKeyNotFound": {"account_id": tx.signer_id, "public_key": public}}})
        try:
            VerifyKey(bytes(tx.public_key.data)).verify(tx_hash, bytes(signed.signature.data))
        except Exception:
            return "error", _invalid_tx({"InvalidSignature": None})
        with self.lock:
            account, nonce, perm = self.keys[public]
            if tx.nonce <= nonce:
                return "error", _invalid_tx({"InvalidNonce": {"tx_nonce": tx.nonce, "ak_nonce": nonce}})
            self.keys[public] = (account, tx.nonce, perm)
        hash_text = base58.b58encode(tx_hash).decode()
        (call,) = tx.actions
        args = json.loads(bytes(call.args))
        self.sign_calls += 1
        outcome = self.execute(tx.signer_id, args, int(call.deposit))
        self.txs[hash_text] = {
            "polls": 0,
            "outcome": outcome,
            "transaction": {
                "signer_id": tx.signer_id, "public_key": public, "nonce": tx.nonce, "receiver_id": tx.receiver_id,
                "actions": [{"FunctionCall": {"method_name": call.method_name, "args": base64.b64encode(bytes(call.args)).decode(),
                                              "gas": int(call.gas), "deposit": str(int(call.deposit))}}],
                "signature": "ed25519:" + base58.b58encode(bytes(signed.signature.data)).decode(),
                "hash": hash_text, "priority_fee": 0,
            },
        }
        if params.get("wait_until") in ("NONE", "INCLUDED"):
            return "result", {"final_execution_status": params["wait_until"]}
        return self.tx({"tx_hash": hash_text})

    def execute(self, predecessor: str, args: dict[str, Any], deposit: int) -> dict[str, Any]:
        if deposit < 1 or self.mode == "insufficient-deposit":
            return _panic("Attached deposit is lower than required. Attached: 0, Required: 1.")
        request = args["request"]
        domain_id = request.get("domain_id", 0)
        if domain_id not in DOMAIN_CURVES or self.mode == "wrong-domain":
            return _panic(f"Domain DomainId({domain_id}) not found")
        if self.mode == "timeout" or (self.mode == "timeout-once" and self.sign_calls == 1):
            return _panic("Request has timed out.")
        ((scheme, payload_hex),) = request["payload_v2"].items()
        payload = bytes.fromhex(payload_hex)
        curve = DOMAIN_CURVES[domain_id]
        wanted = "Ecdsa" if curve is Curve.SECP256K1 else "Eddsa"
        if scheme != wanted:
            return _panic(f"Malformed payload: this domain signs {wanted} payloads, got {scheme}")
        root = domain_root_secret(domain_id)
        secret = derive_secret_key(curve, root, predecessor, request["path"])
        if self.mode == "garbage-signature":
            secret = derive_secret_key(curve, root, "mallory.testnet", request["path"])
        ecdsa = curve is Curve.SECP256K1
        sig = ecdsa_sign_with_scalar(secret, payload) if ecdsa else ed25519_sign_with_scalar(secret, payload)
        response = sig.to_response()
        if ecdsa:  # the live contract answers in lowercase hex
            response = json.loads(json.dumps(response).lower().replace('"secp256k1"', '"Secp256k1"'))
        return {"SuccessValue": base64.b64encode(json.dumps(response).encode()).decode()}

    def tx(self, params: dict[str, Any]) -> tuple[str, Any]:
        record = self.txs.get(params.get("tx_hash", ""))
        if record is None:
            return "error", handler_error("UNKNOWN_TRANSACTION", {"requested_transaction_hash": params.get("tx_hash")})
        record["polls"] += 1
        if record["polls"] <= self.pending_polls:
            return "error", handler_error("TIMEOUT_ERROR", {}, "Timeout")
        status = record["outcome"]
        receipt_id = base58.b58encode(hashlib.sha256(params["tx_hash"].encode()).digest()).decode()
        return "result", {
            "final_execution_status": "EXECUTED_OPTIMISTIC",
            "status": status,
            "transaction": record["transaction"],
            "transaction_outcome": {
                "id": params["tx_hash"], "block_hash": BLOCK_HASH, "proof": [],
                "outcome": {"logs": [], "receipt_ids": [receipt_id], "gas_burnt": 2428000000000, "tokens_burnt": "242800000000000000000",
                            "executor_id": record["transaction"]["signer_id"], "status": {"SuccessReceiptId": receipt_id},
                            "metadata": {"version": 1, "gas_profile": None}},
            },
            "receipts_outcome": [{
                "id": receipt_id, "block_hash": BLOCK_HASH, "proof": [],
                "outcome": {"logs": [], "receipt_ids": [], "gas_burnt": 5000000000000, "tokens_burnt": "500000000000000000000",
                            "executor_id": CONTRACT, "status": status, "metadata": {"version": 3, "gas_profile": []}},
            }],
        }


def _panic(message: str) -> dict[str, Any]:
    return {"Failure": {"ActionError": {"index": 0, "kind": {"FunctionCallError": {"ExecutionError": f"Smart contract panicked: {message}"}}}}}


def _invalid_tx(kind: dict[str, Any]) -> dict[str, Any]:
    return {"name": "HANDLER_ERROR", "cause": {"name": "INVALID_TRANSACTION", "info": {}}, "code": -32000,
            "message": "Server error", "data": {"TxExecutionError": {"InvalidTxError": kind}}}


class _Handler(BaseHTTPRequestHandler):
    near: FakeNear

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        kind, value = self.near.rpc(body["method"], body.get("params"))
        if body["method"] == "send_tx" and self.near.mode == "lose-answer-once":
            self.near.mode = "ok"  # the transaction was applied, but its answer is lost
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        reply = {"jsonrpc": "2.0", "id": body.get("id"), kind: value}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@dataclass
class NearEnv:
    near: FakeNear
    url: str
    key: AccessKey
    network: str = "neartest"


@pytest.fixture
def fake_near(tmp_path) -> Iterator[NearEnv]:
    near = FakeNear()
    handler = type("Handler", (_Handler,), {"near": near})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    key = generate_access_key("alice.testnet")
    near.add_key(key)
    creds = tmp_path / "creds"
    write_access_key(creds, "neartest", key)
    register_network(
        "neartest", rpc_url=url, contract_id=CONTRACT, credentials_dir=creds, family="testnet",
        root_public_keys={0: dev_root_public_key(Curve.SECP256K1), 1: dev_root_public_key(Curve.ED25519)},
    )
    try:
        yield NearEnv(near, url, key)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def domain_root():
    """Domain id → the fake contract's root public key of that domain (0–3)."""
    return domain_root_public_key


# -- the project's devnet host (real NEAR transactions, nonces, yield/resume) ------------------


HOST_GENESIS = {"participants": 3, "users": ["alice", "bob"], "contract": {"state": "running"}}


@dataclass
class HostCalls:
    """What the host's JSON-RPC answered, recorded per call: ``(method, params, error name)``."""

    entries: list[tuple[str, Any, str | None]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, method: str, *, request_type: str | None = None, account_id: str | None = None,
              error: str | None = None) -> int:
        with self.lock:
            entries = list(self.entries)
        n = 0
        for name, params, failed in entries:
            if name != method or (error is not None and failed != error):
                continue
            if request_type is not None and (not isinstance(params, dict) or params.get("request_type") != request_type):
                continue
            if account_id is not None and _account_of(name, params) != account_id:
                continue
            n += 1
        return n

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


def _account_of(method: str, params: Any) -> str | None:
    """The account a call is about: ``account_id`` of a query, the signer of a ``send_tx``."""
    if not isinstance(params, dict):
        return None
    if method == "send_tx":
        from near.wire import SignedTransaction

        return SignedTransaction.from_borsh(base64.b64decode(params["signed_tx_base64"])).transaction.signer_id
    return params.get("account_id")


@dataclass
class DevnetHost:
    """The devnet host (signer contract, dev responder) serving from a background thread."""

    url: str
    contract_id: str
    data_dir: Any
    calls: HostCalls
    network: str = "devnet"

    def key(self, account: str) -> AccessKey:
        from chainsig_core.credentials import load_access_key

        return load_access_key(self.data_dir / "credentials", "devnet", account)

    def rpc(self, method: str, params: Any, http: Any = None) -> Any:
        import httpx

        body = {"jsonrpc": "2.0", "id": "t", "method": method, "params": params}
        reply = (http or httpx).post(self.url, json=body, timeout=30).json()
        if "error" in reply:
            raise AssertionError(f"{method} failed: {reply['error']}")
        return reply["result"]

    def height(self) -> int:
        return int(self.rpc("block", {"finality": "optimistic"})["header"]["height"])

    def sign_calls_on_chain(self, account: str, since: int = 1) -> list[tuple[int, dict[str, Any]]]:
        """Every ``sign`` call ``account`` got included on chain from block ``since``:
        ``(nonce, request)``, read back block by block through ``chunk`` — what an MPC node's
        indexer sees."""
        import httpx

        found = []
        with httpx.Client() as http:
            head = self.height()
            for height in range(since, head + 1):
                for tx in self.rpc("chunk", {"block_id": height, "shard_id": 0}, http)["transactions"]:
                    if tx["signer_id"] != account or tx["receiver_id"] != self.contract_id:
                        continue
                    for action in tx["actions"]:
                        call = action.get("FunctionCall") if isinstance(action, dict) else None
                        if call and call["method_name"] == "sign":
                            found.append((tx["nonce"], json.loads(base64.b64decode(call["args"]))["request"]))
        return found


@pytest.fixture
def devnet_host(tmp_path) -> Iterator[DevnetHost]:
    """The project's devnet host with the dev responder, in a background thread's event loop
    (50 ms blocks: a yield lives 10 s, ample for the responder on a busy machine); network ``devnet`` points at it and every JSON-RPC call is recorded."""
    import asyncio
    import time

    from chainsig_contract.hosting import open_chain, root_keys_of, run_responder
    from chainsig_contract.rpc.server import HostServer

    data_dir = tmp_path / "devnet"
    genesis_file = tmp_path / "genesis.json"
    genesis_file.write_text(json.dumps(HOST_GENESIS))
    calls = HostCalls()
    ready = threading.Event()
    state: dict[str, Any] = {}

    def serve() -> None:
        async def main() -> None:
            chain, _ = open_chain(data_dir, genesis_file)
            server = HostServer(chain, block_ms=50, port=0, wait_timeout=10.0)
            for name, method in list(server.methods.table.items()):
                server.methods.table[name] = _recording(calls, name, method)
            await server.start()
            stop = asyncio.Event()
            state.update(url=server.url, chain=chain, loop=asyncio.get_running_loop(), stop=stop)
            responder = asyncio.create_task(
                run_responder(server.url, chain.config.contract_id, data_dir / "credentials", "devnet", None, stop))
            ready.set()
            await stop.wait()
            await asyncio.gather(responder, return_exceptions=True)
            await server.stop()
            chain.store.close()

        try:
            asyncio.run(main())
        except BaseException as exc:  # surfaced below
            state["error"] = exc
            ready.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    ready.wait(30)
    if "error" in state:
        raise state["error"]
    chain = state["chain"]
    deadline = time.monotonic() + 10
    while chain.head["height"] < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    register_network("devnet", rpc_url=state["url"], contract_id=chain.config.contract_id,
                     credentials_dir=data_dir / "credentials", family="local", root_public_keys=root_keys_of(chain))
    try:
        yield DevnetHost(state["url"], chain.config.contract_id, data_dir, calls)
    finally:
        state["loop"].call_soon_threadsafe(state["stop"].set)
        thread.join(30)


def _recording(calls: HostCalls, name: str, method: Any) -> Any:
    async def recorded(params: Any) -> Any:
        try:
            result = await method(params)
        except Exception as exc:
            error = getattr(exc, "body", None)
            cause = error.get("cause", {}).get("name") if isinstance(error, dict) else None
            data = error.get("data") if isinstance(error, dict) else None
            if isinstance(data, dict):  # InvalidNonce, Expired, … for a refused transaction
                invalid = data.get("TxExecutionError", {}).get("InvalidTxError")
                cause = next(iter(invalid)) if isinstance(invalid, dict) else str(invalid)
            with calls.lock:
                calls.entries.append((name, params, cause or type(exc).__name__))
            raise
        with calls.lock:
            calls.entries.append((name, params, None))
        return result

    return recorded
