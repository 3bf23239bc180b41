"""One lasting connection to a tmux server in control mode (``tmux -C``), so a command costs
the server a line to parse instead of a new tmux process: reading a pane every few
milliseconds while several panes are typed into side by side stays cheap.

The connection attaches to the session of the first pane it serves, with the flags
``ignore-size`` (it never resizes anyone's windows) and ``no-output`` (no stream of what the
panes print). Each command sent gets one reply block (``%begin`` ... ``%end`` or
``%error``) in order; lines outside blocks are notifications, and are ignored.

The stream of output stays off for good. Following it while waiting on a pane was tried:
tmux 3.3a, told ``refresh-client -f no-output`` while output of a pane is still queued for
the client, drops the pane's record but not the queued output, and every later reply
waits behind that output for ever (the connection hung within 100 deliveries).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0


class ControlError(Exception):
    """The connection failed or closed; the message says why."""


class CommandFailed(Exception):
    """tmux answered a command with an error; the message is tmux's."""


class ControlClient:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self._pending: asyncio.Queue[asyncio.Future[str]] = asyncio.Queue()
        self._write_lock = asyncio.Lock()
        self._reader = asyncio.create_task(self._read(), name="tmux-control")
        self.closed = False

    @classmethod
    async def connect(cls, server: list[str], session_target: str) -> ControlClient:
        """Attach to the session holding ``session_target`` on the server that ``server``
        (``["tmux", "-L", name]`` or the like) names."""
        process = await asyncio.create_subprocess_exec(
            *server,
            "-C",
            "attach-session",
            "-f",
            "ignore-size,no-output",
            "-t",
            session_target,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        client = cls(process)
        try:
            await asyncio.wait_for(client.run("display-message", "-p", "ready"), CONNECT_TIMEOUT_S)
        except (TimeoutError, ControlError, CommandFailed) as exc:
            await client.close()
            raise ControlError(f"no control connection to tmux: {exc or 'no answer'}") from None
        return client

    async def run(self, *arguments: str) -> str:
        """Run tmux commands (several joined by ``";"``); their output, one after another.
        :class:`CommandFailed` with tmux's error when one failed. Each command goes on a
        line of its own: tmux answers each of a line's commands in a block of its own, and
        after a failure leaves the rest of the line unanswered."""
        if self.closed:
            raise ControlError("the control connection to tmux is closed")
        commands: list[list[str]] = [[]]
        for argument in arguments:
            if argument == ";":
                commands.append([])
            else:
                commands[-1].append(argument)
        lines = []
        for command in commands:
            quoted = [quote(argument) for argument in command]
            if None in quoted:
                raise ControlError("an argument holds a quote or a line break")
            lines.append(" ".join(q for q in quoted if q is not None) + "\n")
        loop = asyncio.get_running_loop()
        replies: list[asyncio.Future[str]] = [loop.create_future() for _ in lines]
        async with self._write_lock:  # replies come in the order commands were written
            assert self._process.stdin is not None
            for reply in replies:
                self._pending.put_nowait(reply)
            try:
                self._process.stdin.write("".join(lines).encode("utf-8"))
                await self._process.stdin.drain()
            except (ConnectionError, RuntimeError) as exc:
                self._fail(f"the control connection to tmux broke: {exc}")
        outputs = await asyncio.gather(*replies, return_exceptions=True)
        for output in outputs:
            if isinstance(output, BaseException):
                raise output
        return "".join(str(output) for output in outputs)

    async def close(self) -> None:
        self.closed = True
        if self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError, ConnectionError, RuntimeError):
                assert self._process.stdin is not None
                self._process.stdin.close()
            try:
                await asyncio.wait_for(self._process.wait(), 2)
            except TimeoutError:
                self._process.kill()
                await self._process.wait()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        self._fail("the control connection to tmux is closed")

    async def _read(self) -> None:
        assert self._process.stdout is not None
        stream = self._process.stdout
        block: list[str] | None = None
        begin: list[str] = []
        try:
            while True:
                raw = await stream.readline()
                if not raw:
                    break
                line = raw.decode("utf-8", "replace").rstrip("\n")
                if block is None:
                    if line.startswith("%begin "):
                        block, begin = [], line.split(" ")[1:]
                    continue
                fields = line.split(" ")
                if fields[0] in ("%end", "%error") and fields[1:] == begin:
                    self._answer(begin, block, failed=fields[0] == "%error")
                    block = None
                    continue
                block.append(line)
        finally:
            self._fail("the control connection to tmux closed")

    def _answer(self, begin: list[str], block: list[str], *, failed: bool) -> None:
        if len(begin) < 3 or not int(begin[2]) & 1:
            return  # not the reply to a command of this client
        try:
            reply = self._pending.get_nowait()
        except asyncio.QueueEmpty:
            log.warning("tmux sent a reply nothing waits for")
            return
        if reply.done():
            return
        text = "\n".join(block)
        if failed:
            reply.set_exception(CommandFailed(text))
        else:
            reply.set_result(text + "\n" if block else "")

    def _fail(self, reason: str) -> None:
        self.closed = True
        while not self._pending.empty():
            reply = self._pending.get_nowait()
            if not reply.done():
                reply.set_exception(ControlError(reason))


def quote(argument: str) -> str | None:
    """An argument as tmux's command parser reads it back unchanged (in single quotes,
    where nothing is expanded), or None when it holds a quote or a line break."""
    if "'" in argument or "\n" in argument:
        return None
    return f"'{argument}'"
