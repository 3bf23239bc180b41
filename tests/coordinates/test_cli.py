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
from coordinates.virtual_display import MonitorSpec, VirtualDisplay

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
    assert (width, height) == (1600, 913)  # the monitors (3840x2104) scaled, plus margins


def test_show_with_a_point_far_off_screen_keeps_the_picture_small(
    x_display: VirtualDisplay, home: Path, tmp_path: Path
) -> None:
    document = coords(home)
    # Far enough that scaling by width alone made a picture of 1600x22,600 pixels; not
    # farther, so that code could be run against this test without exhausting memory.
    document["agents"]["Agent-1"]["chat_input_coordinates"] = [100, 60_000]
    (home / "config" / "coordinates.json").write_text(json.dumps(document))
    png = tmp_path / "layout.png"
    result = CliRunner().invoke(app, ["show", "--home", str(home), "--png", str(png)])
    assert result.exit_code == 0, result.output
    with Image.open(png) as image:
        assert image.size == (1600, 913)


@pytest.mark.parametrize("where", ["a-file/layout.png", "a-folder"])
def test_show_to_an_unwritable_path_is_one_line_and_exit_2(
    x_display: VirtualDisplay, home: Path, tmp_path: Path, where: str
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    (tmp_path / "a-folder").mkdir()
    png = tmp_path / where
    result = CliRunner().invoke(app, ["show", "--home", str(home), "--png", str(png)])
    assert result.exit_code == 2
    [line] = result.output.splitlines()
    assert line.startswith(f"error: cannot write the layout picture to {png}: ")
    assert line.endswith("choose a file in a folder you can write to")


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


@pytest.mark.timeout(60)  # calibrate used to wait forever for a listener that cannot start
def test_calibrate_on_a_display_without_record_is_one_line_and_exit_2(home: Path) -> None:
    no_record = VirtualDisplay([MonitorSpec(1280, 1024)], xorg_args=("-extension", "RECORD"))
    with no_record:
        result = CliRunner().invoke(
            app,
            ["calibrate", "Agent-2", "--timeout", "30", "--home", str(home)],
            env={"DISPLAY": no_record.name},
        )
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"error: the X server on DISPLAY={no_record.name} has no RECORD extension; pynput"
        " cannot listen for clicks (start the X server with RECORD enabled, i.e. without"
        " '-extension RECORD')"
    ]
    assert coords(home) == DOCUMENT


def test_check_shows_each_agents_keys_and_verification(
    x_display: VirtualDisplay, home: Path
) -> None:
    document = coords(home)
    document["agents"]["Agent-2"].update(
        {
            "paste_keys": "ctrl+shift+v",
            "clear_keys": ["ctrl+c"],
            "verify": False,
            "verify_region": [300, 40],
        }
    )
    (home / "config" / "coordinates.json").write_text(json.dumps(document))
    result = CliRunner().invoke(app, ["--home", str(home), "check", "--json"])
    rows = {(r["agent"], r["kind"]): r for r in json.loads(result.output)["points"]}
    assert (rows["Agent-1", "chat"]["paste_keys"], rows["Agent-1", "chat"]["submit_keys"]) == (
        "ctrl+v",
        "enter",
    )
    assert rows["Agent-1", "chat"]["verify"] is True
    assert rows["Agent-1", "chat"]["clear_keys"] == ["ctrl+a", "delete"]
    assert rows["Agent-2", "chat"]["paste_keys"] == "ctrl+shift+v"
    assert rows["Agent-2", "chat"]["clear_keys"] == ["ctrl+c"]
    assert rows["Agent-2", "chat"]["verify"] is False
    assert rows["Agent-2", "chat"]["verify_region"] == [300, 40]
    wide = {"COLUMNS": "250"}
    table = CliRunner().invoke(app, ["check", "--home", str(home)], env=wide)
    assert "paste ctrl+shift+v, submit enter, clear ctrl+c" in table.output
    assert "off (deliveries unverified)" in table.output


def test_check_names_the_inputs_whose_empty_look_is_not_known(
    x_display: VirtualDisplay, home: Path
) -> None:
    from messaging.screen.look import EmptyLook, Picture, Rect
    from messaging.screen.sharing import look_file

    region = Rect(380, 1420, 200, 160)
    look = EmptyLook(Picture(region, bytes(200 * 160 * 4)), None, confirmed=True, probed=True)
    look.save(look_file(home / "var" / "looks", "Agent-1", False))
    result = CliRunner().invoke(app, ["--home", str(home), "check", "--json"])
    looks = {(r["agent"], r["kind"]): r["empty_look"] for r in json.loads(result.output)["points"]}
    assert looks == {
        ("Agent-1", "chat"): "probed",
        ("Agent-2", "chat"): "unknown",
        ("Agent-2", "onboarding"): "unknown",
        ("Agent-3", "chat"): "unknown",
    }
    text = CliRunner().invoke(app, ["--home", str(home), "check"], terminal_width=200).output
    assert "empty look not known yet: Agent-2, Agent-2 (onboarding);" in text
