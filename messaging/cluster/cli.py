"""``cellphone desk``: run this machine's desk for a coordinator elsewhere, over Redis."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from config.cli import HomeOption, open_home

if TYPE_CHECKING:
    from config.settings import Settings
    from messaging.deliver import ScreenDeliverer

ScreenFor = Callable[["Settings"], "ScreenDeliverer | None"]


def register(app: typer.Typer, screen_for: ScreenFor) -> None:
    def desk(
        join: Annotated[
            str | None,
            typer.Option(
                metavar="URL",
                help="The coordinator's Redis (redis://HOST:6379 or rediss://...); the "
                "password comes from CELLPHONE_CLUSTER__PASSWORD, never the command line.",
            ),
        ] = None,
        name: Annotated[str, typer.Option(help="This desk's name, e.g. pc-2.")] = "",
        grant: Annotated[
            bool,
            typer.Option(
                help="At the coordinator: make (or remake) the Redis user of desk --name "
                "and print its user name and a new password, once."
            ),
        ] = False,
        forget: Annotated[
            bool,
            typer.Option(
                help="At the coordinator: forget desk --name for good (a machine taken out of "
                "service): its agents are no longer listed as on a gone desk."
            ),
        ] = False,
        home: HomeOption = None,
    ) -> None:
        """Run this machine's desk for a coordinator on another machine: type what the
        coordinator sends for the agents of this home, and send back what happened."""
        import asyncio

        from messaging.cluster.run import forget_desk, grant_desk, serve

        where, settings = open_home(home)
        if not name:
            raise typer.BadParameter("name the desk: --name pc-2", param_hint="--name")
        if grant:
            user, password = asyncio.run(grant_desk(settings, name))
            print(f"CELLPHONE_CLUSTER__USERNAME={user}")
            print(f"CELLPHONE_CLUSTER__PASSWORD={password}")
            return
        if forget:
            print(asyncio.run(forget_desk(settings, name)))
            return
        if join is None:
            raise typer.BadParameter(
                "give the coordinator's Redis: --join redis://HOST:6379", param_hint="--join"
            )
        asyncio.run(_until_signal(serve, where, settings, join, name, screen_for(settings)))

    app.command()(desk)


async def _until_signal(serve: Callable[..., Any], *args: Any) -> None:
    import asyncio
    import signal

    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stopped.set)
    await serve(*args, stopped)
