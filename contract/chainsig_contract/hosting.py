"""Opening a devnet data dir and running the host (and the dev responder) in one process."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
from pathlib import Path

import click

from chainsig_core.cli.output import emit_json
from chainsig_core.config import register_network
from chainsig_core.credentials import load_access_key
from chainsig_core.errors import CredentialsError, InvalidInputError
from chainsig_core.keys import PublicKey

from .contract.env import ContractPanic
from .genesis import load_genesis_file, resolve_genesis, write_keys, write_public_genesis
from .host.chain import Chain
from .host.store import Store

log = logging.getLogger(__name__)
DB_NAME = "chain.sqlite"


def open_chain(data_dir: Path, genesis_file: Path | None = None) -> tuple[Chain, bool]:
    """The chain in ``data_dir``, created from the genesis when the dir holds none.

    Returns ``(chain, created)``.

    Raises
    ------
    InvalidInputError
        For a bad genesis (including a contract init the contract rejects).
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    chain = Chain(Store(data_dir / DB_NAME))
    if chain.initialized:
        return chain, False
    spec = load_genesis_file(genesis_file) if genesis_file is not None else None
    genesis = resolve_genesis(spec)
    try:
        chain.apply_genesis(genesis.config, genesis.chain_accounts(), genesis.contract_calls())
    except ContractPanic as panic:
        chain.store.close()
        (data_dir / DB_NAME).unlink(missing_ok=True)
        raise InvalidInputError(f"genesis: the contract rejected its initialisation: {panic.message}") from None
    write_keys(genesis, data_dir)
    write_public_genesis(genesis, data_dir)
    return chain, True


def root_keys_of(chain: Chain) -> dict[int, PublicKey]:
    state = chain.contract.state
    protocol = state["protocol"] if state else None
    if not isinstance(protocol, dict) or "Running" not in protocol:
        return {}
    from .contract.rules import key_of_extended

    return {k["domain_id"]: key_of_extended(k["key"]) for k in protocol["Running"]["keyset"]["domains"]
            if k["domain_id"] in (0, 1)}


async def run_host(chain: Chain, data_dir: Path, *, port: int, block_ms: int, responder: bool,
                   wait_timeout: float, json_out: bool) -> None:
    """Serve until SIGINT/SIGTERM; registers network ``devnet`` and prints its description."""
    from .cli import describe
    from .rpc.server import HostServer

    server = HostServer(chain, block_ms=block_ms, port=port, wait_timeout=wait_timeout)
    try:
        await server.start()
    except OSError as exc:
        raise InvalidInputError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    info = describe(chain, data_dir, server.url)
    register_network("devnet", rpc_url=server.url, contract_id=chain.config.contract_id,
                     credentials_dir=data_dir / "credentials", family="local",
                     root_public_keys=root_keys_of(chain))
    (data_dir / "host.json").write_text(json.dumps({**info, "pid": os.getpid()}, indent=2) + "\n")
    if json_out:
        emit_json(info, compact=True)
    else:
        click.echo(f"devnet host listening on {server.url} (contract {chain.config.contract_id}, "
                   f"blocks every {block_ms} ms, data in {data_dir})")
    responder_task = None
    if responder:
        responder_task = asyncio.create_task(
            run_responder(server.url, chain.config.contract_id, data_dir / "credentials", "devnet",
                          None, stop))
    await stop.wait()
    if responder_task is not None:
        await asyncio.gather(responder_task, return_exceptions=True)
    await server.stop()
    chain.store.close()


async def run_responder(rpc_url: str, contract_id: str, credentials_dir: Path, network: str,
                        account: str | None, stop: asyncio.Event | None = None) -> None:
    """Run the dev responder with ``account``'s key (default: first participant with a key)."""
    from chainsig_core.devnet.mpc_nodes import contract_view

    from .responder import DevResponder

    if account is None:
        # A plain view call: near-kit's client would read NEAR_PRIVATE_KEY/NEAR_ACCOUNT_ID itself
        # and fail (or echo a malformed key) when they are set for another purpose.
        state = await asyncio.to_thread(contract_view, rpc_url, contract_id, "state", {})
        running = state.get("Running") if isinstance(state, dict) else None
        participants = [p[0] for p in running["parameters"]["participants"]["participants"]] if running else []
        for candidate in participants:
            if (Path(credentials_dir) / network / f"{candidate}.json").is_file():
                account = candidate
                break
        if account is None:
            raise CredentialsError(f"no participant credentials found under {credentials_dir}/{network}")
    key = load_access_key(Path(credentials_dir), network, account)
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    await DevResponder(rpc_url, contract_id, key).run(stop)
