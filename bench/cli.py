"""Start-up time of the ``cellphone`` command, against a bare Python in the same run.

Prints one table. Run: ``.venv/bin/python bench/cli.py [--runs N]``.

Each row is the wall time of a fresh process, median and p95 of N runs taken in turns (one
run of each command, then the next round), so a busy moment of the machine weighs on every
row alike; ratios are to ``python -c pass``; the CPU columns (user + system time of the
process) show the same while other work shares the machine:

- ``python -c pass``: the interpreter alone, the reference;
- ``cellphone --help``;
- ``cellphone send`` to the inbox, on a home made with ``cellphone init`` (no display: the
  process has none to type on, as on a server, and every delivery is an inbox file);
- ``cellphone status`` on the same home.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

VENV_BIN = Path(sys.executable).parent
TARGETS = {"cellphone --help": 0.20, "cellphone send (inbox)": 0.25}
TARGET_RATIO = 8.0  # send, against python -c pass


def commands(home: Path) -> dict[str, list[str]]:
    cellphone = str(shutil.which("cellphone", path=str(VENV_BIN)) or VENV_BIN / "cellphone")
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "cellphone --help": [cellphone, "--help"],
        "cellphone send (inbox)": [
            cellphone,
            "send",
            "Please report your status.",
            "--to",
            "Agent-1",
            "--home",
            str(home),
        ],
        "cellphone status": [cellphone, "status", "--home", str(home)],
    }


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time, and CPU time (user + system) of the process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def as_installed(environ: os._Environ[str], pycache: Path) -> dict[str, str]:
    """The environment of a user's shell: no display (every delivery is an inbox file), and
    compiled modules cached as Python does by default (kept under ``pycache``, out of the
    source tree), even where this shell turned the cache off (PYTHONDONTWRITEBYTECODE)."""
    drop = {"DISPLAY", "PYTHONDONTWRITEBYTECODE"}
    env = {name: value for name, value in environ.items() if name not in drop}
    return {**env, "PYTHONPYCACHEPREFIX": str(pycache), "COLUMNS": "120"}


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        env = as_installed(os.environ, Path(tmp) / "pycache")
        home = Path(tmp) / "swarm"
        init = [str(VENV_BIN / "cellphone"), "init", "--home", str(home)]
        subprocess.run(init, env=env, check=True, stdout=subprocess.DEVNULL)
        runs = commands(home)
        for argv in runs.values():  # warm the file cache and write the bytecode once
            timed(argv, env)
        times: dict[str, list[float]] = {name: [] for name in runs}
        cpu: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.runs):
            for name, argv in runs.items():
                wall, used = timed(argv, env)
                times[name].append(wall)
                cpu[name].append(used)
    reference = statistics.median(times["python -c pass"])
    cpu_reference = statistics.median(cpu["python -c pass"])
    table = Table(title=f"cellphone start-up, wall time of a fresh process ({args.runs} runs)")
    columns = ("command", "median", "p95", "ratio", "CPU median", "CPU ratio", "target")
    for column in columns:
        table.add_column(column, justify="left" if column == "command" else "right")
    for name, values in times.items():
        median = statistics.median(values)
        target = TARGETS.get(name)
        wanted = f"<= {target:.2f} s" if target else ""
        if name == "cellphone send (inbox)":
            wanted += f", <= {TARGET_RATIO:g}x"
        table.add_row(
            name,
            f"{median * 1000:.0f} ms",
            f"{p95(values) * 1000:.0f} ms",
            f"{median / reference:.1f}x",
            f"{statistics.median(cpu[name]) * 1000:.0f} ms",
            f"{statistics.median(cpu[name]) / cpu_reference:.1f}x",
            wanted,
        )
    console = Console()
    console.print(table)
    load = os.getloadavg()[0]
    console.print(f"load average while measuring: {load:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
