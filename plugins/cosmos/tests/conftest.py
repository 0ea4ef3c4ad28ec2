"""A local stand-in for a Cosmos SDK node's REST API (gRPC-gateway), on chainsig's recording
HTTP server. Bodies follow the shapes the SDK documents for
``GET /cosmos/auth/v1beta1/accounts/{address}``, ``GET /cosmos/bank/v1beta1/balances/{address}/by_denom``,
``POST /cosmos/tx/v1beta1/txs`` and ``GET /cosmos/tx/v1beta1/txs/{hash}`` (64-bit integers as
strings, errors as ``{"code", "message", "details"}``). Submitted transactions are decoded
with cosmpy's protobuf classes and their signature is checked like CheckTx would."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any

import pytest

from chainsig_core.testing import CannedResponse, RecordedRequest, RecordingHTTPServer


def not_found(message: str) -> CannedResponse:
    return CannedResponse(404, {"code": 5, "message": message, "details": []})


def tx_response(txhash: str, *, height: str = "0", code: int = 0, codespace: str = "", raw_log: str = "") -> dict[str, Any]:
    return {
        "height": height, "txhash": txhash, "codespace": codespace, "code": code, "data": "",
        "raw_log": raw_log, "logs": [], "info": "", "gas_wanted": "200000", "gas_used": "0" if height == "0" else "81234",
        "tx": None, "timestamp": "", "events": [],
    }


@dataclass
class FakeCosmosNode:
    """Accounts, balances and a mempool; ``include`` moves submitted txs into a block."""

    server: RecordingHTTPServer
    accounts: dict[str, tuple[int, int]] = field(default_factory=dict)
    balances: dict[tuple[str, str], int] = field(default_factory=dict)
    submitted: list[bytes] = field(default_factory=list)
    included: dict[str, dict[str, Any]] = field(default_factory=dict)
    auto_include: bool = True
    check_tx_code: tuple[int, str, str] | None = None

    def __post_init__(self) -> None:
        s = self.server
        s.add("GET", "/cosmos/auth/v1beta1/accounts/", prefix=True, handler=self._account)
        s.add("GET", "/cosmos/bank/v1beta1/balances/", prefix=True, handler=self._balance)
        s.add("POST", "/cosmos/tx/v1beta1/txs", handler=self._broadcast)
        s.add("GET", "/cosmos/tx/v1beta1/txs/", prefix=True, handler=self._tx)

    @property
    def url(self) -> str:
        return self.server.url

    def fund(self, address: str, amount: int, denom: str = "uatom", *, number: int = 42, sequence: int = 3) -> None:
        self.accounts[address] = (number, sequence)
        self.balances[(address, denom)] = amount

    def _account(self, request: RecordedRequest) -> CannedResponse:
        address = request.path.rsplit("/", 1)[1]
        if address not in self.accounts:
            return not_found(f"rpc error: code = NotFound desc = account {address} not found")
        number, sequence = self.accounts[address]
        return CannedResponse(json={"account": {
            "@type": "/cosmos.auth.v1beta1.BaseAccount", "address": address,
            "pub_key": None, "account_number": str(number), "sequence": str(sequence),
        }})

    def _balance(self, request: RecordedRequest) -> CannedResponse:
        parts = request.path.split("/")
        if parts[-1] != "by_denom":
            return not_found("unexpected path")
        address, denom = parts[-2], request.query["denom"][0]
        return CannedResponse(json={"balance": {"denom": denom, "amount": str(self.balances.get((address, denom), 0))}})

    def _broadcast(self, request: RecordedRequest) -> CannedResponse:
        from cosmpy.crypto.keypairs import PublicKey
        from cosmpy.protos.cosmos.crypto.secp256k1.keys_pb2 import PubKey
        from cosmpy.protos.cosmos.tx.v1beta1.tx_pb2 import AuthInfo, SignDoc, TxRaw

        body = request.json()
        assert body["mode"] == "BROADCAST_MODE_SYNC"
        tx_bytes = base64.b64decode(body["tx_bytes"])
        raw = TxRaw.FromString(tx_bytes)
        info = AuthInfo.FromString(raw.auth_info_bytes).signer_infos[0]
        key = PubKey.FromString(info.public_key.value).key
        from chainsig_cosmos.address import encode_address
        sender = encode_address("cosmos", hashlib.new("ripemd160", hashlib.sha256(key).digest()).digest())
        number, sequence = self.accounts.get(sender, (0, 0))
        txhash = hashlib.sha256(tx_bytes).hexdigest().upper()
        doc = SignDoc(body_bytes=raw.body_bytes, auth_info_bytes=raw.auth_info_bytes,
                      chain_id="localcosmos", account_number=number).SerializeToString()
        if not PublicKey(key).verify(doc, raw.signatures[0]):
            return CannedResponse(json={"tx_response": tx_response(txhash, code=4, codespace="sdk",
                raw_log="signature verification failed; please verify account number (%d) and chain-id (localcosmos): unauthorized" % number)})
        if info.sequence != sequence:
            return CannedResponse(json={"tx_response": tx_response(txhash, code=32, codespace="sdk",
                raw_log=f"account sequence mismatch, expected {sequence}, got {info.sequence}: incorrect account sequence")})
        if self.check_tx_code is not None:
            code, codespace, log = self.check_tx_code
            return CannedResponse(json={"tx_response": tx_response(txhash, code=code, codespace=codespace, raw_log=log)})
        self.submitted.append(tx_bytes)
        self.accounts[sender] = (number, sequence + 1)
        if self.auto_include:
            self.included[txhash] = tx_response(txhash, height="1234")
        return CannedResponse(json={"tx_response": tx_response(txhash)})

    def _tx(self, request: RecordedRequest) -> CannedResponse:
        txhash = request.path.rsplit("/", 1)[1]
        if txhash not in self.included:
            return not_found(f"rpc error: code = NotFound desc = tx not found: {txhash}")
        return CannedResponse(json={"tx": {"body": {}, "auth_info": {}, "signatures": []}, "tx_response": self.included[txhash]})


@pytest.fixture
def cosmos_node(chainsig_http_server: RecordingHTTPServer) -> FakeCosmosNode:
    return FakeCosmosNode(chainsig_http_server)


@pytest.fixture
def cosmos_chain(chainsig_config: Any):  # type: ignore[no-untyped-def]
    from chainsig_core.plugins import get_chain

    return get_chain("cosmos")
