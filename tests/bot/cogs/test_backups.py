"""/backup create | list | verify | restore against the Discord double, and the bot's
backup schedule reporting a failure to the alert channel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from backups.catalog import Catalog
from backups.crypto import Key
from backups.errors import BackupError, DamagedStoreError
from backups.manifest import Manifest
from backups.service import Backups
from bot.app import run_bot
from config import Home
from messaging.runtime import open_runtime
from tests.backups.conftest import damage_store, flip_byte
from tests.bot.conftest import GatedScreen, People, Swarm, bot_settings, running_bot, until
from tests.discord_double import DiscordDouble, NotClickable

DEFERRED, UPDATE = 5, 7


async def test_create_list_and_verify(swarm: Swarm) -> None:
    made = await swarm.run("backup create")
    shown = await swarm.final(made, "made and verified")
    backup_id = shown.content.split("`")[1]
    assert "(full)" in shown.content

    listed = await swarm.run("backup list")
    assert backup_id in (await swarm.final(listed, "**backups**")).content

    checked = await swarm.run("backup verify", backup=backup_id)
    await swarm.final(checked, "every hash matches")

    backups = Backups(swarm.rt.home, swarm.rt.settings.backups)
    archive = backups.catalog.archive(backups.catalog.get(backup_id))
    coordinates = swarm.rt.home.coordinates_file.read_bytes()
    flip_byte(archive, archive.read_bytes().index(coordinates) + 5)
    checked = await swarm.run("backup verify")
    failed = await swarm.final(checked, "failed verification")
    assert "config/coordinates.json: content changed" in failed.content
    rows = await until(
        lambda: [r for r in swarm.audit_rows() if r["command"] == "/backup verify"][1:]
    )
    assert rows[0]["outcome"] == "failed"


async def test_restore_needs_an_admin_and_a_confirmation(swarm: Swarm) -> None:
    made = await swarm.run("backup create", kind="full")
    backup_id = (await swarm.final(made, "made and verified")).content.split("`")[1]

    refused = await swarm.run("backup restore", backup=backup_id)
    answer = await swarm.double.callback(refused)
    assert answer.ephemeral and "needs an admin" in answer.content

    message_id = await asked_to_restore(swarm, backup_id)
    restore_id, _ = button_ids(swarm, message_id)

    stranger = await swarm.double.click(message_id, restore_id, swarm.people.operator)
    assert "needs an admin" in (await swarm.double.callback(stranger)).content
    restores = swarm.rt.home.var_dir / "restores"
    assert not restores.exists()

    confirmed = await swarm.double.click(message_id, restore_id, swarm.people.admin)
    assert (await swarm.double.callback(confirmed)).json["type"] == UPDATE
    done = await swarm.final(confirmed, "restored backup")
    assert swarm.double.messages[message_id]["content"] == done.content  # in place
    target = Path(done.content.split("into `")[1].split("`")[0])
    assert target.parent == restores
    assert (target / "config" / "coordinates.json").read_bytes() == (
        swarm.rt.home.coordinates_file.read_bytes()
    )
    with pytest.raises(NotClickable):  # the buttons went with the answer
        await swarm.double.click(message_id, restore_id, swarm.people.admin)


async def test_cancel_takes_the_buttons_away(swarm: Swarm) -> None:
    backup_id = await made(swarm)
    message_id = await asked_to_restore(swarm, backup_id)
    _, cancel_id = button_ids(swarm, message_id)
    cancelled = await swarm.double.click(message_id, cancel_id, swarm.people.admin)
    assert (await swarm.double.callback(cancelled)).json["type"] == UPDATE
    assert swarm.double.messages[message_id]["content"] == "restore cancelled"
    assert swarm.double.messages[message_id]["components"] == []


async def test_an_unconfirmed_restore_loses_its_buttons_when_it_times_out(swarm: Swarm) -> None:
    backups = backups_cog(swarm)
    backups.confirm_timeout_s = 0.2  # two minutes in use
    message_id = await asked_to_restore(swarm, await made(swarm))
    shown = await until(lambda: "not confirmed" in swarm.double.messages[message_id]["content"])
    assert shown and swarm.double.messages[message_id]["components"] == []
    assert not (swarm.rt.home.var_dir / "restores").exists()


async def test_a_restore_question_is_acknowledged_before_a_slow_catalog_is_read(
    swarm: Swarm,
) -> None:
    backup_id = await made(swarm)
    backups = backups_cog(swarm)
    catalog = backups.backups.catalog
    backups.backups.catalog = SlowCatalog(catalog.folder, catalog.key, swarm.double, 3.5)
    asked = await swarm.run("backup restore", swarm.people.admin, backup=backup_id)
    assert (await swarm.double.callback(asked)).json["type"] == DEFERRED
    await swarm.final(asked, "Live state is not touched")
    assert not swarm.double.failed(asked)


async def test_unknown_backup_is_named(swarm: Swarm) -> None:
    asked = await swarm.run("backup restore", swarm.people.admin, backup="20990101T000000.000Z")
    answer = await swarm.double.reply(asked, lambda c: c.ephemeral)
    assert "no backup '20990101T000000.000Z'" in answer.content


class SlowCatalog(Catalog):
    """The bot's backup catalog on a slow disk: every manifest read takes ``seconds`` of
    the Discord double's clock (a disk that slow cannot be had here)."""

    def __init__(
        self, folder: Path, key: Key | None, double: DiscordDouble, seconds: float
    ) -> None:
        super().__init__(folder, key)
        self.double = double
        self.seconds = seconds

    def get(self, backup_id: str) -> Manifest:
        self.double.clock.advance(self.seconds)
        return super().get(backup_id)


def backups_cog(swarm: Swarm) -> Any:
    """The bot's backups cog (discord.py loads the extension as a module of its own, so
    the class is not the one this module can import)."""
    cog = swarm.bot.get_cog("BackupsCog")
    assert cog is not None
    return cog


async def made(swarm: Swarm) -> str:
    created = await swarm.run("backup create")
    return (await swarm.final(created, "made and verified")).content.split("`")[1]


async def asked_to_restore(swarm: Swarm, backup_id: str) -> int:
    """Ask to restore ``backup_id`` as an admin; the id of the question's message."""
    asked = await swarm.run("backup restore", swarm.people.admin, backup=backup_id)
    assert (await swarm.double.callback(asked)).json["type"] == DEFERRED
    question = await swarm.final(asked, "Live state is not touched")
    assert "Live state is not touched" in question.content
    return int(swarm.double.original(asked)["id"])


def button_ids(swarm: Swarm, message_id: int) -> list[str]:
    buttons = swarm.double.messages[message_id]["components"][0]["components"]
    assert [b["label"] for b in buttons] == ["Restore", "Cancel"]
    return [b["custom_id"] for b in buttons]


@pytest.fixture
async def failing_schedule(
    home: Home, double: DiscordDouble, people: People
) -> AsyncIterator[DiscordDouble]:
    home.backups_dir.parent.mkdir(parents=True, exist_ok=True)
    home.backups_dir.write_text("a file where the backups folder should be")
    settings = bot_settings(
        home,
        double,
        people,
        backups={"interval_minutes": 60, "alert_channel_id": double.guild.channel_id},
    )
    async with (
        open_runtime(home, settings, GatedScreen()) as rt,
        running_bot(rt, settings, double),
    ):
        yield double


async def test_a_failed_scheduled_backup_is_posted_to_the_alert_channel(
    failing_schedule: DiscordDouble,
) -> None:
    double = failing_schedule
    posted = await until(
        lambda: [
            c
            for c in double.calls
            if c.method == "POST" and c.path == f"/channels/{double.guild.channel_id}/messages"
        ],
        timeout=10,
    )
    assert posted[0].content.startswith("⚠️ scheduled full backup failed:")


async def test_status_shows_the_continuity_checks(swarm: Swarm) -> None:
    status = await swarm.run("status")
    shown = await swarm.final(status, "**checks**")
    assert "❌ backups: no verified backup" in shown.content

    made = await swarm.run("backup create")
    await swarm.final(made, "made and verified")
    status = await swarm.run("status")
    shown = await swarm.final(status, "**checks**")
    assert "backups:" not in shown.content.split("**checks**")[1].split("\n")[0]


async def test_the_bot_does_not_start_on_a_damaged_store_or_an_unreadable_key(
    home: Home, double: DiscordDouble, people: People, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.key"
    settings = bot_settings(home, double, people, backups={"key_file": str(missing)})
    settings = settings.replaced(discord_token="test-token")
    with pytest.raises(BackupError, match=f"cannot read the backup key file {missing}"):
        await run_bot(home, settings)

    async with open_runtime(home, settings, start_desk=False) as rt:
        await rt.service.send(["Agent-1"], "makes the store")
    damage_store(home.database)
    with pytest.raises(DamagedStoreError, match="backup restore"):
        await run_bot(
            home,
            bot_settings(home, double, people).replaced(discord_token="test-token"),
        )
    assert double.gateway.identifies == 0
