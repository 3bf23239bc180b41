"""The forms a long message is typed into: a modal with a paragraph field, and a priority
field where the command did not ask for one.

What a user typed is never lost: a form that fails (a refusal, a wrong priority, an agent
that went away) answers with the reason and the text attached, and a form the bot no longer
knows (it expired, or the bot restarted while it was open) is answered the same way.
"""

from __future__ import annotations

import io
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import discord

from bot.access import Access, Level
from bot.audit import Auditor
from bot.errors import ErrorHandler
from messaging.model import Priority
from messaging.service import parse_priority

log = logging.getLogger(__name__)

TEXT_INPUT_LIMIT = 4_000  # Discord's most for one text field
FORM_PREFIX = "cellphone:form:"
FORM_TIMEOUT_S = 3 * 60 * 60  # long enough to write a brief on a phone
DRAFT_NAME = "your-message.md"
OnText = Callable[[discord.Interaction[Any], str, str], Awaitable[None]]


class Forms:
    """Makes the bot's message forms and answers submissions of forms it no longer has."""

    def __init__(self, errors: ErrorHandler, access: Access, auditor: Auditor) -> None:
        self.errors = errors
        self.access = access
        self.auditor = auditor
        self._open: dict[str, float] = {}  # custom id -> when the form expires

    def new(
        self,
        title: str,
        on_text: OnText,
        *,
        where: str,
        level: Level,
        priority: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> MessageModal:
        """A form calling ``on_text(interaction, body, priority)`` for a user who (still)
        holds ``level`` when submitting."""
        now = time.monotonic()
        self._open = {key: end for key, end in self._open.items() if end > now}
        custom_id = FORM_PREFIX + secrets.token_hex(8)
        self._open[custom_id] = now + FORM_TIMEOUT_S
        return MessageModal(
            self, title, on_text, custom_id, where=where, level=level, priority=priority,
            context=dict(context or {}),
        )  # fmt: skip

    def knows(self, custom_id: str) -> bool:
        return self._open.get(custom_id, 0.0) > time.monotonic()

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Answer the submission of a form of ours that discord.py no longer holds."""
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        data: Any = interaction.data or {}
        custom_id = str(data.get("custom_id", ""))
        if not custom_id.startswith(FORM_PREFIX) or self.knows(custom_id):
            return
        text = "\n\n".join(submitted_values(data))
        log.info("form %s of %s had expired; its text goes back", custom_id, interaction.user)
        try:
            await interaction.response.send_message(
                "⌛ this form had expired (forms stay open for "
                f"{FORM_TIMEOUT_S // 3600} hours, and not across a restart of the bot), so "
                "nothing was sent. What you typed is attached: send it again.",
                file=draft(text),
                ephemeral=True,
            )
        except discord.HTTPException:
            log.exception("could not answer the expired form %s", custom_id)
        await self.auditor.record(
            interaction.user, "expired form", {"message": text}, "refused: the form had expired"
        )


class MessageModal(discord.ui.Modal):
    def __init__(
        self,
        forms: Forms,
        title: str,
        on_text: OnText,
        custom_id: str,
        *,
        where: str,
        level: Level,
        priority: str | None,
        context: dict[str, Any],
    ) -> None:
        super().__init__(title=title[:45], timeout=FORM_TIMEOUT_S, custom_id=custom_id)
        self.forms = forms
        self.on_text = on_text
        self.where = where
        self.level = level
        self.fixed_priority = priority
        self.context = context
        self.body: discord.ui.TextInput[MessageModal] = discord.ui.TextInput(
            label="Message",
            style=discord.TextStyle.paragraph,
            max_length=TEXT_INPUT_LIMIT,
            placeholder="Longer than this? Attach a .md or .txt file to the command instead.",
        )
        self.add_item(self.body)
        self.priority: discord.ui.TextInput[MessageModal] | None = None
        if priority is None:
            self.priority = discord.ui.TextInput(
                label="Priority",
                required=False,
                max_length=10,
                placeholder=", ".join(p.value for p in Priority),
                default=Priority.NORMAL.value,
            )
            self.add_item(self.priority)

    @property
    def chosen_priority(self) -> str:
        chosen = self.priority.value if self.priority is not None else self.fixed_priority
        return (chosen or "").strip() or Priority.NORMAL.value

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        """Permissions may have changed while the form was open."""
        self.forms.access.require(interaction.user, interaction.guild_id, self.level)
        return True

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        priority = parse_priority(self.chosen_priority).value  # before anything is shown
        await self.on_text(interaction, self.body.value, priority)

    async def on_error(  # type: ignore[override]  # a modal's handler takes no item
        self, interaction: discord.Interaction[Any], error: Exception, /
    ) -> None:
        arguments = {**self.context, "message": self.body.value, "priority": self.chosen_priority}
        await self.forms.errors.handle(interaction, error, self.where, arguments)
        try:
            await interaction.followup.send(
                "📝 what you typed, in case you want to send it again (`/history` shows "
                "whether it went out):",
                file=draft(self.body.value),
                ephemeral=True,
            )
        except discord.HTTPException:
            log.exception("could not hand the text of a failed form back")


def draft(text: str) -> discord.File:
    return discord.File(io.BytesIO(text.encode("utf-8")), filename=DRAFT_NAME)


def submitted_values(data: Any) -> list[str]:
    """The values of the text fields of a submitted form, in order, however nested."""
    if isinstance(data, list):
        return [value for item in data for value in submitted_values(item)]
    if not isinstance(data, dict):
        return []
    own = [data["value"]] if isinstance(data.get("value"), str) and data["value"] else []
    nested = [data[key] for key in ("components", "component") if key in data]
    return own + submitted_values(nested)
