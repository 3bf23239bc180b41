"""``cellphone coords`` on the real display: check, show, calibrate."""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from agents.home import prepare_home
from config import Home
from coordinates.cli import app
from coordinates.virtual_display import VirtualDisplay

pytestmark = pytest.mark.display

DOCUMENT = {
    "agents": {
        "Agent-1": {"chat_input_coordinates": [480, 1500], "active": True},
        "Agent-2": {
            "chat_input_coordinates": [2400, 1500],
            "onboarding_coordinates": [2400, 1900],
            "description": "Architecture",
            "active": True,
        },
        "Agent-3": {"chat_input_coordinates": [2500, 300], "active": False},
    }
}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "coordinates.json").write_text(json.dumps(DOCUMENT))
    return tmp_path


def coords(home: Path) -> dict:
    return json.loads((home / "config" / "coordinates.json").read_text())


def test_check_passes_when_only_an_inactive_agent_is_off_screen(
    x_display: VirtualDisplay, home: Path
) -> None:
    result = CliRunner().invoke(app, ["--home", str(home), "check", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["points"]
    assert [(r["agent"], r["kind"], r["monitor"]) for r in rows] == [
        ("Agent-1", "chat", "DUMMY0"),
        ("Agent-2", "chat", "DUMMY1"),
        ("Agent-2", "onboarding", "DUMMY1"),
        ("Agent-3", "chat", None),
    ]
    assert rows[3]["problem"].startswith("point (2500, 300) is on no monitor (dead zone")


def test_check_fails_on_an_active_agent_in_a_dead_zone(
    x_display: VirtualDisplay, home: Path
) -> None:
    document = coords(home)
    document["agents"]["Agent-3"]["active"] = True
    (home / "config" / "coordinates.json").write_text(json.dumps(document))
    result = CliRunner().invoke(app, ["check", "--home", str(home)], terminal_width=200)
    assert result.exit_code == 1
    assert "Agent-3" in result.output and "dead zone" in result.output


def test_check_fails_on_the_placeholder_points_of_init(
    x_display: VirtualDisplay, tmp_path: Path
) -> None:
    prepare_home(Home(tmp_path))
    result = CliRunner().invoke(app, ["check", "--home", str(tmp_path), "--json"])
    assert result.exit_code == 1, result.output
    first = json.loads(result.output)["points"][0]
    assert (first["agent"], first["kind"], first["monitor"]) == ("Agent-1", "chat", "DUMMY2")
    assert first["valid"] is False
    assert first["problem"] == (
        "a placeholder, not calibrated: run `cellphone coords calibrate Agent-1`"
    )


def test_check_without_coordinates_file_is_one_line_and_exit_2(
    x_display: VirtualDisplay, tmp_path: Path
) -> None:
    result = CliRunner().invoke(app, ["check", "--home", str(tmp_path)])
    assert result.exit_code == 2
    assert "coordinates file" in result.output and "not found" in result.output


def test_show_writes_a_picture_of_the_desktop(
    x_display: VirtualDisplay, home: Path, tmp_path: Path
) -> None:
    png = tmp_path / "layout.png"
    result = CliRunner().invoke(app, ["show", "--home", str(home), "--png", str(png)])
    assert result.exit_code == 0, result.output
    with Image.open(png) as image:
        width, height = image.size
        assert image.format == "PNG"
    assert width > 1000 and abs(width / height - 4040 / 2104) < 0.2


def test_calibrate_saves_the_clicked_point(x_display: VirtualDisplay, home: Path) -> None:
    finished = threading.Event()

    def operator() -> None:
        # The prompt shows once pynput listens; click until the command has its click.
        while not finished.wait(0.2):
            subprocess.run(
                ["xdotool", "mousemove", "3000", "1200", "click", "1"],
                env=x_display.env(),
                check=True,
                timeout=5,
            )

    clicking = threading.Thread(target=operator, daemon=True)
    clicking.start()
    try:
        result = CliRunner().invoke(
            app, ["calibrate", "Agent-2", "--onboarding", "--timeout", "10", "--home", str(home)]
        )
    finally:
        finished.set()
        clicking.join(10)
    assert result.exit_code == 0, result.output
    assert "Click the onboarding input of Agent-2 (Architecture)" in result.output
    assert "onboarding point (3000, 1200) on DUMMY1" in result.output
    assert coords(home)["agents"]["Agent-2"]["onboarding_coordinates"] == [3000, 1200]
    assert len(list((home / "config").glob("coordinates.json.*.bak"))) == 1


def test_calibrate_needs_an_agent_or_all(x_display: VirtualDisplay, home: Path) -> None:
    result = CliRunner().invoke(app, ["calibrate", "--home", str(home)])
    assert result.exit_code == 2
    assert "name one AGENT or pass --all" in result.output
