"""Routing what agents write to ``outbox/``: each ``*.md`` file with a front matter
(``to:`` agent ids, ``all`` or ``operator``; optional ``priority:``, ``reply-to:``, and
``ack:`` and ``read:`` message ids) becomes a message from that agent, a notice to the
operator, acknowledgements, read marks, or all of these; exactly once (see
:mod:`messaging.filed`). A file that cannot be routed is rejected with its reason and the
operator is told; nothing of it is done."""

from __future__ import annotations

import hashlib
import logging
import re

from agents import UnknownAgentError
from agents.frontmatter import FrontMatterError, parse
from agents.watch import Arrival
from messaging.errors import MessagingError, StoreError, UnknownMessageError
from messaging.filed import DroppedFile, FileOutcome, Ledger, RejectedFileError
from messaging.model import MessageType
from messaging.notices import Channel
from messaging.service import MessageService, parse_priority

log = logging.getLogger(__name__)

OPERATOR = "operator"
ALL = "all"
FIELDS = ("to", "priority", "reply-to", "ack", "read")
INBOX_NAME = re.compile(r"_([0-9a-f]{16})\.md$")
_REFUSED = (RejectedFileError, FrontMatterError, MessagingError, UnknownAgentError, ValueError)


class OutboxRouter:
    """The handler of ``outbox`` arrivals."""

    def __init__(self, service: MessageService, ledger: Ledger, max_bytes: int) -> None:
        self.service = service
        self.ledger = ledger
        self.notices = ledger.notices
        self.max_bytes = max_bytes

    async def __call__(self, arrival: Arrival) -> None:
        dropped = await self.ledger.take(
            "outbox", arrival.agent.agent_id, arrival.path, self.max_bytes
        )
        if dropped is None:
            return
        try:
            detail = await self._route(dropped)
        except StoreError:
            raise  # not the file's fault: offered again by the next scan
        except _REFUSED as exc:
            await self.ledger.reject(dropped, str(exc))
            return
        await self.ledger.finish(dropped, FileOutcome.SENT, detail)

    async def _route(self, dropped: DroppedFile) -> str:
        document = parse(dropped.text(self.max_bytes))
        unknown = sorted(set(document.fields) - set(FIELDS))
        if unknown:
            raise RejectedFileError(
                f"unknown front matter field {unknown[0]!r}; use {', '.join(FIELDS)}"
            )
        sender = dropped.agent_id
        acks = document.values("ack")
        reads = document.values("read")
        targets = document.values("to")
        agents = [t for t in targets if t not in (OPERATOR, ALL)]
        # what can be wrong is found before anything is done: a rejected file did nothing
        self.service.registry.current().resolve(agents)
        parse_priority(document.fields.get("priority") or "normal")
        for message_id in [document.fields.get("reply-to"), *reads, *acks]:
            if message_id and await self.service.store.message(message_id) is None:
                raise UnknownMessageError(message_id)
        done: list[str] = []
        if reads:
            await self.service.store.mark_read(sender, reads)
            done.append("read " + ", ".join(reads))
        if acks:
            await self.service.acknowledge(sender, acks)
            done.append("acknowledged " + ", ".join(acks))
        if not targets:
            if acks or reads:
                return "; ".join(done)
            raise RejectedFileError("no 'to:' line: name agent ids, all, or operator")
        agents = [t for t in targets if t != OPERATOR]
        if agents:
            submission = await self._send(dropped, agents, document.body, document.fields)
            done.append(f"sent as message {submission}")
        if OPERATOR in targets:
            if not document.body:
                raise RejectedFileError("the message to the operator is empty")
            await self.notices.add(
                Channel.OPERATOR,
                f"**{sender}** → operator\n{document.body}",
                agent_id=sender,
                key=dropped.key,
            )
            done.append("posted to the operator")
        return "; ".join(done)

    async def _send(
        self, dropped: DroppedFile, targets: list[str], body: str, fields: dict[str, str]
    ) -> str:
        sender = dropped.agent_id
        kind = MessageType.AGENT
        if ALL in targets:
            kind = MessageType.BROADCAST
            registry = self.service.registry.current()
            targets = [a.agent_id for a in registry.active() if a.agent_id != sender]
        submission = await self.service.send(
            targets,
            body,
            sender=sender,
            type=kind,
            priority=fields.get("priority") or "normal",
            key="outbox:" + hashlib.sha256(dropped.key.encode()).hexdigest()[:40],
            reply_to=fields.get("reply-to") or None,
        )
        return submission.message.id


class InboxReads:
    """Marks a message read when its agent opens, moves or removes the inbox file."""

    def __init__(self, service: MessageService) -> None:
        self.service = service

    async def __call__(self, agent_id: str, name: str, opened: bool) -> None:
        match = INBOX_NAME.search(name)
        if match:
            await self.service.store.mark_read(agent_id, [match.group(1)])
