"""What every model API double shares: an aiohttp server on 127.0.0.1 running on a thread of
its own (the agent CLIs are other processes, and the tests' own event loops come and go), the
prompts it received, how long it takes to answer (a busy agent), and a tool call it may
answer the first prompt with (then the tool's result the CLI sends back, and a final text)."""

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


@dataclass(frozen=True)
class ToolCall:
    """A call of the tool whose name, as the CLI offers it to the model, ends with ``tool``
    (the CLIs put their MCP server's name before its tools' names)."""

    tool: str
    arguments: dict[str, object]


@dataclass(frozen=True)
class ToolResult:
    """What the CLI sent back to the model after running a tool: the call's id, the tool's
    name as offered, and the result's text."""

    call_id: str
    name: str
    text: str


class ModelApiDouble:
    """Serves one model API on 127.0.0.1. Subclasses add their routes in :meth:`routes` and
    call :meth:`record` with the user's prompt of each request that starts a turn (not the
    CLI's own side requests: titles, token counts, tool results)."""

    answer = "OK."

    def __init__(self, *, delay_s: float = 0.0, tool_call: ToolCall | None = None) -> None:
        self.delay_s = delay_s  # how long each answer waits before it streams: a busy agent
        self.tool_call = tool_call  # the first prompt offering the tool is answered with it
        self.calls: list[tuple[str, str]] = []  # (call id, tool name) of the calls made
        self.offered: list[list[str]] = []  # the tools each prompt offered the model
        self.tool_results: list[ToolResult] = []
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

    def wait_for_tool_results(self, count: int, timeout: float) -> list[ToolResult]:
        """The tool results once at least ``count`` came, or those there are after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.tool_results) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)
            return list(self.tool_results)

    # -- what subclasses call ------------------------------------------------------------

    def call_to_make(self, offered: list[str]) -> tuple[str, str] | None:
        """(call id, tool name) when this prompt is to be answered with the tool call: the
        first that offers the tool; None for every later one (the call is made once)."""
        if self.tool_call is None:
            return None
        names = [name for name in offered if name.endswith(self.tool_call.tool)]
        with self._changed:
            self.offered.append(offered)
            if self.calls or not names:
                return None
            call = (f"call_double_{len(self.requests)}", names[0])
            self.calls.append(call)
            return call

    def record_tool_result(self, call_id: str, text: str) -> None:
        """The result of a call this double made, the first time a request carries it (each
        later request of the conversation carries it again)."""
        with self._changed:
            names = dict(self.calls)
            if call_id not in names or any(r.call_id == call_id for r in self.tool_results):
                return
            self.tool_results.append(ToolResult(call_id, names[call_id], text))
            self._changed.notify_all()

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
