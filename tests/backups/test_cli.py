"""``cellphone backup ...``, ``doctor`` and ``status``'s checks, run as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from config import Home
from tests.backups.conftest import damage_store, flip_byte
from tests.test_cli import cellphone


@pytest.fixture
def home(tmp_path: Path) -> Path:
    root = tmp_path / "swarm"
    assert cellphone("init", home=root).returncode == 0
    sent = cellphone("broadcast", "standup at nine", home=root)
    assert sent.returncode == 0, sent.stderr
    return root


def test_create_list_verify_and_a_tampered_archive(home: Path) -> None:
    made = cellphone("backup", "create", "--json", home=home)
    assert made.returncode == 0, made.stderr
    backup = json.loads(made.stdout)
    assert backup["kind"] == "full" and backup["verified_ok"] is True
    assert backup["files"] > 8

    listed = cellphone("backup", "list", home=home)
    assert listed.returncode == 0 and backup["id"] in listed.stdout and "full" in listed.stdout

    archive = home / "var" / "backups" / f"{backup['id']}.tar"
    letter = next((home / "agent_workspaces" / "Agent-3" / "inbox").glob("*.md"))
    offset = archive.read_bytes().index(letter.read_bytes())
    flip_byte(archive, offset + 10)
    checked = cellphone("backup", "verify", backup["id"], home=home)
    assert checked.returncode == 1
    assert f"agent_workspaces/Agent-3/inbox/{letter.name}: content changed" in checked.stderr

    everything = cellphone("backup", "verify", "--all", home=home)
    assert everything.returncode == 1 and f"{backup['id']}: FAILED" in everything.stdout
    listed = cellphone("backup", "list", "--json", home=home)
    assert json.loads(listed.stdout)[0]["verified_ok"] is False


def test_restore_refuses_the_live_home_without_force_and_restores_elsewhere(
    home: Path, tmp_path: Path
) -> None:
    made = json.loads(cellphone("backup", "create", "--json", home=home).stdout)
    refused = cellphone("backup", "restore", made["id"], home=home)
    assert refused.returncode == 2
    assert "add --force" in refused.stderr

    target = tmp_path / "copy"
    dry = cellphone("backup", "restore", made["id"], "--to", str(target), "--dry-run", home=home)
    assert dry.returncode == 0 and "would restore" in dry.stdout and not target.exists()
    done = cellphone("backup", "restore", "--at", "now", "--to", str(target), home=home)
    assert done.returncode == 0, done.stderr
    assert f"restored backup {made['id']}" in done.stdout
    assert (target / "config" / "coordinates.json").read_bytes() == (
        home / "config" / "coordinates.json"
    ).read_bytes()

    unknown = cellphone("backup", "restore", "20990101T000000.000Z", home=home)
    assert unknown.returncode == 2 and "no backup '20990101T000000.000Z'" in unknown.stderr
    bad_time = cellphone("backup", "restore", "--at", "yesterday-ish", home=home)
    assert bad_time.returncode == 2 and "--at 'yesterday-ish' is not a time" in bad_time.stderr


def test_drill_restores_the_newest_chain_and_reports_the_time(home: Path) -> None:
    assert cellphone("backup", "create", home=home).returncode == 0
    assert cellphone("broadcast", "second", home=home).returncode == 0
    assert cellphone("backup", "create", "--incremental", home=home).returncode == 0
    drill = cellphone("backup", "drill", "--json", home=home)
    assert drill.returncode == 0, drill.stderr
    report = json.loads(drill.stdout)
    assert report["ok"] and len(report["chain"]) == 2 and report["problems"] == []
    assert report["seconds"] < report["rto_seconds"]


def test_doctor_prints_each_check_and_fails_without_a_backup(home: Path) -> None:
    before = cellphone("doctor", "--json", home=home)
    assert before.returncode == 1
    checks = {c["check"]: c for c in json.loads(before.stdout)}
    assert list(checks) == [
        "display",
        "xclip",
        "agent points",
        "workspaces",
        "store",
        "queue",
        "backups",
        "discord",
        "free disk",
    ]
    assert checks["backups"]["status"] == "fail" and checks["backups"]["detail"] == (
        "no verified backup"
    )
    assert checks["store"]["status"] == "ok" and checks["workspaces"]["status"] == "ok"
    assert checks["discord"]["status"] == "warn" and "DISCORD_TOKEN" in checks["discord"]["detail"]

    assert cellphone("backup", "create", home=home).returncode == 0
    after = cellphone("doctor", home=home)
    assert "backups" in after.stdout and "newest verified backup 0.0 h old" in after.stdout
    failing = {
        c["check"]
        for c in json.loads(cellphone("doctor", "--json", home=home).stdout)
        if c["status"] == "fail"
    }
    assert after.returncode == (1 if failing else 0)
    assert "backups" not in failing


def test_status_shows_the_checks_and_a_damaged_store(home: Path) -> None:
    status = cellphone("status", "--json", home=home)
    checks = {c["check"]: c["status"] for c in json.loads(status.stdout)["checks"]}
    assert checks["store"] == "ok" and checks["backups"] == "fail" and "display" not in checks

    damage_store(Home(home).database)
    shown = cellphone("status", home=home)
    assert "fail: " in shown.stdout and "store (damaged:" in shown.stdout
    doctor = cellphone("doctor", "--json", home=home)
    store = next(c for c in json.loads(doctor.stdout) if c["check"] == "store")
    assert store["status"] == "fail" and "backup restore" in store["fix"]

    watch = cellphone("deliver", "--watch", home=home)
    assert watch.returncode == 2
    assert "is damaged" in watch.stderr and "cellphone backup restore" in watch.stderr
