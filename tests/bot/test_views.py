"""Buttons whose question is gone (answered, timed out, or asked before a restart): a
click gets a clear private line and the buttons go, never "This interaction failed"."""

from __future__ import annotations

from bot.views import STALE_TEXT
from messaging.runtime import open_runtime
from tests.bot.cogs.test_backups import asked_to_restore, button_ids, made
from tests.bot.conftest import GatedScreen, Swarm, bot_settings, running_bot

UPDATE = 7


async def test_a_question_asked_before_a_restart_answers_a_click_privately(
    swarm: Swarm,
) -> None:
    message_id = await asked_to_restore(swarm, await made(swarm))
    restore_id, _ = button_ids(swarm, message_id)
    await swarm.bot.close()
    home, double = swarm.rt.home, swarm.double
    settings = bot_settings(home, double, swarm.people)
    await swarm.rt.desk.stop()  # the next runtime takes the desk over

    async with (
        open_runtime(home, settings, GatedScreen()) as rt,
        running_bot(rt, settings, double),
    ):
        clicked = await double.click(message_id, restore_id, swarm.people.admin)
        assert (await double.callback(clicked)).json["type"] == UPDATE
        told = await double.reply(clicked, lambda c: c.ephemeral)
        assert told.content == STALE_TEXT
        assert double.messages[message_id]["components"] == []  # gone for everyone
        assert not double.failed(clicked)
    assert not (home.var_dir / "restores").exists()
