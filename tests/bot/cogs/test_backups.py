"""/backup create | list | verify | restore against the Discord double, and the bot's
backup schedule reporting a failure to the alert channel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from backups.errors import BackupError, DamagedStoreError
from backups.service import Backups
from bot.app import run_bot
from config import Home
from messaging.runtime import open_runtime
from tests.backups.conftest import damage_store, flip_byte
from tests.bot.conftest import GatedScreen, People, Swarm, bot_settings, running_bot, until
from tests.discord_double import DiscordDouble

MESSAGE = 4


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

    asked = await swarm.run("backup restore", swarm.people.admin, backup=backup_id)
    question = await swarm.double.callback(asked)
    assert question.json["type"] == MESSAGE and "Live state is not touched" in question.content
    message_id = int(swarm.double.original(asked)["id"])
    buttons = swarm.double.messages[message_id]["components"][0]["components"]
    assert [b["label"] for b in buttons] == ["Restore", "Cancel"]
    restore_id = buttons[0]["custom_id"]

    stranger = await swarm.double.click(message_id, restore_id, swarm.people.operator)
    assert "needs an admin" in (await swarm.double.callback(stranger)).content
    restores = swarm.rt.home.var_dir / "restores"
    assert not restores.exists()

    confirmed = await swarm.double.click(message_id, restore_id, swarm.people.admin)
    done = await swarm.final(confirmed, "restored backup")
    target = Path(done.content.split("into `")[1].split("`")[0])
    assert target.parent == restores
    assert (target / "config" / "coordinates.json").read_bytes() == (
        swarm.rt.home.coordinates_file.read_bytes()
    )


async def test_unknown_backup_is_named(swarm: Swarm) -> None:
    asked = await swarm.run("backup restore", swarm.people.admin, backup="20990101T000000.000Z")
    answer = await swarm.double.callback(asked)
    assert answer.ephemeral and "no backup '20990101T000000.000Z'" in answer.content


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
