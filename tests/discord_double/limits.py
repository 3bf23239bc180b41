"""Sizes Discord refuses, as the double checks them: files over the upload limit
(413 / 40005), and content, embeds and modals over their documented lengths (400 / 50035
Invalid Form Body naming the field).

Sections of docs.discord.com/developers: "Reference › Uploading Files"; "Resources ›
Message" (Create Message: content up to 2,000 characters, up to 10 embeds; Embed Object ›
Embed Limits); "Interactions › Receiving and Responding" (Modal: title up to 45 characters,
custom_id up to 100, 1 to 5 components); "Components › Text Input" (label 45, value and
max_length 4,000, placeholder 100)."""

from __future__ import annotations

from typing import Any

from tests.discord_double.interactions import DiscordError
from tests.discord_double.payloads import Payload

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_FIELDS = {"title": 256, "description": 4096}
EMBED_FOOTER_MAX, EMBED_AUTHOR_MAX = 2048, 256
EMBED_FIELDS_MAX, FIELD_NAME_MAX, FIELD_VALUE_MAX = 25, 256, 1024
EMBEDS_TOTAL_MAX = 6000
MODAL_TITLE_MAX, CUSTOM_ID_MAX, MODAL_COMPONENTS = 45, 100, (1, 5)
INPUT_LABEL_MAX, INPUT_VALUE_MAX, INPUT_PLACEHOLDER_MAX = 45, 4000, 100


def too_long(path: list[str], most: int) -> DiscordError:
    """400 / 50035 with the error at ``path`` of the body, as Discord nests it."""
    errors: Payload = {
        "_errors": [
            {"code": "BASE_TYPE_MAX_LENGTH", "message": f"Must be {most} or fewer in length."}
        ]
    }
    for key in reversed(path):
        errors = {key: errors}
    return DiscordError(400, 50035, "Invalid Form Body", errors=errors)


def check_upload(files: dict[str, tuple[str, bytes]], upload_limit: int) -> None:
    for name, content in files.values():
        if len(content) > upload_limit:
            raise DiscordError(413, 40005, "Request entity too large", file=name)


def check_message(data: Payload) -> None:
    """Content and embeds of a message being created or edited."""
    if len(data.get("content") or "") > CONTENT_MAX:
        raise too_long(["content"], CONTENT_MAX)
    embeds = data.get("embeds") or []
    if len(embeds) > EMBEDS_MAX:
        raise too_long(["embeds"], EMBEDS_MAX)
    total = 0
    for index, embed in enumerate(embeds):
        total += _check_embed(str(index), embed)
    if total > EMBEDS_TOTAL_MAX:
        raise too_long(["embeds"], EMBEDS_TOTAL_MAX)


def _check_embed(index: str, embed: Payload) -> int:
    """Raise for a part over its limit; the embed's characters counted toward 6,000."""
    sizes: list[tuple[list[str], str, int]] = [
        ([key], str(embed.get(key) or ""), most) for key, most in EMBED_FIELDS.items()
    ]
    sizes.append(
        (["footer", "text"], str((embed.get("footer") or {}).get("text") or ""), EMBED_FOOTER_MAX)
    )
    sizes.append(
        (["author", "name"], str((embed.get("author") or {}).get("name") or ""), EMBED_AUTHOR_MAX)
    )
    fields = embed.get("fields") or []
    if len(fields) > EMBED_FIELDS_MAX:
        raise too_long(["embeds", index, "fields"], EMBED_FIELDS_MAX)
    for number, field in enumerate(fields):
        where = ["fields", str(number)]
        sizes.append(([*where, "name"], str(field.get("name") or ""), FIELD_NAME_MAX))
        sizes.append(([*where, "value"], str(field.get("value") or ""), FIELD_VALUE_MAX))
    for path, text, most in sizes:
        if len(text) > most:
            raise too_long(["embeds", index, *path], most)
    return sum(len(text) for _, text, _ in sizes)


def check_modal(data: Payload) -> None:
    """A modal a callback of type 9 opens."""
    if len(str(data.get("title") or "")) > MODAL_TITLE_MAX:
        raise too_long(["data", "title"], MODAL_TITLE_MAX)
    if len(str(data.get("custom_id") or "")) > CUSTOM_ID_MAX:
        raise too_long(["data", "custom_id"], CUSTOM_ID_MAX)
    rows = data.get("components") or []
    low, high = MODAL_COMPONENTS
    if not low <= len(rows) <= high:
        raise DiscordError(
            400,
            50035,
            "Invalid Form Body",
            errors={"data": {"components": {"_errors": [{"code": "BASE_TYPE_BAD_LENGTH"}]}}},
        )
    for index, row in enumerate(rows):
        for component in _inputs(row):
            _check_input(["data", "components", str(index)], component)


def _inputs(row: Payload) -> list[Any]:
    """The text inputs of a modal row: an action row's components, or a label's one."""
    if row.get("type") == 18:
        return [row.get("component") or {}]
    return list(row.get("components") or [])


def _check_input(where: list[str], component: Payload) -> None:
    if component.get("type") != 4:
        return
    for key, most in (
        ("custom_id", CUSTOM_ID_MAX),
        ("label", INPUT_LABEL_MAX),
        ("value", INPUT_VALUE_MAX),
        ("placeholder", INPUT_PLACEHOLDER_MAX),
    ):
        if len(str(component.get(key) or "")) > most:
            raise too_long([*where, key], most)
    if int(component.get("max_length") or 0) > INPUT_VALUE_MAX:
        raise too_long([*where, "max_length"], INPUT_VALUE_MAX)
