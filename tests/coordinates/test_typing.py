"""The per-agent typing keys of the coordinates file: what loads, and what is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coordinates import CoordinatesFileError, Typing, load_coordinates
from coordinates.typing import parse_keys


def load(tmp_path: Path, **entry: object) -> Typing:
    path = tmp_path / "coordinates.json"
    document = {"agents": {"Agent-1": {"chat_input_coordinates": [10, 10], **entry}}}
    path.write_text(json.dumps(document))
    return load_coordinates(path).agents["Agent-1"].typing


def test_an_entry_without_keys_pastes_with_ctrl_v_submits_with_enter_and_verifies(
    tmp_path: Path,
) -> None:
    typing = load(tmp_path)
    assert (typing.paste_keys, typing.submit_keys) == (("ctrl", "v"), ("enter",))
    assert typing.clear_keys == (("ctrl", "a"), ("delete",))
    assert typing.verify is True
    assert typing.verify_region == (600, 160)


def test_a_terminal_agent_pastes_with_ctrl_shift_v(tmp_path: Path) -> None:
    typing = load(
        tmp_path,
        paste_keys="Ctrl+Shift+V",
        submit_keys="ctrl+enter",
        clear_keys=["ctrl+e", "Ctrl+U"],
        verify=False,
        verify_region=[400, 40],
    )
    assert typing.paste_keys == ("ctrl", "shift", "v")
    assert typing.paste == "ctrl+shift+v"
    assert typing.submit_keys == ("ctrl", "enter")
    assert typing.clear_keys == (("ctrl", "e"), ("ctrl", "u"))
    assert typing.verify is False
    assert typing.verify_region == (400, 40)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"paste_keys": "ctrl+"}, r"Agent-1\.paste_keys 'ctrl\+': 'an empty part'"),
        ({"paste_keys": "cmd+v"}, r"'cmd' is not a modifier"),
        ({"submit_keys": "ctrl+return2"}, r"'return2' is not a key this tool presses"),
        ({"submit_keys": ""}, r"Agent-1\.submit_keys '' is not a key combination"),
        ({"submit_keys": 13}, r"13 is not a key combination"),
        ({"paste_keys": "ctrl+ctrl+v"}, r"names a modifier twice"),
        ({"clear_keys": "ctrl+u"}, r"Agent-1\.clear_keys must be a list of key combinations"),
        ({"clear_keys": []}, r"clear_keys must be a list"),
        ({"clear_keys": ["ctrl+u", "hyper+x"]}, r"Agent-1\.clear_keys 'hyper\+x'"),
        ({"verify": "yes"}, r"Agent-1\.verify must be true or false, not 'yes'"),
        ({"verify_region": [5, 5]}, r"Agent-1\.verify_region \[5, 5\] is not \[width, height\]"),
        ({"verify_region": [600]}, r"verify_region \[600\]"),
    ],
)
def test_bad_keys_are_refused_naming_the_agent_the_field_and_the_value(
    tmp_path: Path, entry: dict, message: str
) -> None:
    with pytest.raises(CoordinatesFileError, match=message):
        load(tmp_path, **entry)


def test_keys_are_modifiers_then_one_key() -> None:
    assert parse_keys("shift+insert") == ("shift", "insert")
    assert parse_keys(" Enter ") == ("enter",)
