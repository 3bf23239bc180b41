"""Devlog files agents drop into ``devlogs/``: kept and posted once, like outbox files
(see :mod:`messaging.filed`); a file that is no devlog is rejected with its reason."""

from __future__ import annotations

from agents.frontmatter import FrontMatterError
from agents.watch import Arrival
from devlogs.entry import InvalidDevlogError, from_file
from devlogs.publisher import Publisher
from messaging.filed import FileOutcome, Ledger, RejectedFileError

SUFFIXES = (".md", ".txt")


class DevlogFiles:
    """The handler of ``devlogs`` arrivals."""

    def __init__(self, publisher: Publisher, ledger: Ledger, max_bytes: int) -> None:
        self.publisher = publisher
        self.ledger = ledger
        self.max_bytes = max_bytes

    async def __call__(self, arrival: Arrival) -> None:
        agent_id = arrival.agent.agent_id
        dropped = await self.ledger.take("devlogs", agent_id, arrival.path, self.max_bytes)
        if dropped is None:
            return
        try:
            if not arrival.path.name.endswith(SUFFIXES):
                raise RejectedFileError("a devlog is a .md or .txt file; rename it")
            title, body = from_file(arrival.path.name, dropped.text(self.max_bytes))
        except (RejectedFileError, FrontMatterError, InvalidDevlogError) as exc:
            await self.ledger.reject(dropped, str(exc))
            return
        devlog = await self.publisher.submit(agent_id, title, body, key=dropped.key)
        await self.ledger.finish(dropped, FileOutcome.SENT, f"devlog {devlog.seq}")
