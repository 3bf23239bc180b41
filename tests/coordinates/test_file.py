from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from coordinates import CoordinatesFileError, Point, load_coordinates, save_coordinates
from coordinates.file import parse_document

V2 = {
    "agents": {
        "Agent-1": {
            "chat_input_coordinates": [-1269, 481],
            "onboarding_input_coords": [-1265, 171],
            "description": "Captain",
            "active": True,
            "x_legacy_flag": {"keep": [1, 2]},
        },
        "Agent-2": {"chat_input_coordinates": [652, 421], "description": "", "active": False},
    },
    "metadata": {"monitors": 2, "written_by": "calibrator"},
}


def write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "coordinates.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_v2_file_loads_with_negative_points(tmp_path: Path) -> None:
    doc = load_coordinates(write(tmp_path, V2))
    one = doc.agents["Agent-1"]
    assert one.chat_point == Point(-1269, 481)
    assert one.onboarding_point == Point(-1265, 171)
    assert doc.agents["Agent-2"].active is False
    assert doc.agents["Agent-2"].onboarding_point is None


def test_unchanged_file_round_trips_with_unknown_keys(tmp_path: Path) -> None:
    path = write(tmp_path, V2)
    save_coordinates(load_coordinates(path), keep_previous=False)
    assert json.loads(path.read_text(encoding="utf-8")) == V2


def test_edit_keeps_unknown_keys_the_old_key_name_and_a_copy(tmp_path: Path) -> None:
    path = write(tmp_path, V2)
    doc = load_coordinates(path).with_point("Agent-1", "onboarding", Point(10, 20))
    previous = save_coordinates(doc)
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["agents"]["Agent-1"]["onboarding_input_coords"] == [10, 20]
    assert "onboarding_coordinates" not in saved["agents"]["Agent-1"]
    assert saved["agents"]["Agent-1"]["x_legacy_flag"] == {"keep": [1, 2]}
    assert saved["metadata"] == V2["metadata"]
    assert previous is not None and json.loads(previous.read_text()) == V2
    assert not list(tmp_path.glob(".*.tmp"))


def test_calibrating_a_point_takes_it_off_the_placeholder_list(tmp_path: Path) -> None:
    entry = {"chat_input_coordinates": [1, 1], "uncalibrated": ["chat", "onboarding"]}
    path = write(tmp_path, {"agents": {"Agent-1": entry}})
    assert load_coordinates(path).agents["Agent-1"].uncalibrated == {"chat", "onboarding"}
    chat_done = load_coordinates(path).with_point("Agent-1", "chat", Point(5, 6))
    assert chat_done.agents["Agent-1"].uncalibrated == {"onboarding"}
    both_done = chat_done.with_point("Agent-1", "onboarding", Point(5, 9))
    assert both_done.agents["Agent-1"].uncalibrated == frozenset()
    assert "uncalibrated" not in both_done.raw["agents"]["Agent-1"]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"chat_input_coordinates": [1]}, r"Agent-1\.chat_input_coordinates must be \[x, y\]"),
        ({"chat_input_coordinates": ["a", 2]}, r"Agent-1\.chat_input_coordinates"),
        ({"chat_input_coordinates": [1.5, 2]}, r"Agent-1\.chat_input_coordinates"),
        ({"onboarding_coordinates": [1, True]}, r"Agent-1\.onboarding_coordinates"),
        ({"active": "yes"}, r"Agent-1\.active must be true or false, not 'yes'"),
        ({"description": 7}, r"Agent-1\.description must be a string"),
        ({"window_title": "("}, r"Agent-1\.window_title '\(' is not a valid pattern"),
        ("nope", r"Agent-1: entry must be an object"),
        ({"uncalibrated": ["chat", "keyboard"]}, r"Agent-1\.uncalibrated must be a list of"),
        ({"uncalibrated": "chat"}, r"Agent-1\.uncalibrated must be a list of"),
    ],
)
def test_schema_errors_name_agent_and_field(tmp_path: Path, entry: object, expected: str) -> None:
    with pytest.raises(CoordinatesFileError, match=expected):
        load_coordinates(write(tmp_path, {"agents": {"Agent-1": entry}}))


@pytest.mark.parametrize(
    "agent_id", ["../x", "Agent-1/../../etc", "", ".hidden", "a b", "Agent-1\n"]
)
def test_ids_that_could_be_paths_are_refused(tmp_path: Path, agent_id: str) -> None:
    with pytest.raises(CoordinatesFileError, match="is not allowed"):
        load_coordinates(write(tmp_path, {"agents": {agent_id: {}}}))


def test_missing_and_corrupt_files(tmp_path: Path) -> None:
    with pytest.raises(CoordinatesFileError, match="not found; run `cellphone init`"):
        load_coordinates(tmp_path / "absent.json")
    path = tmp_path / "coordinates.json"
    path.write_text('{"agents": {"Agent-1": ', encoding="utf-8")
    with pytest.raises(CoordinatesFileError, match=r"not valid JSON \(line 1"):
        load_coordinates(path)
    with pytest.raises(CoordinatesFileError, match='expected an object with an "agents"'):
        load_coordinates(write(tmp_path, [1, 2]))


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o664])
def test_saving_keeps_the_mode_of_the_file_it_replaces(tmp_path: Path, mode: int) -> None:
    path = write(tmp_path, V2)
    path.chmod(mode)
    save_coordinates(load_coordinates(path).with_point("Agent-2", "chat", Point(1, 2)))
    assert stat.S_IMODE(path.stat().st_mode) == mode
    [backup] = tmp_path.glob("coordinates.json.*.bak")
    assert stat.S_IMODE(backup.stat().st_mode) == mode


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640)])
def test_a_new_file_gets_the_mode_the_umask_gives(tmp_path: Path, umask: int, mode: int) -> None:
    path = tmp_path / "config" / "coordinates.json"
    old = os.umask(umask)
    try:
        assert save_coordinates(parse_document(V2, path)) is None  # nothing to keep
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert json.loads(path.read_text(encoding="utf-8")) == V2


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_saving_as_root_keeps_the_owner(tmp_path: Path) -> None:
    path = write(tmp_path, V2)
    os.chown(path, 65534, 65534)  # nobody:nogroup, as if the operator's file
    save_coordinates(load_coordinates(path).with_point("Agent-2", "chat", Point(1, 2)))
    assert (path.stat().st_uid, path.stat().st_gid) == (65534, 65534)


def test_saving_through_a_symlink_replaces_its_target_and_keeps_the_link(
    tmp_path: Path,
) -> None:
    (tmp_path / "dotfiles").mkdir()
    target = write(tmp_path / "dotfiles", V2)
    link = tmp_path / "config" / "coordinates.json"
    link.parent.mkdir()
    link.symlink_to(Path("..") / "dotfiles" / "coordinates.json")
    backup = save_coordinates(load_coordinates(link).with_point("Agent-2", "chat", Point(1, 2)))
    assert link.is_symlink()
    assert os.readlink(link) == str(Path("..") / "dotfiles" / "coordinates.json")
    saved = json.loads(target.read_text(encoding="utf-8"))
    assert saved["agents"]["Agent-2"]["chat_input_coordinates"] == [1, 2]
    assert backup is not None and backup.parent == link.parent and not backup.is_symlink()
    assert json.loads(backup.read_text(encoding="utf-8")) == V2
    assert not list(target.parent.glob(".*.tmp"))


def test_a_file_with_a_utf8_byte_order_mark_loads(tmp_path: Path) -> None:
    path = tmp_path / "coordinates.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(V2, ensure_ascii=False).encode("utf-8"))
    assert load_coordinates(path).agents["Agent-1"].chat_point == Point(-1269, 481)


def test_a_file_that_cannot_be_saved_is_a_coordinates_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    path = tmp_path / "a-file" / "coordinates.json"
    with pytest.raises(CoordinatesFileError, match=f"cannot save coordinates file {path}: "):
        save_coordinates(parse_document(V2, path))
