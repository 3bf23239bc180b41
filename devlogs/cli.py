"""``cellphone devlog create | recent``, and what ``deliver --watch`` runs beside the desk
(the watchers). The work needs the store, watchdog, openai and aiohttp: each command
imports the modules holding it in its own body, as the root ``cellphone`` module
explains."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from config.cli import (
    HomeOption,
    JsonOption,
    console,
    error_console,
    open_home,
    print_json,
)

if TYPE_CHECKING:
    from config.settings import Home, Settings
    from messaging.runtime import Runtime

EXIT_OK, EXIT_NOT_POSTED = 0, 1

app = typer.Typer(help="Devlogs: post what an agent did to the devlog channel.")


def watching(rt: Runtime) -> AbstractAsyncContextManager[None]:
    """The watchers of ``rt``'s home, posting through ``devlogs.webhook_url`` when set."""
    return _watching(rt)


@contextlib.asynccontextmanager
async def _watching(rt: Runtime) -> AsyncIterator[None]:
    from devlogs.post import WebhookPoster
    from devlogs.watching import Watchers

    url = rt.settings.devlogs.webhook_url
    async with contextlib.AsyncExitStack() as stack:
        poster = None
        if url is not None:
            poster = await stack.enter_async_context(WebhookPoster(url.get_secret_value()))
        else:
            error_console().print(
                "devlogs.webhook_url is not set: outbox and devlog files are routed and kept, "
                "and posted when the bot runs"
            )
        watchers = await stack.enter_async_context(Watchers(rt, poster))
        if not watchers.running:
            error_console().print(
                "another process of this home (the bot?) watches the workspaces; "
                "this one takes over when it stops"
            )
        yield


@app.command()
def create(
    agent: Annotated[str, typer.Option("--agent", "-a", help="The agent it is from.")],
    title: Annotated[str, typer.Option("--title", help="One line saying what it is about.")],
    source: Annotated[
        str | None, typer.Argument(help="- reads the devlog from standard input.")
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="Read the devlog from this file.")
    ] = None,
    summarize: Annotated[
        bool, typer.Option(help="Put a 2-4 sentence AI summary on top ([openai] settings).")
    ] = False,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Post a devlog to the devlog channel: through the running bot, or through
    devlogs.webhook_url when no bot runs. It is kept in any case and never posted twice."""
    import asyncio

    body = _body(source, file)
    where, settings = open_home(home)
    result = asyncio.run(_create(where, settings, agent, title, body, summarize))
    if as_json:
        print_json(result)
    else:
        console().print(f"devlog {result['devlog']} by {agent}: {result['detail']}")
    raise typer.Exit(EXIT_OK if result["posted"] else EXIT_NOT_POSTED)


@app.command()
def recent(
    agent: Annotated[str | None, typer.Option("--agent", "-a", help="Only this agent's.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 10,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """The newest devlogs, with whether each is posted."""
    import asyncio

    from rich.table import Table

    from devlogs.journal import Journal
    from messaging.runtime import open_runtime

    where, settings = open_home(home)

    async def query() -> list[Any]:
        async with open_runtime(where, settings, start_desk=False) as rt:
            if agent is not None:
                rt.registry.current().get(agent)
            return await Journal(rt.store).recent(agent, limit)

    devlogs = asyncio.run(query())
    if as_json:
        print_json([_json(d) for d in devlogs])
        return
    table = Table("#", "agent", "title", "posted", "summary")
    for d in devlogs:
        posted = "yes" if d.posted_at else f"no: {d.post_error or 'waiting'}"
        table.add_row(
            str(d.seq),
            d.agent_id,
            d.title,
            posted,
            d.summary or "",
        )
    console().print(table)


def register(app_: typer.Typer) -> None:
    app_.add_typer(app, name="devlog")


async def _create(
    where: Home, settings: Settings, agent: str, title: str, body: str, summarize: bool
) -> dict[str, Any]:
    from devlogs.post import PostError, WebhookPoster
    from devlogs.publisher import PosterLock
    from devlogs.watching import LOCK_FILE, publisher_for
    from messaging.notices import Notices
    from messaging.runtime import open_runtime

    async with open_runtime(where, settings, start_desk=False) as rt:
        rt.registry.current().get(agent)
        publisher = publisher_for(rt, None, Notices(rt.store))
        devlog = await publisher.submit(agent, title, body, summarize=summarize)
        lock = PosterLock(where.var_dir / LOCK_FILE)
        url = settings.devlogs.webhook_url
        if not lock.acquire():  # the bot (or deliver --watch) posts for this home
            posted = await _posted_elsewhere(publisher, devlog.seq, settings)
            detail = (
                "posted by the process watching this home (the bot or deliver --watch)"
                if posted
                else "kept; the process watching this home (the bot or deliver --watch) posts it"
            )
        elif url is None:
            lock.release()
            posted, detail = (
                False,
                (
                    "kept, not posted: no bot runs and devlogs.webhook_url is not set; it is "
                    "posted when `cellphone bot` or `cellphone deliver --watch` starts"
                ),
            )
        else:
            async with WebhookPoster(url.get_secret_value()) as poster:
                publisher.poster = poster
                try:
                    await publisher.publish(devlog)
                    posted, detail = True, "posted through the webhook"
                except PostError as exc:
                    posted, detail = False, f"kept, not posted: {exc}; it is tried again later"
                finally:
                    lock.release()
        final = await publisher.journal.get(devlog.seq) or devlog
    return {
        "devlog": devlog.seq,
        "posted": posted,
        "detail": detail,
        "summary": final.summary,
        "summary_error": final.summary_error,
    }


async def _posted_elsewhere(publisher: Any, seq: int, settings: Settings) -> bool:
    import asyncio

    deadline = time.monotonic() + settings.messaging.wait_timeout_s
    while time.monotonic() < deadline:
        devlog = await publisher.journal.get(seq)
        if devlog is not None and devlog.posted_at is not None:
            return True
        await asyncio.sleep(0.1)
    return False


def _body(source: str | None, file: Path | None) -> str:
    if source not in (None, "-"):
        raise ValueError(f"unexpected argument {source!r}; use - to read stdin, or --file F")
    if (source is None) == (file is None):
        raise ValueError("give the devlog text with --file F or - (standard input), one of them")
    if file is None:
        return sys.stdin.read()
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read devlog file {file}: {exc}; give a UTF-8 text file") from None


def _json(d: Any) -> dict[str, Any]:
    return {
        "devlog": d.seq,
        "agent": d.agent_id,
        "title": d.title,
        "summary": d.summary,
        "created_at": d.created_at,
        "posted_at": d.posted_at,
        "post_error": d.post_error,
    }
