"""Fixtures for chainsig-bitcoin's tests: the chain, a dev-signed sender, UTXO files, and a
loopback Esplora / Bitcoin Core stand-in serving bodies in the shapes their APIs document."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chainsig_core.flow import sign_prepared
from chainsig_core.signers.dev import DevSigner
from chainsig_core.types import ChainEndpoint, DerivedAccount, Prepared, SignedTx, TransferRequest

ACCOUNT = "alice.near"
PATH = "bitcoin-1"
#: BIP173's example P2WPKH program, as a regtest recipient.
RECIPIENT = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"


@pytest.fixture
def btc() -> Any:
    from chainsig_bitcoin import BitcoinChain

    return BitcoinChain()


@pytest.fixture
def sender(chainsig_dev_signer: DevSigner) -> DerivedAccount:
    key = chainsig_dev_signer.derived_public_key(ACCOUNT, PATH, 0)
    return DerivedAccount("dev", ACCOUNT, PATH, key)


@pytest.fixture
def other_sender(chainsig_dev_signer: DevSigner) -> DerivedAccount:
    key = chainsig_dev_signer.derived_public_key(ACCOUNT, "another-path", 0)
    return DerivedAccount("dev", ACCOUNT, "another-path", key)


def _txid(n: int) -> str:
    return f"{n:02x}" * 32


@pytest.fixture
def utxo_file(tmp_path: Path) -> Callable[..., Path]:
    """``utxo_file(30000, 40000, …)`` → a ``--utxos`` file with one output per value."""

    def write(*values: int, script_pubkey: str | None = None, name: str = "utxos.json") -> Path:
        entries = []
        for i, value in enumerate(values):
            entry: dict[str, Any] = {"txid": _txid(i + 1), "vout": i % 3, "value": value}
            if script_pubkey is not None:
                entry["scriptPubKey"] = script_pubkey
            entries.append(entry)
        path = tmp_path / name
        path.write_text(json.dumps(entries))
        return path

    return write


@pytest.fixture
def prepare_spend(btc: Any, sender: DerivedAccount, utxo_file: Callable[..., Path]) -> Callable[..., Prepared]:
    """Prepare an offline regtest spend from ``sender`` with ``--utxos`` and ``--fee-rate``."""

    def prepare(
        values: tuple[int, ...] = (30_000, 40_000, 5_000), amount: str | int = "0.0006",
        address_type: str = "p2wpkh", fee_rate: str = "2", to: str = RECIPIENT, **options: Any,
    ) -> Prepared:
        path = utxo_file(*values)
        request = TransferRequest(
            sender, to, amount, address_type=address_type,
            options={"utxos": str(path), "fee_rate": fee_rate, **options},
        )
        return btc.prepare(request, "regtest", ChainEndpoint())

    return prepare


@pytest.fixture
def sign_and_finalize(btc: Any, chainsig_dev_signer: DevSigner) -> Callable[[Prepared], SignedTx]:
    def run(prepared: Prepared) -> SignedTx:
        return btc.finalize(prepared, sign_prepared(chainsig_dev_signer, prepared))

    return run


# -- loopback stand-ins for Esplora and Bitcoin Core -------------------------------------------


class FakeLedger:
    """Funding transactions, the UTXO set and the mempool the stand-ins serve from.

    Funding transactions are real serialized transactions (so txids, ``/tx/:txid/hex`` and
    P2PKH's previous-transaction checks are genuine); broadcasting parses the raw transaction,
    refuses spends of unknown outputs like a node would, and records it.
    """

    def __init__(self) -> None:
        self.txs: dict[str, bytes] = {}
        self.utxos: dict[tuple[str, int], tuple[bytes, int, bool]] = {}
        self.mempool: list[str] = []
        self._n = 0

    def fund(self, script_pubkey: bytes, *values: int, confirmed: bool = True) -> str:
        from embit.script import Script
        from embit.transaction import Transaction, TransactionInput, TransactionOutput

        self._n += 1
        tx = Transaction(
            vin=[TransactionInput(self._n.to_bytes(32, "big"), 0)],
            vout=[TransactionOutput(v, Script(script_pubkey)) for v in values],
        )
        txid = tx.txid().hex()
        self.txs[txid] = tx.serialize()
        for i, value in enumerate(values):
            self.utxos[(txid, i)] = (script_pubkey, value, confirmed)
        return txid

    def unspent(self, script_pubkey: bytes) -> list[tuple[str, int, int, bool]]:
        return [(t, i, v, c) for (t, i), (s, v, c) in self.utxos.items() if s == script_pubkey]

    def accept(self, raw_hex: str) -> tuple[bool, str]:
        """(accepted, txid or reason) — the node's mempool acceptance, much simplified."""
        from embit.transaction import Transaction

        try:
            tx = Transaction.parse(bytes.fromhex(raw_hex))
        except Exception:  # noqa: BLE001 - any parse failure is a decode error for the node
            return False, "TX decode failed"
        for vin in tx.vin:
            if (vin.txid.hex(), vin.vout) not in self.utxos:
                return False, "bad-txns-inputs-missingorspent"
        for vin in tx.vin:
            del self.utxos[(vin.txid.hex(), vin.vout)]
        txid = tx.txid().hex()
        self.txs[txid] = bytes.fromhex(raw_hex)
        self.mempool.append(txid)
        for i, out in enumerate(tx.vout):
            self.utxos[(txid, i)] = (out.script_pubkey.data, out.value, False)
        return True, txid


@pytest.fixture
def ledger() -> FakeLedger:
    return FakeLedger()


def _address_spk(address: str) -> bytes:
    from chainsig_bitcoin.addresses import decode_address

    return decode_address(address, "regtest")


@pytest.fixture
def esplora(chainsig_http_server: Any, ledger: FakeLedger) -> Any:
    """An Esplora stand-in on 127.0.0.1 (``esplora.url``) backed by ``ledger``.

    Bodies follow Blockstream's API.md: JSON for data, plain text for tx hex, txids and errors.
    """
    from chainsig_core.testing import CannedResponse

    server = chainsig_http_server
    server.fee_estimates = {"1": 87.882, "2": 87.882, "3": 87.882, "6": 68.285, "144": 1.027, "504": 1.027, "1008": 1.027}

    def text(status: int, body: str) -> Any:
        return CannedResponse(status, body=body.encode(), headers={"Content-Type": "text/plain"})

    def address_route(request: Any) -> Any:
        parts = request.path.split("/")  # ['', 'address', ADDR] or [..., 'utxo']
        try:
            spk = _address_spk(parts[2])
        except ValueError:
            return text(400, "Invalid Bitcoin address")
        rows = ledger.unspent(spk)
        if len(parts) == 4 and parts[3] == "utxo":
            return CannedResponse(json=[
                {"txid": t, "vout": i, "value": v,
                 "status": {"confirmed": True, "block_height": 120, "block_hash": "00" * 32, "block_time": 1700000000}
                 if c else {"confirmed": False}}
                for t, i, v, c in rows
            ])
        def stats(confirmed: bool) -> dict[str, int]:
            chosen = [v for _, _, v, c in rows if c is confirmed]
            return {"funded_txo_count": len(chosen), "funded_txo_sum": sum(chosen),
                    "spent_txo_count": 0, "spent_txo_sum": 0, "tx_count": len(chosen)}
        return CannedResponse(json={"address": parts[2], "chain_stats": stats(True), "mempool_stats": stats(False)})

    def tx_route(request: Any) -> Any:
        parts = request.path.split("/")  # ['', 'tx', TXID, 'hex'|'status']
        txid = parts[2]
        if txid not in ledger.txs:
            return text(404, "Transaction not found")
        if parts[3] == "hex":
            return text(200, ledger.txs[txid].hex())
        if txid in ledger.mempool:
            return CannedResponse(json={"confirmed": False})
        return CannedResponse(json={"confirmed": True, "block_height": 120, "block_hash": "00" * 32, "block_time": 1700000000})

    def post_tx(request: Any) -> Any:
        ok, answer = ledger.accept(request.body.decode("ascii", "replace").strip())
        if ok:
            return text(200, answer)
        return text(400, 'sendrawtransaction RPC error: {"code":-25,"message":"' + answer + '"}')

    server.add("GET", "/address/", handler=address_route, prefix=True)
    server.add("GET", "/tx/", handler=tx_route, prefix=True)
    server.add("POST", "/tx", handler=post_tx)
    server.add("GET", "/fee-estimates", handler=lambda r: CannedResponse(json=server.fee_estimates))
    return server


@pytest.fixture
def core_node(chainsig_http_server: Any, ledger: FakeLedger) -> Any:
    """A Bitcoin Core JSON-RPC stand-in on 127.0.0.1 (user ``rpcuser``, password ``rpcpass``).

    Answers ``{"result", "error", "id"}``; RPC errors come with HTTP 500 (404 for an unknown
    method) as Core's JSON-RPC 1.0 server does; bad credentials get 401 with an empty body.
    """
    import base64
    from decimal import Decimal

    from chainsig_core.testing import CannedResponse

    server = chainsig_http_server
    server.fee_result = {"feerate": Decimal("0.00012345"), "blocks": 6}
    good_auth = "Basic " + base64.b64encode(b"rpcuser:rpcpass").decode()

    def btc(sats: int) -> Any:
        return Decimal(sats) / 100_000_000

    def reply(request: Any, result: Any = None, error: Any = None, status: int = 200) -> Any:
        body = {"result": result, "error": error, "id": request.json().get("id")}
        return CannedResponse(status, body=json.dumps(body, default=lambda d: float(d) if isinstance(d, Decimal) else d).encode(),
                              headers={"Content-Type": "application/json"})

    def rpc(request: Any) -> Any:
        if request.headers.get("Authorization") != good_auth:
            return CannedResponse(401, body=b"")
        call = request.json()
        method, params = call["method"], call["params"]
        if method == "scantxoutset":
            spk = _address_spk(params[1][0][5:-1])
            rows = [r for r in ledger.unspent(spk) if r[3]]
            return reply(request, {
                "success": True, "txouts": 1000, "height": 250, "bestblock": "00" * 32,
                "unspents": [{"txid": t, "vout": i, "scriptPubKey": spk.hex(), "desc": "addr(...)#xyz",
                              "amount": btc(v), "coinbase": False, "height": 120, "blockhash": "00" * 32}
                             for t, i, v, _ in rows],
                "total_amount": btc(sum(r[2] for r in rows)),
            })
        if method == "estimatesmartfee":
            return reply(request, server.fee_result)
        if method == "getrawtransaction":
            txid = params[0]
            if txid not in ledger.txs:
                return reply(request, error={"code": -5, "message": "No such mempool or blockchain transaction. Use gettransaction for wallet transactions."}, status=500)
            if len(params) > 1 and params[1]:
                confs = 0 if txid in ledger.mempool else 3
                return reply(request, {"txid": txid, "hex": ledger.txs[txid].hex(), "confirmations": confs} if confs else {"txid": txid, "hex": ledger.txs[txid].hex()})
            return reply(request, ledger.txs[txid].hex())
        if method == "sendrawtransaction":
            ok, answer = ledger.accept(params[0])
            if ok:
                return reply(request, answer)
            code = -22 if answer == "TX decode failed" else -25
            return reply(request, error={"code": code, "message": answer}, status=500)
        return reply(request, error={"code": -32601, "message": "Method not found"}, status=404)

    server.add("POST", "/", handler=rpc)
    return server
