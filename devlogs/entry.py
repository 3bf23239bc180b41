"""A devlog and its text as posts: a header line, the summary, the body, split at
paragraph boundaries into parts of at most 2,000 characters (Discord's limit)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath

from agents.frontmatter import parse

POST_LIMIT = 2000
MAX_PARTS = 4  # a devlog longer than this many posts is attached under a short embed
MAX_TITLE = 200
_HEADING = re.compile(r"^#{1,6}\s+(.+)$")


class InvalidDevlogError(ValueError):
    """A devlog that cannot be posted; the message says why and what to do."""


@dataclass(frozen=True)
class Devlog:
    seq: int
    agent_id: str
    title: str
    body: str
    created_at: datetime
    summary: str | None = None
    summary_error: str | None = None
    posted_at: datetime | None = None
    post_error: str | None = None
    summarize: bool = False  # a summary was asked for
    parts_posted: int = 0


def checked(title: str, body: str) -> tuple[str, str]:
    """A title of one line and a body that is not empty, or :class:`InvalidDevlogError`."""
    title = " ".join(title.split())
    if not title:
        raise InvalidDevlogError("the devlog has no title; give one (--title, or 'title:')")
    if len(title) > MAX_TITLE:
        raise InvalidDevlogError(f"the title is {len(title)} characters; keep it to {MAX_TITLE}")
    if not body.strip():
        raise InvalidDevlogError("the devlog is empty; write what was done")
    return title, body.strip()


def from_file(name: str, text: str) -> tuple[str, str]:
    """Title and body of a devlog file: ``title:`` of its front matter, else its first
    heading, else the file name."""
    document = parse(text, required=False)
    body = document.body
    title = document.fields.get("title", "")
    if not title:
        first, _, rest = body.partition("\n")
        heading = _HEADING.match(first.strip())
        if heading:
            title, body = heading.group(1), rest
        else:
            title = PurePath(name).stem.replace("_", " ").replace("-", " ")
    return checked(title, body)


@dataclass(frozen=True)
class Post:
    """One message to post: its text, and for a long devlog a short embed with the
    whole devlog attached."""

    content: str
    embed: dict[str, str] | None = None  # title, description, footer
    attachment: tuple[str, bytes] | None = None  # file name, content


def render(devlog: Devlog) -> list[Post]:
    """The posts of a devlog, in order: at most :data:`MAX_PARTS` of at most
    :data:`POST_LIMIT` characters, or one short embed with the devlog attached."""
    header = f"**{devlog.agent_id}** · devlog: **{_escape(devlog.title)}**"
    top = [header]
    if devlog.summary:
        top.append("> " + " ".join(devlog.summary.split()))
    parts = split_parts("\n".join(top) + "\n\n" + devlog.body)
    if len(parts) <= MAX_PARTS:
        return [Post(part) for part in parts]
    name = f"devlog-{devlog.seq}.md"
    first = devlog.body.split("\n\n", 1)[0].strip()
    description = devlog.summary or (first if len(first) <= 400 else first[:399] + "…")
    whole = f"# {devlog.title}\n\n{devlog.agent_id}, {devlog.created_at.isoformat()}\n\n"
    return [
        Post(
            header,
            embed={
                "title": devlog.title[:256],
                "description": description,
                "footer": f"{len(devlog.body):,} characters: the whole devlog is {name}",
            },
            attachment=(name, (whole + devlog.body + "\n").encode("utf-8")),
        )
    ]


def split_parts(text: str, limit: int = POST_LIMIT) -> list[str]:
    """Split at paragraph boundaries; a paragraph longer than ``limit`` at line
    boundaries, and a line longer than that at ``limit``."""
    parts: list[str] = []
    current = ""
    for piece in _pieces(text.strip(), limit):
        joined = f"{current}\n\n{piece}" if current else piece
        if len(joined) <= limit:
            current = joined
        else:
            parts.append(current)
            current = piece
    if current:
        parts.append(current)
    return parts


def _pieces(text: str, limit: int) -> list[str]:
    pieces: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        if len(paragraph) <= limit:
            pieces.append(paragraph)
            continue
        line_block = ""
        for line in paragraph.split("\n"):
            while len(line) > limit:
                if line_block:
                    pieces.append(line_block)
                    line_block = ""
                pieces.append(line[:limit])
                line = line[limit:]
            joined = f"{line_block}\n{line}" if line_block else line
            if len(joined) <= limit:
                line_block = joined
            else:
                pieces.append(line_block)
                line_block = line
        if line_block:
            pieces.append(line_block)
    return [p for p in pieces if p.strip()]


def _escape(text: str) -> str:
    return text.replace("*", "\\*").replace("_", "\\_").replace("`", "\\`")
