"""What /status and the panel's Status button show: the desk, the screen, the coordinates
file, and each agent's queue with its last outcome."""

from __future__ import annotations

from bot import present
from messaging.desk import desk_holder
from messaging.runtime import Runtime


async def status_text(rt: Runtime) -> str:
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
    lines.extend(present.queues(queues))
    return "\n".join(lines)


def _desk_line(rt: Runtime) -> str:
    if rt.desk_here:
        if rt.desk.paused:
            return f"⏸️ paused: {present.quote(rt.desk.pause_reason or '')}"
        return "▶️ running in the bot"
    holder = desk_holder(rt.home.var_dir / "desk.lock")
    return f"running in process {holder}" if holder else "⚠️ not running anywhere"


def _screen_line(rt: Runtime) -> str:
    screen = rt.desk.screen
    if screen is None or not rt.service.screen_enabled:
        return "off: every message goes to the agents' inboxes"
    problem = screen.unavailable_reason()
    return f"⚠️ unavailable: {present.quote(problem)}" if problem else "✅ typing into chat panes"
