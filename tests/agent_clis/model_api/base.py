"""What every model API double shares: an aiohttp server on 127.0.0.1 running on a thread of
its own (the agent CLIs are other processes, and the tests' own event loops come and go), the
prompts it received, and how long it takes to answer (a busy agent)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from dataclasses import dataclass
from typing import Self

from aiohttp import web


@dataclass(frozen=True)
class Prompt:
    """One prompt a CLI submitted: the text the user typed, as the model API received it."""

    text: str
    received_at: float  # time.monotonic()


class ModelApiDouble:
    """Serves one model API on 127.0.0.1. Subclasses add their routes in :meth:`routes` and
    call :meth:`record` with the user's prompt of each request that starts a turn (not the
    CLI's own side requests: titles, token counts, tool results)."""

    answer = "OK."

    def __init__(self, *, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s  # how long each answer waits before it streams: a busy agent
        self.prompts: list[Prompt] = []
        self.requests: list[tuple[str, object]] = []  # (path, JSON body) of every request
        self.port = 0
        self._changed = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- what the tests read -------------------------------------------------------------

    def texts(self) -> list[str]:
        with self._changed:
            return [prompt.text for prompt in self.prompts]

    def wait_for_prompts(self, count: int, timeout: float) -> list[str]:
        """The prompts once at least ``count`` came, or those there are after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.prompts) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)
            return [prompt.text for prompt in self.prompts]

    # -- what subclasses call ------------------------------------------------------------

    def record(self, text: str) -> None:
        with self._changed:
            self.prompts.append(Prompt(text, time.monotonic()))
            self._changed.notify_all()

    def note_request(self, path: str, body: object) -> None:
        with self._changed:
            self.requests.append((path, body))

    async def wait_delay(self) -> None:
        """Wait ``delay_s`` before answering, or less when the double stops."""
        if self.delay_s and self._stopping is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.delay_s)

    # -- life ----------------------------------------------------------------------------

    def start(self) -> Self:
        started = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._start())
            except BaseException as exc:
                failure.append(exc)
                started.set()
                return
            started.set()
            loop.run_forever()
            loop.run_until_complete(self._cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, name=type(self).__name__, daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError(f"{type(self).__name__} did not start within 10 s")
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        loop = self._loop
        if self._stopping is not None:
            loop.call_soon_threadsafe(self._stopping.set)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(10)
        self._loop = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _start(self) -> None:
        self._stopping = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _cleanup(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
