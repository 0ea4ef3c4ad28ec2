"""The MPC side of ``chainsig devnet up --signers mpc``: genesis, node setup, waiting for keys.

1. A genesis with N participants whose URLs point at free loopback ports, the contract in
   ``Initializing`` with domain 0 (secp256k1, ``DamgardEtAl``) and domain 1 (ed25519,
   ``Frost``), both with reconstruction threshold K.
2. After the host created the accounts: ``chainsig mpc import`` per node (its NEAR key and its
   TLS identity are the ones the genesis registered in the contract — ``mpc init`` would make
   fresh ones), then one ``chainsig mpc node`` process per node.
3. Wait until the contract is Running (the nodes ran the DKGs and voted), then read the root
   keys. Core never imports the MPC package: it drives its commands as processes.
"""

from __future__ import annotations

import json
import random
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError
from .processes import DevnetError, ServiceProcess, chainsig_argv, launch_service, stop_pid, wait_ready

RUNNING_TIMEOUT = 180.0


_FIXED_PORTS_FROM = 20000
"""Lowest port :func:`free_ports` picks (above the well-known and most registered services)."""


def free_ports(count: int) -> list[int]:
    """``count`` distinct free TCP ports on 127.0.0.1 for MPC nodes, below the ephemeral range.

    A node's port is fixed in the genesis before the node binds it. A port the kernel hands out
    for ``bind(0)`` is an ephemeral one, which any outgoing connection on the machine (a peer's
    TLS link, an RPC client) may take as its local port in that gap — then the node cannot
    listen ("address already in use"). Ports below the ephemeral range are never given to
    outgoing connections, so only another listener could take them; each is checked free here.
    """
    low = _ephemeral_range_start()
    if low <= _FIXED_PORTS_FROM + 1000:  # an unusual range: fall back to kernel-chosen ports
        return _kernel_chosen_ports(count)
    rng = random.SystemRandom()
    ports: list[int] = []
    while len(ports) < count:
        port = rng.randrange(_FIXED_PORTS_FROM, low)
        if port not in ports and _can_listen(port):
            ports.append(port)
    return ports


def _ephemeral_range_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default; other systems start higher (49152)


def _can_listen(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _kernel_chosen_ports(count: int) -> list[int]:
    sockets, ports = [], []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in sockets:
            s.close()
    return ports


def check_parameters(nodes: int, threshold: int) -> None:
    """Robust ECDSA needs 2K − 1 ≤ N; K ≥ 2 so no single node can sign.

    Raises
    ------
    InvalidInputError
    """
    if threshold < 2:
        raise InvalidInputError("the threshold K must be at least 2 (one node alone must not sign)")
    if 2 * threshold - 1 > nodes:
        raise InvalidInputError(f"robust ECDSA with K = {threshold} needs at least {2 * threshold - 1} nodes, got {nodes}")


def write_genesis(path: Path, nodes: int, threshold: int) -> list[dict[str, Any]]:
    """Write the genesis spec; returns the participants (account short name, url, port)."""
    ports = free_ports(nodes)
    participants = [{"account_id": f"node{i}", "url": f"https://127.0.0.1:{port}", "port": port}
                    for i, port in enumerate(ports)]
    spec = {
        "participants": [{"account_id": p["account_id"], "url": p["url"]} for p in participants],
        "contract": {"state": "initializing", "domains": [
            {"id": 0, "protocol": "DamgardEtAl", "reconstruction_threshold": threshold, "purpose": "Sign"},
            {"id": 1, "protocol": "Frost", "reconstruction_threshold": threshold, "purpose": "Sign"},
        ]},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(spec, indent=2))
    return participants


def init_nodes(host_dir: Path, nodes_dir: Path, description: dict[str, Any],
               participants: list[dict[str, Any]]) -> list[Path]:
    """``chainsig mpc import`` for every node (in parallel); returns the config paths.

    Raises
    ------
    DevnetError
    """
    registrar = description["contract_id"].split(".", 2)[-1]
    jobs = []
    for p in participants:
        account = f"{p['account_id']}.{registrar}"
        p["account"] = account
        argv = chainsig_argv(
            "mpc", "import", "--data-dir", str(nodes_dir / p["account_id"]), "--account", account,
            "--rpc-url", description["rpc_url"], "--contract-id", description["contract_id"],
            "--listen", f"127.0.0.1:{p['port']}",
            "--account-key-file", str(host_dir / "credentials" / "devnet" / f"{account}.json"),
            "--tls-key-file", str(host_dir / "tls" / "devnet" / f"{account}.json"), "--json",
        )
        jobs.append(subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    configs = []
    for job in jobs:
        out, err = job.communicate(timeout=120)
        if job.returncode != 0:
            raise DevnetError(f"chainsig mpc import failed: {(err or out).strip().splitlines()[-1:]}")
        configs.append(Path(json.loads(out)["config"]))
    return configs


def start_nodes(configs: list[Path], logs: Path, services: list[ServiceProcess],
                extra_args: Mapping[Path, Sequence[str]] | None = None) -> list[dict[str, Any]]:
    """Start one ``chainsig mpc node`` process per config (all at once, then wait for each
    ready line); appends them to ``services``. Returns the ``nodes`` entries of the description.
    ``extra_args`` adds arguments to the nodes of some configs (tests start a misbehaving node
    with ``--insecure-corrupt``).

    Raises
    ------
    DevnetError
        If a node does not become ready (the nodes launched are stopped).
    """
    extra_args = extra_args or {}
    launched = [launch_service(f"mpc-{c.parent.name}",
                               chainsig_argv("mpc", "node", "--config", str(c), *extra_args.get(c, ())), logs)
                for c in configs]
    nodes = []
    try:
        for item in launched:
            record, match = wait_ready(item, r'(?m)^\{"ready".*\}\s*$', timeout=90.0)
            services.append(record)
            info = json.loads(match.group(0))
            nodes.append({"account_id": info["account_id"], "url": info["url"], "pid": record.pid,
                          "metrics_url": info["metrics_url"]})
    except BaseException:
        for item in launched:
            if item.proc.poll() is None and all(s.pid != item.proc.pid for s in services):
                stop_pid(item.proc.pid, grace=2.0)
        raise
    return nodes


def contract_view(rpc_url: str, contract_id: str, method: str, args: dict[str, Any]) -> Any:
    """One view call of the signer contract through the host's JSON-RPC (``state``,
    ``public_key``, …); the decoded JSON result.

    Raises
    ------
    DevnetError
        If the host refuses the view.
    """
    import base64

    import httpx

    body = {"jsonrpc": "2.0", "id": "devnet-up", "method": "query", "params": {
        "request_type": "call_function", "finality": "optimistic", "account_id": contract_id,
        "method_name": method, "args_base64": base64.b64encode(json.dumps(args).encode()).decode()}}
    answer = httpx.post(rpc_url, json=body, timeout=10).json()
    if "error" in answer:
        raise DevnetError(f"the devnet host refused the {method} view: {answer['error'].get('message')}")
    return json.loads(bytes(answer["result"]["result"]))


def wait_until_running(rpc_url: str, contract_id: str, services: list[ServiceProcess],
                       timeout: float = RUNNING_TIMEOUT) -> dict[str, Any]:
    """Poll the contract's ``state`` until Running; returns the Running state.

    Raises
    ------
    DevnetError
        If a service died or the deadline passed.
    """
    deadline = time.monotonic() + timeout
    state: Any = None
    while time.monotonic() < deadline:
        dead = [s.name for s in services if not s.alive()]
        if dead:
            raise DevnetError(f"{', '.join(dead)} stopped during key generation (see the logs)")
        state = contract_view(rpc_url, contract_id, "state", {})
        if isinstance(state, dict) and "Running" in state:
            return state["Running"]
        time.sleep(0.2)
    phase = next(iter(state)) if isinstance(state, dict) else state
    raise DevnetError(f"the MPC nodes did not finish key generation within {timeout:.0f} s (state: {phase})")


def wait_until_nodes_running(nodes: list[dict[str, Any]], domain_ids: list[int],
                             timeout: float = 30.0, services: Sequence[ServiceProcess] = ()) -> None:
    """Poll each node's ``/health`` until it reports Running with a share of every domain:
    the contract turns Running a poll before the nodes see it and commit their shares.

    Raises
    ------
    DevnetError
        If a node does not report it within ``timeout`` seconds, or one of ``services`` stopped.
    """
    import httpx

    deadline = time.monotonic() + timeout
    for node in nodes:
        if not node.get("metrics_url"):
            continue  # a node without a metrics endpoint cannot be asked
        while True:
            try:
                health = httpx.get(node["metrics_url"] + "/health", timeout=5).json()
                if health.get("state") == "Running" and set(domain_ids) <= set(health.get("domains", [])):
                    break
            except (httpx.HTTPError, ValueError):
                pass
            dead = [service.name for service in services if not service.alive()]
            if dead:
                raise DevnetError(f"{', '.join(dead)} stopped while the nodes took up their keys (see the logs)")
            if time.monotonic() > deadline:
                raise DevnetError(f"{node['account_id']} did not report Running with its key shares "
                                  f"within {timeout:.0f} s (see its log)")
            time.sleep(0.1)


def root_keys(running: dict[str, Any]) -> dict[int, str]:
    """Domain id → NEAR key string of a Running state."""
    keys = {}
    for entry in running["keyset"]["domains"]:
        key = entry["key"]
        keys[entry["domain_id"]] = (key["Secp256k1"]["near_public_key"] if "Secp256k1" in key
                                    else key["Ed25519"]["near_public_key_compressed"])
    return keys
