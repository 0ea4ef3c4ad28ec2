"""Fixtures of chainsig-evm's tests: real anvil nodes (chain ids 8453 and 1) on loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ANVIL = Path(__file__).resolve().parents[3] / "tools" / "node_modules" / ".bin" / "anvil"
DEV_ACCOUNT = "dev.near"


@dataclass(frozen=True)
class Anvil:
    """A running anvil node."""

    url: str
    chain_id: int
    process: subprocess.Popen[bytes]

    def rpc(self, method: str, *params: object) -> object:
        """A raw JSON-RPC call; raises AssertionError on a JSON-RPC error."""
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
        request = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.loads(response.read())
        assert "error" not in answer, answer["error"]
        return answer["result"]

    def set_balance(self, address: str, wei: int) -> None:
        self.rpc("anvil_setBalance", address, hex(wei))

    def balance(self, address: str) -> int:
        return int(self.rpc("eth_getBalance", address, "latest"), 16)  # type: ignore[arg-type]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_anvil(chain_id: int, *extra: str) -> Anvil:
    if not ANVIL.exists():
        pytest.fail(f"anvil is not installed at {ANVIL}: run ./run (it installs the pinned npm package)")
    error = ""
    for _ in range(3):  # a free port can be taken by someone else before anvil binds it
        node, error = _try_anvil(chain_id, _free_port(), extra)
        if node is not None:
            return node
    pytest.fail(f"anvil did not start: {error[-500:]}")


def _try_anvil(chain_id: int, port: int, extra: tuple[str, ...]) -> tuple[Anvil | None, str]:
    process = subprocess.Popen(
        [str(ANVIL), "--host", "127.0.0.1", "--port", str(port), "--chain-id", str(chain_id), "--silent", *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    node = Anvil(f"http://127.0.0.1:{port}", chain_id, process)
    deadline = time.monotonic() + 30
    while True:
        try:
            if int(node.rpc("eth_chainId"), 16) == chain_id:  # type: ignore[arg-type]
                return node, ""
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            err = process.stderr.read().decode(errors="replace") if process.stderr else ""
            return None, f"port {port}: {err}"
        time.sleep(0.1)


def _stop(node: Anvil) -> None:
    node.process.terminate()
    try:
        node.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        node.process.kill()
        node.process.wait()


@pytest.fixture(scope="session")
def anvil_base() -> Iterator[Anvil]:
    """anvil with Base's chain id 8453, started once per session."""
    node = _start_anvil(8453)
    yield node
    _stop(node)


@pytest.fixture(scope="session")
def anvil_eth() -> Iterator[Anvil]:
    """anvil with Ethereum's chain id 1, started once per session."""
    node = _start_anvil(1)
    yield node
    _stop(node)


@pytest.fixture(scope="module")
def anvil_manual() -> Iterator[Anvil]:
    """anvil (chain id 8453) that mines only on ``evm_mine``: transactions stay pending."""
    node = _start_anvil(8453, "--no-mining")
    yield node
    _stop(node)


@pytest.fixture
def manual_config(chainsig_config: Path, anvil_manual: Anvil) -> Path:
    """The test's config with base ``local`` on the no-mining node and a short receipt wait."""
    chainsig_config.write_text(f'[chains.base.local]\nrpc_url = "{anvil_manual.url}"\nreceipt_timeout = 0.3\n')
    return chainsig_config


@pytest.fixture
def evm_config(chainsig_config: Path, anvil_base: Anvil, anvil_eth: Anvil) -> Path:
    """The test's config with ``local`` of base and ethereum pointing at the anvil nodes."""
    chainsig_config.write_text(
        f'[chains.base.local]\nrpc_url = "{anvil_base.url}"\nreceipt_timeout = 20\n\n'
        f'[chains.ethereum.local]\nrpc_url = "{anvil_eth.url}"\nreceipt_timeout = 20\n'
    )
    return chainsig_config


@pytest.fixture
def derived(chainsig_config: Path) -> Callable[..., str]:
    """``derived(path, chain="base")`` → the dev network's EVM address for (dev.near, path)."""
    from chainsig_core import derive_address

    def address(path: str, chain: str = "base") -> str:
        return derive_address(chain=chain, account=DEV_ACCOUNT, path=path, network="dev").address

    return address


@pytest.fixture
def unique_path(request: pytest.FixtureRequest) -> str:
    """A derivation path of its own for each test (the anvil nodes live for the session)."""
    return f"{request.node.name}-{os.getpid()}"


TOKEN_ARTIFACT = Path(__file__).parent / "data" / "TestToken.json"
ANVIL_FUNDED = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # anvil's first (unlocked) dev account


@pytest.fixture
def deploy_token() -> Callable[..., str]:
    """``deploy_token(node, holder, decimals=6, supply=…, symbol="TT")`` → the checksummed
    address of a fresh TestToken (data/TestToken.sol) whose whole supply belongs to ``holder``."""
    from web3 import Web3

    artifact = json.loads(TOKEN_ARTIFACT.read_text())

    def deploy(node: Anvil, holder: str, decimals: int = 6, supply: int = 10**12, symbol: str = "TT") -> str:
        w3 = Web3(Web3.HTTPProvider(node.url))
        contract = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
        tx_hash = contract.constructor("Test Token", symbol, decimals, supply, holder).transact({"from": ANVIL_FUNDED})
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=20)
        assert receipt["status"] == 1
        return str(receipt["contractAddress"])

    return deploy
