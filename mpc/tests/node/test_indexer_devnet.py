"""The indexer against the real devnet host (chainsig-contract) with real transactions.

A user signs through the NEAR contract client (near-kit transactions), the dev responder
answers through ``respond``, and the indexer — following only ``block`` and ``chunk`` — sees
both, with the tweak and the block's ``random_value`` the host actually used.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time

import base58
import pytest

from chainsig_core import kdf
from chainsig_core.config import NearNetwork
from chainsig_core.credentials import load_access_key
from chainsig_core.signers.base import SignRequest
from chainsig_core.signers.near import NearContractSigner
from chainsig_mpc.node.indexer import (
    BlockEvent,
    ContractIndexer,
    RequestTracker,
    RespondEvent,
    SignRequestEvent,
)

GENESIS = {"participants": 3, "users": ["alice"], "contract": {"state": "running"}}


@pytest.fixture
def devnet_host(tmp_path):
    """The chainsig-contract devnet host serving JSON-RPC from a background thread."""
    from chainsig_contract.hosting import open_chain
    from chainsig_contract.rpc.server import HostServer

    data_dir = tmp_path / "devnet"
    genesis_file = tmp_path / "genesis.json"
    genesis_file.write_text(json.dumps(GENESIS))
    state: dict = {}
    ready = threading.Event()

    def serve() -> None:
        async def main() -> None:
            chain, _ = open_chain(data_dir, genesis_file)
            server = HostServer(chain, block_ms=50, port=0)  # 10 s yield timeout: robust on a busy machine
            await server.start()
            state.update(chain=chain, url=server.url, loop=asyncio.get_running_loop(), stop=asyncio.Event())
            ready.set()
            await state["stop"].wait()
            await server.stop()
            chain.store.close()

        try:
            asyncio.run(main())
        except BaseException as exc:  # reported by the fixture
            state["error"] = exc
            ready.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(30) and "error" not in state, state.get("error")
    deadline = time.monotonic() + 10
    while state["chain"].head["height"] < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    state["data_dir"] = data_dir
    state["contract_id"] = state["chain"].config.contract_id
    yield state
    state["loop"].call_soon_threadsafe(state["stop"].set)
    thread.join(30)


def _account(data_dir, prefix: str) -> str:
    names = sorted(p.stem for p in (data_dir / "credentials" / "devnet").glob("*.json"))
    return next(n for n in names if n.startswith(prefix))


def test_indexer_sees_real_sign_and_respond_on_the_devnet_host(run, devnet_host):
    from chainsig_contract.responder import DevResponder

    data_dir, url, contract_id = devnet_host["data_dir"], devnet_host["url"], devnet_host["contract_id"]
    alice = _account(data_dir, "alice")
    node = load_access_key(data_dir / "credentials", "devnet", _account(data_dir, "node0"))
    network = NearNetwork("devnet", "local", url, contract_id, data_dir / "credentials", {})
    payload = bytes(range(7, 39))

    async def scenario():
        indexer = ContractIndexer(url, contract_id, start_height=None, poll_interval=0.02)
        await _drain(indexer)  # start from the current final block
        stop = asyncio.Event()
        responder = DevResponder(url, contract_id, node, poll_interval=0.02)
        responder_task = asyncio.ensure_future(responder.run(stop))
        signer = NearContractSigner(network, poll_interval=0.05)
        try:
            result = await asyncio.wait_for(signer.sign_async(SignRequest(alice, "ethereum-1", 0, payload)), 30)
            assert result.signature is not None  # verified by the client against the derived key
            tracker = RequestTracker()
            signs: list[SignRequestEvent] = []
            responds: list[RespondEvent] = []
            deadline = time.monotonic() + 20
            while not responds and time.monotonic() < deadline:
                for event in await _drain(indexer):
                    tracker.observe(event)
                    if isinstance(event, SignRequestEvent):
                        signs.append(event)
                    elif isinstance(event, RespondEvent):
                        responds.append(event)
                await asyncio.sleep(0.05)
            assert len(signs) == 1 and len(responds) == 1
            sign = signs[0]
            assert (sign.predecessor, sign.path, sign.payload, sign.domain_id) == (alice, "ethereum-1", payload, 0)
            assert sign.tweak == kdf.tweak(alice, "ethereum-1")
            block = await indexer._call("block", {"block_id": sign.block_height})
            assert sign.random_value == base58.b58decode(block["header"]["random_value"])
            assert sign.block_hash == block["header"]["hash"]
            assert responds[0].request_key == sign.request_key
            assert responds[0].responder == node.account_id
            assert tracker.pending() == [] and tracker.is_answered(sign.request_key)
            assert await indexer.is_pending(sign) is False  # answered: no longer pending

            # With no responder, a new request stays pending and the tracker keeps it.
            stop.set()
            await asyncio.wait_for(responder_task, 10)
            from near import AsyncNear

            key = load_access_key(data_dir / "credentials", "devnet", alice)
            async with AsyncNear("devnet", rpc_url=url, account_id=alice,
                                 private_key=key.to_near_secret_string(), retries=0) as client:
                await client.call(contract_id, "sign", {"request": {
                    "path": "solana-1", "payload_v2": {"Eddsa": "ab" * 40}, "domain_id": 1}},
                    gas="300 Tgas", deposit="1 yocto", wait_until="INCLUDED")
            later: list[SignRequestEvent] = []
            deadline = time.monotonic() + 20
            while not later and time.monotonic() < deadline:
                for event in await _drain(indexer):
                    tracker.observe(event)
                    if isinstance(event, SignRequestEvent):
                        later.append(event)
                await asyncio.sleep(0.05)
            assert [(e.path, e.payload_kind, e.payload) for e in later] == [("solana-1", "Eddsa", bytes([0xab]) * 40)]
            assert await indexer.is_pending(later[0]) is True
            assert tracker.pending() == later
        finally:
            stop.set()
            if not responder_task.done():
                await asyncio.wait_for(responder_task, 10)
            await signer.aclose()
            await indexer.aclose()

    run(scenario())


async def _drain(indexer: ContractIndexer) -> list:
    events = [event async for event in indexer.catch_up()]
    assert all(isinstance(e, SignRequestEvent | RespondEvent | BlockEvent) for e in events)
    return events
