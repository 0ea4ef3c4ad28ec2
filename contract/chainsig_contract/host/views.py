"""NEAR's JSON shapes for blocks, chunks, outcomes and transaction results."""

from __future__ import annotations

from typing import Any

import base58

from . import gas
from .ids import derive_id

PROTOCOL_VERSION = 73
ZERO_HASH = "11111111111111111111111111111111"

WAIT_LEVELS = ("NONE", "INCLUDED", "EXECUTED_OPTIMISTIC", "INCLUDED_FINAL", "EXECUTED", "FINAL")
FINALITY_LAG = 2
"""Blocks after which a block counts as final (NEAR's doomslug finality: 2)."""


def chunk_hash_of(record: dict[str, Any]) -> str:
    return derive_id(record["hash"], "chunk")


def block_view(record: dict[str, Any]) -> dict[str, Any]:
    """NEAR's ``BlockView`` for a stored block record.

    Records are stored compactly; fields derivable from the block hash (chunk hash, roots,
    signature) are computed here, the finality hashes are filled in by the store on load.
    """
    height = record["height"]
    chunk = chunk_header(record)
    final = record.get("last_final_block", record["hash"])
    return {
        "author": "devnet",
        "header": {
            "height": height, "prev_height": height - 1 if height else None,
            "epoch_id": ZERO_HASH, "next_epoch_id": ZERO_HASH,
            "hash": record["hash"], "prev_hash": record["prev_hash"],
            "prev_state_root": ZERO_HASH, "block_body_hash": record["hash"],
            "chunk_receipts_root": ZERO_HASH, "chunk_headers_root": chunk["chunk_hash"],
            "chunk_tx_root": chunk["tx_root"], "outcome_root": ZERO_HASH,
            "chunks_included": 1, "challenges_root": ZERO_HASH,
            "timestamp": record["timestamp"], "timestamp_nanosec": str(record["timestamp"]),
            "random_value": record["random_value"], "validator_proposals": [],
            "chunk_mask": [True], "gas_price": str(gas.GAS_PRICE), "block_ordinal": height + 1,
            "rent_paid": "0", "validator_reward": "0", "total_supply": record.get("total_supply", "0"),
            "challenges_result": [], "last_final_block": final,
            "last_ds_final_block": record.get("last_ds_final_block", record["hash"]),
            "next_bp_hash": ZERO_HASH, "block_merkle_root": ZERO_HASH,
            "epoch_sync_data_hash": None, "approvals": [], "signature": _signature(record),
            "latest_protocol_version": PROTOCOL_VERSION,
        },
        "chunks": [chunk],
    }


def _signature(record: dict[str, Any]) -> str:
    import hashlib

    return "ed25519:" + b58(hashlib.sha512(record["hash"].encode()).digest())


def chunk_header(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "chunk_hash": chunk_hash_of(record), "prev_block_hash": record["prev_hash"],
        "outcome_root": ZERO_HASH, "prev_state_root": ZERO_HASH,
        "encoded_merkle_root": ZERO_HASH, "encoded_length": 0,
        "height_created": record["height"], "height_included": record["height"], "shard_id": 0,
        "gas_used": record["gas_used"], "gas_limit": 1_000_000_000_000_000, "rent_paid": "0",
        "validator_reward": "0", "balance_burnt": str(gas.tokens(record["gas_used"])),
        "outgoing_receipts_root": ZERO_HASH,
        "tx_root": derive_id(record["hash"], "txs", *[t["hash"] for t in record["transactions"]]),
        "validator_proposals": [], "signature": _signature(record),
        "congestion_info": None, "bandwidth_requests": None,
    }


def chunk_view(record: dict[str, Any]) -> dict[str, Any]:
    """NEAR's ``ChunkView``: the transactions included and the receipts executed in the block."""
    return {"author": "devnet", "header": chunk_header(record),
            "transactions": record["transactions"], "receipts": record["receipts"]}


def outcome_with_id(object_id: str, block_hash: str, executor: str, status: Any, logs: list[str],
                    receipt_ids: list[str], gas_burnt: int) -> dict[str, Any]:
    """NEAR's ``ExecutionOutcomeWithIdView``."""
    return {"id": object_id, "block_hash": block_hash, "proof": [], "outcome": {
        "logs": logs, "receipt_ids": receipt_ids, "gas_burnt": gas_burnt,
        "tokens_burnt": str(gas.tokens(gas_burnt)), "executor_id": executor, "status": status,
        "metadata": {"version": 3, "gas_profile": []}}}


def b58(raw: bytes) -> str:
    return base58.b58encode(raw).decode()
