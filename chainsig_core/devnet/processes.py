"""Child processes of the devnet: start with a readiness line, record, stop exactly those.

Every service the devnet runs (the NEAR host, MPC nodes, anvil, the local Solana RPC) is its
own OS process started from a command line. A service is ready when it prints a line matching
its readiness pattern on stdout; its output goes to ``<data_dir>/logs/<name>.log``. The state
file ``<data_dir>/devnet.json`` records each process's pid and start time so that ``devnet
down`` stops exactly the processes ``up`` started, and never an unrelated process that reused
a pid.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import ChainsigError

log = logging.getLogger(__name__)

STATE_FILE = "devnet.json"


class DevnetError(ChainsigError, RuntimeError):
    """A devnet service failed to start, or the devnet is in an unexpected state."""


@dataclass(frozen=True)
class ServiceProcess:
    """A running service: its name, pid, start time (from /proc) and log file."""

    name: str
    pid: int
    start_ticks: int | None
    log: str
    argv: tuple[str, ...]

    def alive(self) -> bool:
        """True while the recorded process (same pid *and* start time) runs."""
        if self.start_ticks is None:
            return _pid_exists(self.pid)
        return _start_ticks(self.pid) == self.start_ticks


def chainsig_argv(*args: str) -> list[str]:
    """``python -m chainsig_core ARGS`` with the current interpreter (no PATH lookup)."""
    return [sys.executable, "-m", "chainsig_core", *args]


def start_service(
    name: str,
    argv: Sequence[str],
    logs: Path,
    ready: str,
    *,
    timeout: float = 60.0,
    env: dict[str, str] | None = None,
) -> tuple[ServiceProcess, re.Match[str]]:
    """Start ``argv`` and wait until a stdout line matches ``ready`` (a regex).

    Returns the process record and the match (services print their URL in it).

    Raises
    ------
    DevnetError
        If the process exits or stays silent past ``timeout``; the message quotes its log's end.
    """
    return wait_ready(launch_service(name, argv, logs, env=env), ready, timeout=timeout)


@dataclass
class Launched:
    """A started process whose readiness line has not been seen yet."""

    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    offset: int
    argv: tuple[str, ...]


def launch_service(name: str, argv: Sequence[str], logs: Path, *,
                   env: dict[str, str] | None = None) -> Launched:
    """Start ``argv`` with its output appended to ``<logs>/<name>.log`` (see :func:`wait_ready`).

    Raises
    ------
    DevnetError
        If the program cannot be started.
    """
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{name}.log"
    # Output goes straight to the log file, not through a pipe: the services outlive the
    # `devnet up` process, and a closed pipe would kill them on their next write.
    with log_path.open("ab") as log:
        offset = log.tell()
        try:
            proc = subprocess.Popen(
                list(argv), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, **(env or {})}, start_new_session=True,
            )
        except OSError as exc:
            raise DevnetError(f"cannot start {name} ({argv[0]}): {exc.strerror}") from None
    return Launched(name, proc, log_path, offset, tuple(argv))


def wait_ready(launched: Launched, ready: str, *, timeout: float = 60.0) -> tuple[ServiceProcess, re.Match[str]]:
    """Wait until the launched process prints a line matching ``ready``.

    Raises
    ------
    DevnetError
        If the process exits or stays silent past ``timeout`` (it is then stopped).
    """
    proc, log_path = launched.proc, launched.log_path
    pattern = re.compile(ready)
    deadline = time.monotonic() + timeout
    match: re.Match[str] | None = None
    while match is None:
        with log_path.open("rb") as handle:
            handle.seek(launched.offset)
            match = pattern.search(handle.read().decode("utf-8", "replace"))
        if match is not None:
            break
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_pid(proc.pid, grace=2.0)
            state = "exited" if proc.poll() is not None else f"was not ready after {timeout:.0f} s"
            raise DevnetError(f"{launched.name} {state}; last log lines: {_tail(log_path)}")
        time.sleep(0.05)
    record = ServiceProcess(launched.name, proc.pid, _start_ticks(proc.pid), str(log_path), launched.argv)
    return record, match


def stop_pid(pid: int, grace: float = 10.0) -> bool:
    """SIGTERM the process group of ``pid``, then SIGKILL after ``grace`` seconds.

    Returns whether the process ended without the SIGKILL.
    """
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                return sig == signal.SIGTERM
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not _pid_exists(pid):
                return sig == signal.SIGTERM
            time.sleep(0.05)
    return False


def stop_service(service: ServiceProcess, grace: float = 10.0) -> bool:
    """Stop ``service`` if it is still the process that was started. Returns whether it ran."""
    if not service.alive():
        return False
    if not stop_pid(service.pid, grace):
        log.warning("%s did not stop within %.0f s of SIGTERM and was killed (its log: %s)",
                    service.name, grace, service.log)
    return True


def write_state(data_dir: Path, description: dict[str, Any], services: Sequence[ServiceProcess]) -> Path:
    """Write ``devnet.json``: the ``devnet up`` description plus the service records."""
    path = data_dir / STATE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"description": description, "services": [asdict(s) for s in services]}, indent=2))
    os.replace(tmp, path)
    return path


def read_state(data_dir: Path) -> tuple[dict[str, Any], list[ServiceProcess]] | None:
    """The recorded devnet in ``data_dir``, or ``None`` when there is none.

    Raises
    ------
    DevnetError
        If the state file is unreadable.
    """
    path = data_dir / STATE_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        services = [
            ServiceProcess(s["name"], int(s["pid"]), s.get("start_ticks"), s["log"], tuple(s.get("argv", ())))
            for s in data["services"]
        ]
        return dict(data["description"]), services
    except (OSError, ValueError, KeyError, TypeError):
        raise DevnetError(f"{path} is unreadable; remove it after stopping any leftover processes") from None


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped) is not running
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return True


def _start_ticks(pid: int) -> int | None:
    """The process start time in clock ticks since boot (field 22 of /proc/PID/stat)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        return int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def _tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text("utf-8", "replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(text[-lines:]) or "(empty log)"
