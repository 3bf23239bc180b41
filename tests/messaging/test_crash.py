"""Crash safety: a broadcast of 1,000 messages to 8 agents, killed with SIGKILL at a random
point and restarted, ends with exactly one inbox file and a final state per pair."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config import Home

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 1_000
AGENTS = [f"Agent-{n}" for n in range(1, 9)]


def start_worker(home: Home) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.messaging.crash_worker", str(home.root), str(MESSAGES)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def read_until_kill(
    worker: subprocess.Popen[str], kill_after: int | str, delay: float = 0.0
) -> list[str]:
    """Read the worker's lines; SIGKILL it ``delay`` seconds after ``kill_after`` stored
    lines, or after the line equal to ``kill_after``. Returns the ids it reported stored."""
    stored: list[str] = []
    assert worker.stdout is not None
    deadline = time.monotonic() + 120
    for line in worker.stdout:
        assert time.monotonic() < deadline
        if line.startswith("stored "):
            stored.append(line.split()[1])
        if kill_after == len(stored) or line.strip() == kill_after:
            break
    time.sleep(delay)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    return stored


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_sigkill_then_restart_loses_and_doubles_nothing(home: Home, seed: int) -> None:
    rng = random.Random(seed)
    # seeds 1-3 kill while messages are being stored and delivered; seed 4 kills during
    # the final deliveries, after everything was stored
    kill_after: int | str = rng.randrange(50, MESSAGES - 50) if seed < 4 else "submitted"
    delay = rng.uniform(0.0, 0.05) if seed < 4 else rng.uniform(0.01, 0.2)
    stored_before = read_until_kill(start_worker(home), kill_after, delay)
    rerun = start_worker(home)
    out, _ = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, out[-2000:]
    assert out.strip().endswith("done")

    db = sqlite3.connect(home.database)
    ids = {row[0] for row in db.execute("SELECT id FROM messages")}
    assert len(ids) == MESSAGES
    assert set(stored_before) <= ids
    states = db.execute("SELECT state, COUNT(*) FROM deliveries GROUP BY state").fetchall()
    assert states == [("delivered", MESSAGES * len(AGENTS))]
    for agent in AGENTS:
        inbox = home.workspaces_dir / agent / "inbox"
        names = [p.name for p in inbox.iterdir()]
        assert len(names) == MESSAGES, agent
        assert {name.split("_")[1].removesuffix(".md") for name in names} == ids
        assert not [n for n in names if n.startswith(".")]
