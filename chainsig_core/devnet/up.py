"""``chainsig devnet up / status / down``: the whole system on loopback, as separate processes.

``up`` starts, each as its own process: the NEAR devnet host (``chainsig devnet host``), the
signers (the MPC nodes, or the explicitly insecure dev responder), anvil for Ethereum and for
Base, and the LiteSVM-backed local Solana RPC; it registers network ``devnet`` and the local
chain endpoints in the config and returns the description ARCHITECTURE.md defines. ``down``
stops exactly the processes ``up`` recorded.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import register_chain_endpoints
from . import mpc_nodes
from .processes import (
    DevnetError,
    ServiceProcess,
    chainsig_argv,
    read_state,
    start_service,
    stop_service,
    write_state,
)

ANVIL_CHAIN_IDS = {"ethereum": 31337, "base": 31338}
"""Chain ids of the local anvil nodes (chain network ``local`` uses what the node reports)."""

DEFAULT_BLOCK_MS = 100


@dataclass(frozen=True)
class UpOptions:
    """What ``devnet up`` starts."""

    data_dir: Path
    nodes: int = 5
    threshold: int = 2
    block_ms: int = DEFAULT_BLOCK_MS
    signers: str = "mpc"  # "mpc" | "dev-responder"
    evm: bool = True
    solana: bool = True


def anvil_path() -> str | None:
    """The pinned anvil from ``tools/node_modules`` (installed by ./run), else one on PATH."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "tools" / "node_modules" / ".bin" / "anvil"
        if candidate.exists():
            return str(candidate)
    return shutil.which("anvil")


def up(options: UpOptions, progress: Callable[[str], None] = lambda _m: None) -> dict[str, Any]:
    """Start the devnet and return its description (ARCHITECTURE.md, ``devnet up``).

    Raises
    ------
    DevnetError
        If it is already running in ``data_dir`` or a service does not start (everything
        started so far is stopped again).
    """
    data_dir = options.data_dir.expanduser().resolve()
    existing = read_state(data_dir)
    if existing is not None and any(s.alive() for s in existing[1]):
        raise DevnetError(f"a devnet is already running in {data_dir} (chainsig devnet status / down)")
    if options.signers not in ("mpc", "dev-responder"):
        raise DevnetError(f"unknown signers {options.signers!r}: expected mpc or dev-responder")
    if options.signers == "mpc":
        _check_mpc_available(options)
    logs = data_dir / "logs"
    services: list[ServiceProcess] = []
    try:
        progress("starting the NEAR devnet host")
        host_argv = chainsig_argv(
            "devnet", "host", "--data-dir", str(data_dir / "host"), "--port", "0",
            "--block-ms", str(options.block_ms), "--json",
        )
        participants: list[dict[str, Any]] = []
        if options.signers == "dev-responder":
            host_argv.append("--responder")
        else:
            genesis = data_dir / "genesis-spec.json"
            participants = mpc_nodes.write_genesis(genesis, options.nodes, options.threshold)
            host_argv += ["--genesis", str(genesis)]
        host, match = start_service("host", host_argv, logs, r'(?m)^\{"network": ?"devnet".*\}\s*$')
        services.append(host)
        description = json.loads(match.group(0))
        nodes: list[dict[str, Any]] = []
        if options.signers == "mpc":  # the nodes generate keys while the chains start
            progress(f"initialising and starting {options.nodes} MPC nodes")
            configs = mpc_nodes.init_nodes(data_dir / "host", data_dir / "nodes", description, participants)
            nodes = mpc_nodes.start_nodes(configs, logs, services)
        chains: dict[str, dict[str, str]] = {}
        if options.evm:
            anvil = anvil_path()
            if anvil is None:
                raise DevnetError("anvil is not installed (./run installs the pinned npm package)")
            for chain, chain_id in ANVIL_CHAIN_IDS.items():
                progress(f"starting anvil for {chain}")
                proc, found = start_service(
                    f"anvil-{chain}", [anvil, "--port", "0", "--chain-id", str(chain_id)],
                    logs, r"Listening on (127\.0\.0\.1:\d+)",
                )
                services.append(proc)
                chains[chain] = {"chain_network": "local", "rpc_url": f"http://{found.group(1)}"}
        if options.solana:
            progress("starting the local Solana RPC (LiteSVM)")
            proc, found = start_service(
                "solana-local-rpc", chainsig_argv("solana", "local-rpc", "--port", "0", "--json"),
                logs, r'"rpc_url": ?"([^"]+)"',
            )
            services.append(proc)
            chains["solana"] = {"chain_network": "local", "rpc_url": found.group(1)}
        register_chain_endpoints({name: {c["chain_network"]: c["rpc_url"]} for name, c in chains.items()})
        description["chains"] = chains
        description["nodes"] = nodes
        if options.signers == "mpc":
            _wait_for_keys(description, services, progress)
        description["signers"] = options.signers
        write_state(data_dir, description, services)
        return description
    except BaseException:
        for service in reversed(services):
            stop_service(service, grace=5.0)
        raise


def status(data_dir: Path) -> dict[str, Any]:
    """The recorded description with each service's liveness.

    Raises
    ------
    DevnetError
        If no devnet was started in ``data_dir``.
    """
    state = read_state(data_dir.expanduser().resolve())
    if state is None:
        raise DevnetError(f"no devnet in {data_dir} (start one with chainsig devnet up)")
    description, services = state
    description["services"] = [{"name": s.name, "pid": s.pid, "running": s.alive(), "log": s.log} for s in services]
    description["running"] = all(s.alive() for s in services)
    return description


def down(data_dir: Path) -> list[str]:
    """Stop exactly the processes ``up`` started in ``data_dir``; returns the names stopped.

    Raises
    ------
    DevnetError
        If no devnet was started there.
    """
    data_dir = data_dir.expanduser().resolve()
    state = read_state(data_dir)
    if state is None:
        raise DevnetError(f"no devnet in {data_dir}")
    stopped = [s.name for s in reversed(state[1]) if stop_service(s)]
    (data_dir / "devnet.json").unlink(missing_ok=True)
    return stopped


def _check_mpc_available(options: UpOptions) -> None:
    import importlib.util

    if importlib.util.find_spec("chainsig_mpc") is None:
        raise DevnetError(
            "the MPC node service (chainsig-mpc) is not installed: install it, or start the devnet "
            "with --signers dev-responder (explicitly insecure: one local key answers every request)"
        )
    mpc_nodes.check_parameters(options.nodes, options.threshold)


def _wait_for_keys(description: dict[str, Any], services: list[ServiceProcess],
                   progress: Callable[[str], None]) -> None:
    """Wait until the nodes' DKGs put the contract in Running; register the root keys."""
    from ..config import register_network
    from ..keys import PublicKey

    progress("waiting for distributed key generation (domains 0 and 1)")
    running = mpc_nodes.wait_until_running(description["rpc_url"], description["contract_id"], services)
    keys = mpc_nodes.root_keys(running)
    mpc_nodes.wait_until_nodes_running(description["nodes"], sorted(keys), services=services)
    for domain in description["domains"]:
        domain["public_key"] = keys.get(domain["id"])
    description["threshold"] = running["parameters"]["threshold"]
    register_network("devnet", rpc_url=description["rpc_url"], contract_id=description["contract_id"],
                     credentials_dir=Path(description["data_dir"]) / "credentials", family="local",
                     root_public_keys={d: PublicKey.from_near_string(k) for d, k in keys.items()})
