from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, Home, load_settings


def test_one_machine_by_default(tmp_path: Path) -> None:
    cluster = load_settings(Home(tmp_path)).cluster
    assert cluster.redis_url is None  # no Redis unless asked for
    assert cluster.when_desk_away == "wait"


def test_address_and_password_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CELLPHONE_CLUSTER__REDIS_URL", "rediss://10.0.0.5:6380")
    monkeypatch.setenv("CELLPHONE_CLUSTER__PASSWORD", "s3cret-desk")
    monkeypatch.setenv("CELLPHONE_CLUSTER__AWAY_AFTER_S", "3")
    settings = load_settings(Home(tmp_path))
    assert settings.cluster.redis_url == "rediss://10.0.0.5:6380"
    assert settings.cluster.away_after_s == 3
    assert settings.cluster.password is not None
    assert "s3cret-desk" not in repr(settings)


def test_an_address_that_is_no_redis_one_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CELLPHONE_CLUSTER__REDIS_URL", "http://10.0.0.5")
    with pytest.raises(ConfigError, match=r"cluster\.redis_url = 'http://10\.0\.0\.5'.*redis://"):
        load_settings(Home(tmp_path))
