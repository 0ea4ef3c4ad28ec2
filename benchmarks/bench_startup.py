"""CLI start-up time: the median wall time of short ``chainsig`` commands, run many times.

Run:  .venv/bin/python benchmarks/bench_startup.py [--runs 30]
      .venv/bin/python benchmarks/bench_startup.py --compare /tmp/old   (A/B against another tree)

Each command runs as a fresh process the way a user's shell starts it (``python -m
chainsig_core …``, bytecode cache in place: one untimed run of each writes it, and
``PYTHONDONTWRITEBYTECODE`` is dropped), with an empty configuration (``CHAINSIG_CONFIG`` points
to a missing file) so the user's config does not count. Every installed plugin loads, as for a
user who installed them all.

``--compare DIR`` also times the commands with ``DIR`` first on ``PYTHONPATH`` — a directory that
holds another ``chainsig_core`` (for example ``git archive HEAD~3 chainsig_core | tar -x -C
DIR``) — alternating the two run by run so that load from other work on a shared machine falls on
both alike. Both load the installed plugins, except plugin packages ``DIR`` also holds (a changed
``chainsig_contract``, say), which shadow the installed ones on that side.

Where the time goes: ``python -X importtime -m chainsig_core --help 2>imports.txt``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS: dict[str, list[str]] = {
    "--help": ["--help"],
    "derive --help": ["derive", "--help"],
    "derive (one address, --json)": [
        "derive", "--chain", "ethereum", "--account", "alice.near", "--path", "eth-1", "--json",
    ],
}


def environment(config: Path, pythonpath: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["CHAINSIG_CONFIG"] = str(config)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath + os.pathsep + env.get("PYTHONPATH", "")
    else:
        env.pop("PYTHONPATH", None)
    return env


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """One run: (wall seconds, CPU seconds of the process).

    ``cwd`` is an empty directory: ``python -m`` puts the working directory first on
    ``sys.path``, so run from the repository it would import that tree's ``chainsig_core``
    whatever ``PYTHONPATH`` says.
    """
    cpu, start = children_cpu(), time.perf_counter()
    subprocess.run([sys.executable, "-m", "chainsig_core", *args], env=env, check=True, cwd=cwd,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, children_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30, help="timed runs per command (and per tree)")
    parser.add_argument("--compare", type=Path, default=None, help="a directory holding another chainsig_core")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "missing.toml"
        trees = {"this tree": environment(config, None)}
        if args.compare is not None:
            if not (args.compare / "chainsig_core" / "__init__.py").exists():
                raise SystemExit(f"{args.compare} holds no chainsig_core package")
            trees = {str(args.compare): environment(config, str(args.compare.resolve())), **trees}
        print(f"median (min–max) of {args.runs} runs in ms, wall time and CPU time (user + system; other")
        print(f"work on the machine moves it less than wall time); load average {os.getloadavg()[0]:.1f}")
        for name, command in COMMANDS.items():
            for env in trees.values():
                run_once(command, env, Path(tmp))  # untimed: writes the bytecode cache
            times: dict[str, list[tuple[float, float]]] = {tree: [] for tree in trees}
            for _ in range(args.runs):
                for tree, env in trees.items():
                    times[tree].append(run_once(command, env, Path(tmp)))
            for tree, values in times.items():
                wall = [v[0] * 1000 for v in values]
                cpu = [v[1] * 1000 for v in values]
                label = f"{name} [{tree}]" if len(trees) > 1 else name
                print(
                    f"  {label:<52} wall {statistics.median(wall):5.0f} ({min(wall):.0f}–{max(wall):.0f})"
                    f"   CPU {statistics.median(cpu):5.0f} ({min(cpu):.0f}–{max(cpu):.0f})"
                )


if __name__ == "__main__":
    main()
