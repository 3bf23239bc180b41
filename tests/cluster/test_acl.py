"""Each desk's own Redis ACL user, on a real redis-server: it reads only its stream and
writes only its outcomes and heartbeat; a desk process joins with it, and a wrong password
is an error that does not show the password."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from redis.exceptions import NoPermissionError

from config.model import Secret
from config.settings import ClusterSettings
from messaging.cluster.acl import grant
from messaging.cluster.wire import (
    DESKS_GROUP,
    connect,
    desk_stream,
    heartbeat_key,
    outcome_stream,
)
from messaging.model import DeliveryState
from messaging.runtime import open_runtime
from tests.cluster.conftest import ROOT, DeskProcess, RedisServer, desk_home
from tests.cluster.helpers import coordinator_home, copies, join_command, until


def as_user(user: str, password: str) -> ClusterSettings:
    return ClusterSettings(username=user, password=Secret(password))


async def test_a_desk_reads_only_its_own_stream(redis_server: RedisServer) -> None:
    admin = connect(redis_server.url, ClusterSettings())
    try:
        user_1, password_1 = await grant(admin, "pc-1")
        await grant(admin, "pc-2")
        for name in ("pc-1", "pc-2"):
            await admin.xgroup_create(desk_stream(name), DESKS_GROUP, id="0", mkstream=True)
            await admin.xadd(desk_stream(name), {"body": f"for {name}"})
    finally:
        await admin.aclose()
    desk = connect(redis_server.url, as_user(user_1, password_1))
    try:
        [[_, [(_, mine)]]] = await desk.xreadgroup(
            DESKS_GROUP, "c", {desk_stream("pc-1"): ">"}, count=1
        )
        assert mine == {"body": "for pc-1"}
        await desk.xadd(outcome_stream("pc-1"), {"state": "delivered"})
        await desk.set(heartbeat_key("pc-1"), "{}")
        with pytest.raises(NoPermissionError):
            await desk.xreadgroup(DESKS_GROUP, "c", {desk_stream("pc-2"): ">"}, count=1)
        with pytest.raises(NoPermissionError):
            await desk.xrange(desk_stream("pc-2"))
        with pytest.raises(NoPermissionError):
            await desk.xadd(outcome_stream("pc-2"), {"state": "delivered"})
        with pytest.raises(NoPermissionError):
            await desk.set(heartbeat_key("pc-2"), "{}")
        with pytest.raises(NoPermissionError):  # write-only: not even its own outcomes
            await desk.xrange(outcome_stream("pc-1"))
        with pytest.raises(NoPermissionError):
            await desk.keys("*")
    finally:
        await desk.aclose()


async def test_desks_join_with_their_own_users(
    tmp_path: Path, redis_server: RedisServer, desks: list[DeskProcess]
) -> None:
    admin = connect(redis_server.url, ClusterSettings())
    try:
        users = [await grant(admin, name) for name in ("pc-1", "pc-2")]
    finally:
        await admin.aclose()
    homes = [desk_home(tmp_path / f"pc-{n}", 4 * (n - 1) + 1, 4) for n in (1, 2)]
    for n, (home, (user, password)) in enumerate(zip(homes, users, strict=True), 1):
        env = {"CELLPHONE_CLUSTER__USERNAME": user, "CELLPHONE_CLUSTER__PASSWORD": password}
        desks.append(DeskProcess(f"pc-{n}", home, redis_server.url, env))
        desks[-1].start()
    home, settings = coordinator_home(tmp_path / "coordinator", redis_server.url)
    async with open_runtime(home, settings) as rt:
        await until(lambda: len(rt.registry.current()) == 8, 30, "8 agents announced")
        sent = await rt.service.broadcast("through the desks' own users")
        outcomes = await rt.desk.wait_for(sent.message.id, 60)
    assert {o.state for o in outcomes.values()} == {DeliveryState.DELIVERED}
    assert copies(homes[1], "Agent-5", sent.message.id) == 1
    for desk, (_, password) in zip(desks, users, strict=True):
        assert password not in desk.log()


def test_a_wrong_password_is_named_without_showing_it(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    home = desk_home(tmp_path / "pc-1", 1, 1)
    url = f"redis://desk-pc-1:hunter2-wrong@127.0.0.1:{redis_server.port}"
    result = subprocess.run(
        join_command(url, "pc-1", home),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "cannot reach Redis at redis://desk-pc-1:***@127.0.0.1" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout


def test_the_coordinator_grants_a_desk_its_user(tmp_path: Path, redis_server: RedisServer) -> None:
    home, _ = coordinator_home(tmp_path / "coordinator", redis_server.url)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cellphone",
            "desk",
            "--grant",
            "--name",
            "pc-7",
            "--home",
            str(home.root),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CELLPHONE_CLUSTER__REDIS_URL": redis_server.url},
    )
    assert result.returncode == 0, result.stderr
    lines = dict(line.split("=", 1) for line in result.stdout.split())
    assert lines["CELLPHONE_CLUSTER__USERNAME"] == "desk-pc-7"
    admin = redis.Redis(port=redis_server.port, decode_responses=True)
    try:
        rules = admin.acl_getuser("desk-pc-7")
    finally:
        admin.close()
    assert "~cellphone:desk:pc-7" in rules["keys"]
