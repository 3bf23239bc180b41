from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, DeliveryMode, Home, load_settings, resolve_home


def write_toml(home: Home, text: str) -> None:
    home.settings_file.parent.mkdir(parents=True, exist_ok=True)
    home.settings_file.write_text(text, encoding="utf-8")


def test_defaults_without_any_file(tmp_path: Path) -> None:
    settings = load_settings(Home(tmp_path))
    assert settings.messaging.max_message_length == 20_000
    assert settings.messaging.delivery_mode is DeliveryMode.AUTO
    assert settings.discord_token is None


def test_file_then_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = Home(tmp_path)
    write_toml(home, "[messaging]\nmax_message_length = 500\noperator_name = 'Ops'\n")
    assert load_settings(home).messaging.max_message_length == 500
    monkeypatch.setenv("CELLPHONE_MESSAGING__MAX_MESSAGE_LENGTH", "700")
    settings = load_settings(home)
    assert settings.messaging.max_message_length == 700
    assert settings.messaging.operator_name == "Ops"  # the file's other keys stay


def test_token_from_dotenv_is_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    (tmp_path / ".env").write_text("DISCORD_TOKEN=abc.def\n", encoding="utf-8")
    settings = load_settings(Home(tmp_path))
    assert settings.discord_token is not None
    assert settings.discord_token.get_secret_value() == "abc.def"
    assert "abc.def" not in repr(settings)


def test_bad_value_names_key_value_and_allowed(tmp_path: Path) -> None:
    home = Home(tmp_path)
    write_toml(home, "[messaging]\ndelivery_mode = 'telepathy'\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(home)
    text = str(caught.value)
    assert "messaging.delivery_mode" in text
    assert "'telepathy'" in text
    assert "'auto', 'gui' or 'inbox'" in text
    assert "\n" not in text


def test_bad_environment_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CELLPHONE_MESSAGING__MAX_MESSAGE_LENGTH", "-5")
    with pytest.raises(ConfigError, match=r"max_message_length = '-5'.*greater than or equal"):
        load_settings(Home(tmp_path))


def test_unknown_key_is_refused(tmp_path: Path) -> None:
    home = Home(tmp_path)
    write_toml(home, "[gui]\npause_after_clik_s = 1\n")
    with pytest.raises(ConfigError, match=r"unknown setting 'gui.pause_after_clik_s'"):
        load_settings(home)


def test_broken_toml(tmp_path: Path) -> None:
    home = Home(tmp_path)
    write_toml(home, "[messaging\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(home)


def test_home_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CELLPHONE_HOME", str(tmp_path / "from-env"))
    assert resolve_home(None).root == tmp_path / "from-env"
    assert resolve_home(tmp_path / "flag").root == tmp_path / "flag"
    monkeypatch.delenv("CELLPHONE_HOME")
    monkeypatch.chdir(tmp_path)
    assert resolve_home(None).root == tmp_path
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        resolve_home(tmp_path / "afile")


def test_dotenv_may_hold_other_programs_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    (tmp_path / ".env").write_text(
        "OPENAI_API_KEY=sk-test\nCELLPHONE_LOG_LEVEL=DEBUG\nCELLPHONE_HOME=/elsewhere\n"
        "DISCORD_TOKEN=abc.def\nCELLPHONE_MESSAGING__MAX_MESSAGE_LENGTH=500\n",
        encoding="utf-8",
    )
    settings = load_settings(Home(tmp_path))
    assert settings.messaging.max_message_length == 500
    assert settings.discord_token is not None
    assert settings.discord_token.get_secret_value() == "abc.def"


def test_an_unknown_key_of_a_table_is_refused_from_env_file_or_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = Home(tmp_path)
    (tmp_path / ".env").write_text("CELLPHONE_MESSAGING__MAX_LENGHT=5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown setting 'messaging\.max_lenght'.*\.env"):
        load_settings(home)
    (tmp_path / ".env").unlink()
    monkeypatch.setenv("CELLPHONE_GUI__CLEAR_INPUTS", "1")
    with pytest.raises(ConfigError, match=r"unknown setting 'gui\.clear_inputs'"):
        load_settings(home)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[messaging]\nwait_timeout_s = 86401\n", "less than or equal to 86400"),
        ('[messaging]\noperator_name = "Ops\\nto: Agent-9"\n', "one line of printable"),
    ],
)
def test_bounded_settings(tmp_path: Path, text: str, words: str) -> None:
    home = Home(tmp_path)
    write_toml(home, text)
    with pytest.raises(ConfigError, match=words):
        load_settings(home)


def test_dotenv_lines_read_as_a_shell_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    (tmp_path / ".env").write_text(
        "# the bot\nexport DISCORD_TOKEN='abc.def'\n"
        'CELLPHONE_MESSAGING__FOOTER="two\\nlines: \\"quoted\\""\n'
        "CELLPHONE_MESSAGING__OPERATOR_NAME=Ops # the night shift\n"
        "CELLPHONE_DISCORD__ADMIN_USER_IDS=[1, 22]\n"
        "not a variable\n",
        encoding="utf-8",
    )
    settings = load_settings(Home(tmp_path))
    assert settings.discord_token is not None
    assert settings.discord_token.get_secret_value() == "abc.def"
    assert settings.messaging.footer == 'two\nlines: "quoted"'
    assert settings.messaging.operator_name == "Ops"
    assert settings.discord.admin_user_ids == [1, 22]
    monkeypatch.setenv("CELLPHONE_DISCORD__ADMIN_USER_IDS", "[3]")  # the environment wins
    assert load_settings(Home(tmp_path)).discord.admin_user_ids == [3]


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        (
            ".env",
            b"DISCORD_TOKEN=abc\nCELLPHONE_MESSAGING__FOOTER=caf\xe9\n",
            "byte 0xe9 at offset 49",
        ),
        ("config/cellphone.toml", b"[messaging]\nfooter = '\xff'\n", "byte 0xff at offset 22"),
        (".env", b"CELLPHONE_DISCORD__ADMIN_USER_IDS=1, 2\n", "must be JSON here"),
    ],
)
def test_a_settings_file_that_cannot_be_read_is_one_line_naming_it(
    tmp_path: Path, name: str, data: bytes, words: str
) -> None:
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_bytes(data)
    with pytest.raises(ConfigError, match=words) as caught:
        load_settings(Home(tmp_path))
    assert "\n" not in str(caught.value)
    if "JSON" not in words:
        assert str(tmp_path / name) in str(caught.value) and "not UTF-8" in str(caught.value)


def test_values_from_variables_are_converted_and_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CELLPHONE_GUI__CHECK_DRAFTS", "off")
    monkeypatch.setenv("CELLPHONE_GUI__OPERATOR_IDLE_S", "0.5")
    monkeypatch.setenv("CELLPHONE_DISCORD__GUILD_ID", "1234")
    monkeypatch.setenv("CELLPHONE_BACKUPS__KEY_FILE", "keys/backup.key")
    settings = load_settings(Home(tmp_path))
    assert settings.gui.check_drafts is False
    assert settings.gui.operator_idle_s == 0.5
    assert settings.discord.guild_id == 1234
    assert settings.backups.key_file == Path("keys/backup.key")
    for name, value, words in [
        ("CELLPHONE_GUI__CHECK_DRAFTS", "maybe", "must be true or false"),
        ("CELLPHONE_GUI__OPERATOR_IDLE_S", "nan", "must be a number"),
        ("CELLPHONE_DISCORD__GUILD_ID", "12.5", "must be an integer"),
        ("CELLPHONE_GUI__WHEN_OPERATOR_BUSY", "wait", "must be 'inbox' or 'deliver'"),
        ("CELLPHONE_MESSAGING__OPERATOR_NAME", "", "must be at least 1 character long"),
    ]:
        monkeypatch.setenv(name, value)
        with pytest.raises(ConfigError, match=words):
            load_settings(Home(tmp_path))
        monkeypatch.delenv(name)


def test_every_bad_key_is_counted_and_tables_nest(tmp_path: Path) -> None:
    home = Home(tmp_path)
    write_toml(
        home,
        "[gui]\noperator_idle_s = -1\ndraft_retry_s = 0\n"
        "[[devlogs.summary_providers]]\nbase_url = 'http://127.0.0.1:9'\nmodel = 'm'\n"
        "[[devlogs.summary_providers]]\nmodle = 'typo'\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(home)
    text = str(caught.value)
    assert text.startswith("setting gui.draft_retry_s = 0 is invalid: must be greater than 0;")
    assert text.endswith("(and 2 more)")
    write_toml(home, "[[devlogs.summary_providers]]\nbase_url = 'http://127.0.0.1:9'\n")
    (provider,) = load_settings(home).devlogs.summary_providers
    assert provider.base_url == "http://127.0.0.1:9"
    assert provider.model == "gpt-4o-mini"


def test_settings_are_read_only_and_copied_with_changes(tmp_path: Path) -> None:
    settings = load_settings(Home(tmp_path))
    with pytest.raises(AttributeError, match="read-only"):
        settings.messaging.max_message_length = 10  # type: ignore[misc]
    changed = settings.replaced(messaging={"max_message_length": 10})
    assert changed.messaging.max_message_length == 10
    assert settings.messaging.max_message_length == 20_000
    assert changed.gui == settings.gui
    with pytest.raises(ConfigError, match=r"unknown setting 'messaging\.max_lenght'"):
        load_settings(Home(tmp_path), messaging={"max_lenght": 10})
