"""The ``[backups]`` table: defaults, values from the file and the environment, and bad
values refused in one line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import BackupKind, ConfigError, Home, load_settings


def write_toml(home: Home, text: str) -> None:
    home.settings_file.parent.mkdir(parents=True, exist_ok=True)
    home.settings_file.write_text(text, encoding="utf-8")


def test_defaults_file_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = Home(tmp_path)
    backups = load_settings(home).backups
    assert (backups.interval_minutes, backups.keep_last, backups.key_file) == (60.0, 48, None)
    assert backups.scheduled_kind is BackupKind.INCREMENTAL
    write_toml(home, "[backups]\nscheduled_kind = 'differential'\nkey_file = '/keys/b.key'\n")
    monkeypatch.setenv("CELLPHONE_BACKUPS__RPO_HOURS", "6")
    backups = load_settings(home).backups
    assert backups.scheduled_kind is BackupKind.DIFFERENTIAL
    assert backups.key_file == Path("/keys/b.key") and backups.rpo_hours == 6


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("interval_minutes = -5", "backups.interval_minutes = -5"),
        ("keep_last = 0", "backups.keep_last = 0"),
        ("scheduled_kind = 'weekly'", "backups.scheduled_kind = 'weekly'"),
        ("rto_seconds = 0", "backups.rto_seconds = 0"),
        ("keep_forever = true", "unknown setting 'backups.keep_forever'"),
    ],
)
def test_bad_values_are_named(tmp_path: Path, text: str, named: str) -> None:
    home = Home(tmp_path)
    write_toml(home, f"[backups]\n{text}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(home)
    assert named in str(caught.value) and "\n" not in str(caught.value)
