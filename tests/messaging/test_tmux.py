"""The tmux lane's routing and its honest fallbacks, with a real tmux server and no display:
a target in the coordinates file, a pane that is gone, no server, inbox-only mode, and
`coords check` / `init --tmux`. Typing into the real agent CLIs is in
tests/agent_clis/test_tmux_lane.py."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from config import Home, Settings, load_settings
from coordinates.errors import CoordinatesFileError
from coordinates.file import load_coordinates
from coordinates.tmux import TmuxTarget, parse_tmux
from messaging.model import DeliveryMethod, DeliveryState, Lane
from messaging.runtime import open_runtime
from messaging.tmux.client import Snapshot
from messaging.tmux.lane import POLL_MAX_S, POLL_S, READS_PER_S, TmuxLane
from tests.agent_clis.tmux import TmuxServer
from tests.conftest import inbox_files, make_home


@pytest.fixture
def server(tmp_path: Path) -> Iterator[TmuxServer]:
    tmux = TmuxServer(tmp_path)
    yield tmux
    tmux.kill()


def tmux_home(root: Path, targets: dict[str, object]) -> Home:
    agents = {agent: {"tmux": target, "active": True} for agent, target in targets.items()}
    return make_home(root / "home", {"agents": agents})


def test_tmux_targets_are_read_and_bad_ones_named(tmp_path: Path) -> None:
    assert parse_tmux("swarm:agent-3") == TmuxTarget("swarm:agent-3")
    assert parse_tmux({"target": "%7", "socket": "/run/s.sock"}) == TmuxTarget("%7", "/run/s.sock")
    assert TmuxTarget("s:1", "swarm").command("send-keys") == ["tmux", "-L", "swarm", "send-keys"]
    assert TmuxTarget("s:1", "/r/x").command("a") == ["tmux", "-S", "/r/x", "a"]
    path = tmp_path / "coordinates.json"
    for bad, named in [
        ("-t evil", "'-t evil' is not a tmux target"),
        ("", "'' is not a tmux target"),
        ({"target": "s:1", "socket": "a b"}, "socket 'a b' is neither"),
        ({"target": "s:1", "pane": 2}, 'write "tmux": "swarm:agent-3"'),
        (7, "7 is not a tmux target"),
    ]:
        path.write_text(json.dumps({"agents": {"Agent-1": {"tmux": bad}}}))
        with pytest.raises(CoordinatesFileError) as caught:
            load_coordinates(path)
        assert "Agent-1.tmux" in str(caught.value) and named in str(caught.value)


async def test_a_tmux_agent_is_routed_to_its_pane_without_a_display(
    tmp_path: Path, server: TmuxServer
) -> None:
    server.window("bash", "bash --norc")
    home = tmux_home(tmp_path, {"Agent-1": {"target": "swarm:gone", "socket": server.socket}})
    async with open_runtime(home, load_settings(home)) as rt:
        sent = await rt.service.send(["Agent-1"], "hello pane")
        [row] = await rt.store.deliveries(sent.message.id)
        assert row.lane is Lane.TMUX
        outcomes = await rt.desk.wait_for(sent.message.id, 10)
    outcome = outcomes["Agent-1"]
    assert outcome.state is DeliveryState.FALLBACK and outcome.method is DeliveryMethod.INBOX
    assert "tmux has no pane swarm:gone" in (outcome.reason or "")
    [letter] = inbox_files(home, "Agent-1")
    assert "hello pane" in letter.read_text()


async def test_panes_waited_on_side_by_side_are_read_less_often_each(
    tmp_path: Path, server: TmuxServer
) -> None:
    """One pane waited on is read every few ms (a CLI's redraw is seen soon after it
    comes); eight at once share about the same reads a second, so the CLIs redrawing side
    by side keep the CPU."""
    targets = [TmuxTarget(server.window(f"w{n}", "cat"), server.socket) for n in range(8)]
    lane = TmuxLane(load_settings(tmux_home(tmp_path, {})).tmux, tmp_path / "notes")
    reads: Counter[str] = Counter()
    snapshot = lane.tmux.snapshot

    async def counted(pane: TmuxTarget) -> Snapshot:
        reads[pane.target] += 1
        return await snapshot(pane)

    lane.tmux.snapshot = counted  # type: ignore[method-assign]
    waited_s = 0.5
    try:
        assert await lane._until(targets[0], lambda reading: False, waited_s) is None
        alone = reads[targets[0].target]
        reads.clear()
        await asyncio.gather(*(lane._until(t, lambda reading: False, waited_s) for t in targets))
    finally:
        await lane.close()
    side_by_side = sum(reads.values())
    assert alone >= 0.2 * waited_s / POLL_S  # the old 5-25 ms backoff read it about 25 times
    assert side_by_side <= 1.5 * waited_s * READS_PER_S + len(targets)
    assert min(reads.values()) >= 0.3 * waited_s / POLL_MAX_S  # none left unread


async def test_no_tmux_server_is_a_fallback_saying_so(tmp_path: Path) -> None:
    socket = str(tmp_path / "nobody.sock")
    home = tmux_home(tmp_path, {"Agent-1": {"target": "swarm:a", "socket": socket}})
    async with open_runtime(home, load_settings(home)) as rt:
        sent = await rt.service.send(["Agent-1"], "anyone there?")
        outcome = (await rt.desk.wait_for(sent.message.id, 10))["Agent-1"]
    assert outcome.state is DeliveryState.FALLBACK
    assert f"no tmux server runs on socket {socket}" in (outcome.reason or "")
    assert len(inbox_files(home, "Agent-1")) == 1


async def test_a_pane_whose_program_exited_is_a_fallback(
    tmp_path: Path, server: TmuxServer
) -> None:
    server.window("keep", "bash --norc")  # keeps the server up
    server.tmux("set-option", "-g", "remain-on-exit", "on")
    target = server.window("done", "true")
    # what tmux says of the pane, not the text it draws there: tmux 3.3a now and then
    # shows no "Pane is dead" line in a pane whose program exited at once
    deadline = time.monotonic() + 10
    while server.tmux("display-message", "-p", "-t", target, "#{pane_dead}").strip() != "1":
        assert time.monotonic() < deadline, (
            f"the pane of `true` never died:\n{server.capture(target)}"
        )
        time.sleep(0.02)
    home = tmux_home(tmp_path, {"Agent-1": {"target": target, "socket": server.socket}})
    async with open_runtime(home, load_settings(home)) as rt:
        sent = await rt.service.send(["Agent-1"], "still there?")
        outcome = (await rt.desk.wait_for(sent.message.id, 10))["Agent-1"]
    assert outcome.state is DeliveryState.FALLBACK
    assert "has exited" in (outcome.reason or "")


async def test_inbox_mode_never_touches_a_pane(
    tmp_path: Path, server: TmuxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = server.window("bash", "bash --norc")
    home = tmux_home(tmp_path, {"Agent-1": {"target": target, "socket": server.socket}})
    monkeypatch.setenv("CELLPHONE_MESSAGING__DELIVERY_MODE", "inbox")
    settings: Settings = load_settings(home)
    async with open_runtime(home, settings) as rt:
        sent = await rt.service.send(["Agent-1"], "UNTYPED-MARK")
        outcome = (await rt.desk.wait_for(sent.message.id, 10))["Agent-1"]
    assert (outcome.state, outcome.method) == (DeliveryState.DELIVERED, DeliveryMethod.INBOX)
    assert "UNTYPED-MARK" not in server.capture(target)


def test_coords_check_finds_each_pane_without_a_display(
    tmp_path: Path, server: TmuxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coordinates.cli import app

    monkeypatch.delenv("DISPLAY", raising=False)
    live = server.window("Agent-1", "bash --norc")
    home = tmux_home(
        tmp_path,
        {
            "Agent-1": {"target": live, "socket": server.socket},
            "Agent-2": {"target": "swarm:nowhere", "socket": server.socket},
        },
    )
    result = CliRunner().invoke(app, ["check", "--home", str(home.root), "--json"])
    assert result.exit_code == 1, result.output
    panes = {row["agent"]: row for row in json.loads(result.output)["panes"]}
    assert panes["Agent-1"]["valid"] and panes["Agent-1"]["pane"].startswith("%")
    assert not panes["Agent-2"]["valid"]
    assert "tmux has no pane swarm:nowhere" in panes["Agent-2"]["problem"]
    server.tmux("new-window", "-d", "-t", "swarm:", "-n", "nowhere", "bash --norc")
    result = CliRunner().invoke(app, ["check", "--home", str(home.root)])
    assert result.exit_code == 0, result.output


def test_init_tmux_writes_an_agent_per_window(tmp_path: Path) -> None:
    from agents.cli import init

    runner_app = _single(init)
    result = CliRunner().invoke(runner_app, ["--home", str(tmp_path / "h"), "--tmux", "crew"])
    assert result.exit_code == 0, result.output
    document = load_coordinates(tmp_path / "h" / "config" / "coordinates.json")
    assert document.agents["Agent-3"].tmux == TmuxTarget("crew:Agent-3")
    assert document.agents["Agent-3"].chat_point is None
    from agents.cli import agents

    listed = CliRunner().invoke(_single(agents), ["--home", str(tmp_path / "h"), "--json"])
    rows = {row["id"]: row for row in json.loads(listed.output)}
    assert rows["Agent-3"]["tmux"] == "crew:Agent-3" and rows["Agent-3"]["chat_point"] is None
    bad = CliRunner().invoke(runner_app, ["--home", str(tmp_path / "b"), "--tmux", "a:b"])
    assert bad.exit_code == 2 and "give the session name alone" in bad.output


def _single(command):  # type: ignore[no-untyped-def]
    import typer

    app = typer.Typer()
    app.command()(command)
    return app


def test_the_tmux_demo_delivers_to_every_pane_exactly_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from messaging.screen.cli import demo

    monkeypatch.delenv("DISPLAY", raising=False)
    home = tmp_path / "demo"
    result = CliRunner().invoke(
        _single(demo), ["--tmux", "--home", str(home), "--greeting", "Hi\tall"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("delivered via tmux, verified in the pane") == 8
    records = [
        json.loads(line) for line in (home / "var" / "demo-received.jsonl").read_text().splitlines()
    ]
    messages = [r for r in records if r["kind"] == "message"]
    assert sorted(r["agent_id"] for r in messages) == [f"Agent-{n}" for n in range(1, 9)]
    assert all(
        r["text"].startswith(f"[BROADCAST] Captain → {r['agent_id']}\n\nHi\tall\n\n")
        for r in messages
    )
    again = CliRunner().invoke(_single(demo), ["--tmux", "--home", str(home)])
    assert again.exit_code == 2 and "has a coordinates file already" in again.output
