"""What /status and the panel's Status button show: the desk, the screen, the coordinates
file, the continuity checks (``cellphone doctor``), and each agent's queue with its last
outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from backups.doctor import run_checks, summary
from bot import present
from coordinates.errors import NoDisplayError
from coordinates.layout import Layout, read_layout
from messaging.desk import desk_holder
from messaging.runtime import Runtime


async def status_text(rt: Runtime, read: Callable[[], Layout] = read_layout) -> str:
    queues = await rt.service.status()
    pending = await rt.store.pending()
    lines = [f"**desk**: {_desk_line(rt)}; {pending} deliveries pending"]
    lines.append(f"**screen**: {_screen_line(rt)}")
    problem = rt.registry.last_error
    lines.append(
        f"**coordinates**: ⚠️ last edit ignored: {present.quote(problem)}"
        if problem
        else f"**coordinates**: {len(rt.registry.current())} agents"
    )
    if rt.desk.screen is not None:
        lines.append(f"**layout**: {await _layout_line(rt, read)}")
    checks = await asyncio.to_thread(
        run_checks, rt.home, rt.settings, read, screen=rt.desk.screen is not None
    )
    lines.append(f"**checks**: {summary(checks)}")
    lines.extend(present.queues(queues))
    return "\n".join(lines)


async def _layout_line(rt: Runtime, read: Callable[[], Layout]) -> str:
    """The live monitors, and every active agent whose chat point is on none of them."""
    try:
        layout = await asyncio.to_thread(read)
    except NoDisplayError as exc:
        return f"⚠️ {present.quote(str(exc))}"
    off = [
        f"{agent.agent_id} {agent.chat_point}"
        for agent in rt.registry.current().active()
        if agent.chat_point is not None and layout.monitor_at(agent.chat_point) is None
    ]
    count = len(layout.monitors)
    monitors = f"{count} monitor{'' if count == 1 else 's'}"
    if off:
        return f"{monitors}; ⚠️ chat point on no monitor: {', '.join(off)}"
    return f"{monitors}; ✅ every active agent's chat point is on one"


def _desk_line(rt: Runtime) -> str:
    if rt.desk_here:
        if rt.desk.paused:
            return f"⏸️ paused: {present.quote(rt.desk.pause_reason or '')}"
        if rt.desk.waiting:
            return f"⏳ running in the bot, {present.quote(rt.desk.waiting)}"
        return "▶️ running in the bot"
    holder = desk_holder(rt.home.var_dir / "desk.lock")
    if not holder:
        return "⚠️ not running anywhere"
    waiting = rt.desk.waiting
    return f"running in process {holder}" + (f", {present.quote(waiting)}" if waiting else "")


def _screen_line(rt: Runtime) -> str:
    screen = rt.desk.screen
    if screen is None or not rt.service.screen_enabled:
        return "off: every message goes to the agents' inboxes"
    problem = screen.unavailable_reason()
    return f"⚠️ unavailable: {present.quote(problem)}" if problem else "✅ typing into chat panes"
