"""``cellphone demo`` in its own process: its own virtual display, windows, broadcast and
a screenshot showing the greeting in every window."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

pytestmark = pytest.mark.display


def test_demo_types_the_greeting_into_every_window_and_saves_a_screenshot(
    tmp_path: Path,
) -> None:
    png, home = tmp_path / "demo.png", tmp_path / "home"
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-m", "cellphone", "demo", "--png", str(png), "--home", str(home)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("delivered via gui") == 8
    with Image.open(png) as image:
        assert image.size == (3840, 1080)  # both monitors of the demo display
        assert len(image.convert("L").getcolors(256) or []) > 20  # windows and text, not blank
    received = (home / "var" / "demo-windows" / "received.jsonl").read_text(encoding="utf-8")
    assert received.count("Hello, swarm!") == 8


def test_a_terminated_demo_stops_its_display_and_windows(tmp_path: Path) -> None:
    home = tmp_path / "home"
    demo = subprocess.Popen(
        [sys.executable, "-m", "cellphone", "demo", "--home", str(home), "--png", "x.png"],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert demo.stdout is not None
    started = demo.stdout.readline()  # "virtual display :N: ..." once Xorg is up
    number = started.split()[2].strip(":")
    assert started.startswith("virtual display :") and number.isdigit(), started
    socket = Path(f"/tmp/.X11-unix/X{number}")
    assert socket.exists()
    demo.send_signal(signal.SIGTERM)
    demo.communicate(timeout=30)
    assert demo.returncode == 128 + signal.SIGTERM
    assert not socket.exists()  # Xorg removes it when it ends


def test_demo_on_a_home_with_placeholder_points_fails_at_once_saying_why(
    tmp_path: Path,
) -> None:
    home, root = tmp_path / "home", Path(__file__).resolve().parents[2]
    run = [sys.executable, "-m", "cellphone"]
    subprocess.run([*run, "init", "--home", str(home)], cwd=root, check=True, timeout=60)
    result = subprocess.run(
        [*run, "demo", "--home", str(home), "--png", str(tmp_path / "x.png")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=30,  # it used to wait out the 60 s timeout
    )
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("error: the chat points of Agent-1, Agent-2,")
    assert "are placeholders (cellphone init)" in line
    assert not (tmp_path / "x.png").exists()
