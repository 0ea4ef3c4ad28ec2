"""The solana chain end to end through the local RPC with solana-py's client: prepare (online),
sign with the dev signer, finalize, broadcast with a bounded wait, balances."""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

import pytest

from chainsig_core import (
    ChainEndpoint,
    ChainError,
    InsufficientFundsError,
    InvalidInputError,
    RpcError,
    TransferRequest,
)


def _fund(local_rpc: Any, address: str, lamports: int) -> None:
    from solders.pubkey import Pubkey

    local_rpc.node.airdrop(Pubkey.from_string(address), lamports)


@pytest.mark.parametrize("v0", [False, True])
def test_sol_transfer_over_rpc(chain, local_rpc, rpc_endpoint, sender, sign_and_finalize, new_keypair, v0) -> None:
    _fund(local_rpc, sender.address, 3 * 10**9)
    to = str(new_keypair().pubkey())
    prepared = chain.prepare(TransferRequest(sender.account, to, "1.5", options={"v0": True} if v0 else {}), "local", rpc_endpoint)
    assert prepared.tx["last_valid_block_height"] > 0
    signed = sign_and_finalize(prepared)
    receipt = chain.broadcast(signed, rpc_endpoint)
    assert receipt.status == "confirmed" and receipt.tx_hash == signed.tx_hash
    assert receipt.details["confirmation_status"] == "finalized"
    assert chain.balance(to, "local", rpc_endpoint).amount == 1_500_000_000
    balance = chain.balance(sender.address, "local", rpc_endpoint)
    assert balance.amount == 3 * 10**9 - 1_500_000_000 - 5000 and balance.formatted == "1.499995"


def test_spl_transfer_over_rpc_creates_the_recipient_account(chain, local_rpc, rpc_endpoint, sender, sign_and_finalize, helpers, new_keypair) -> None:
    _fund(local_rpc, sender.address, 10**9)
    with local_rpc.node.lock:
        mint = helpers.create_mint(local_rpc.node.svm, decimals=6, supply_to=sender.address, amount=10_000_000)
    recipient = str(new_keypair().pubkey())
    assert chain.balance(recipient, "local", rpc_endpoint, token=mint).amount == 0
    prepared = chain.prepare(TransferRequest(sender.account, recipient, "2.5", token=mint, options={"v0": True, "priority_fee": 1000}), "local", rpc_endpoint)
    assert prepared.summary["creates_recipient_token_account"] is True
    receipt = chain.broadcast(sign_and_finalize(prepared), rpc_endpoint)
    assert receipt.status == "confirmed"
    got = chain.balance(recipient, "local", rpc_endpoint, token=mint)
    assert (got.amount, got.decimals, got.formatted, got.token) == (2_500_000, 6, "2.5", mint)
    assert chain.balance(sender.address, "local", rpc_endpoint, token=mint).amount == 7_500_000
    with pytest.raises(InvalidInputError, match="unknown mint"):
        chain.balance(recipient, "local", rpc_endpoint, token=str(new_keypair().pubkey()))


def test_tampered_signature_is_rejected_over_rpc(chain, local_rpc, rpc_endpoint, sender, sign_and_finalize, new_keypair) -> None:
    _fund(local_rpc, sender.address, 10**9)
    to = str(new_keypair().pubkey())
    signed = sign_and_finalize(chain.prepare(TransferRequest(sender.account, to, "0.1"), "local", rpc_endpoint))
    from solders.transaction import VersionedTransaction

    for index in (20, len(base64.b64decode(signed.raw)) - 3):  # in the signature; in the message (amount)
        raw = bytearray(base64.b64decode(signed.raw))
        raw[index] ^= 0x80
        tampered = replace(signed, raw=base64.b64encode(bytes(raw)).decode(),
                           tx_hash=str(VersionedTransaction.from_bytes(bytes(raw)).signatures[0]))
        with pytest.raises(ChainError, match="signature verification failure"):
            chain.broadcast(tampered, rpc_endpoint)
    assert chain.balance(to, "local", rpc_endpoint).amount == 0
    with pytest.raises(InvalidInputError, match="tx_hash"):
        chain.broadcast(replace(signed, tx_hash="1" * 88), rpc_endpoint)


def test_broadcast_reports_preflight_failures(chain, local_rpc, rpc_endpoint, sender, sign_and_finalize, new_keypair) -> None:
    """A transaction prepared offline (no funds check) fails the node's preflight: one line."""
    blockhash, _ = local_rpc.node.latest_blockhash()
    prepared = chain.prepare(TransferRequest(sender.account, str(new_keypair().pubkey()), "1", options={"blockhash": blockhash}), "local", rpc_endpoint)
    with pytest.raises(ChainError) as info:
        chain.broadcast(sign_and_finalize(prepared), rpc_endpoint)
    assert "Transaction simulation failed" in str(info.value) and "\n" not in str(info.value)


def test_insufficient_funds_online(chain, local_rpc, rpc_endpoint, sender, new_keypair) -> None:
    with pytest.raises(InsufficientFundsError):
        chain.prepare(TransferRequest(sender.account, str(new_keypair().pubkey()), "0.01"), "local", rpc_endpoint)


def test_unreachable_rpc_is_one_clear_error(chain, sender, new_keypair) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    endpoint = ChainEndpoint(f"http://127.0.0.1:{port}", {"timeout": 2})
    with pytest.raises(RpcError, match="cannot reach the Solana RPC"):
        chain.prepare(TransferRequest(sender.account, str(new_keypair().pubkey()), "0.01"), "local", endpoint)
    with pytest.raises(RpcError):
        chain.balance(sender.address, "local", endpoint)
    with pytest.raises(RpcError, match="no Solana RPC URL"):
        chain.balance(sender.address, "local", ChainEndpoint(None))


def test_chain_calls_work_from_inside_asyncio(chain, local_rpc, rpc_endpoint, sender) -> None:
    import asyncio

    _fund(local_rpc, sender.address, 10**9)

    async def inside() -> int:
        return chain.balance(sender.address, "local", rpc_endpoint).amount

    assert asyncio.run(inside()) == 10**9


def test_receipt_failed_and_unconfirmed(chain, local_rpc, sender, sign_and_finalize, new_keypair, monkeypatch) -> None:
    """Landed-with-error → "failed" with Solana's error; never seen within confirm_timeout →
    "broadcast". The node's preflight is bypassed / its statuses hidden to stage both."""
    from chainsig_solana.local_rpc.node import Outcome

    _fund(local_rpc, sender.address, 10**9)
    endpoint = ChainEndpoint(local_rpc.url, {"confirm_timeout": 0.5})
    blockhash, _ = local_rpc.node.latest_blockhash()
    too_much = chain.prepare(TransferRequest(sender.account, str(new_keypair().pubkey()), "5", options={"blockhash": blockhash}), "local", endpoint)
    monkeypatch.setattr(local_rpc.node, "simulate", lambda tx: Outcome(None, [], 0, 5000, False))
    receipt = chain.broadcast(sign_and_finalize(too_much), endpoint)
    assert receipt.status == "failed" and receipt.details["err"] == {"InstructionError": [0, {"Custom": 1}]}
    monkeypatch.setattr(local_rpc.node, "status", lambda signature: None)
    fine = chain.prepare(TransferRequest(sender.account, str(new_keypair().pubkey()), "0.01"), "local", endpoint)
    receipt = chain.broadcast(sign_and_finalize(fine), endpoint)
    assert receipt.status == "broadcast" and receipt.details["waited_seconds"] == 0.5
