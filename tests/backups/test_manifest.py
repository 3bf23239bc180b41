"""The manifest beside each archive: written as columns, and the row format of the first
backups still read."""

from __future__ import annotations

import json
from pathlib import Path

from backups.manifest import STORE_PATH, Manifest
from backups.service import Backups
from config import BackupKind, Home
from tests.backups.conftest import backed_up_bytes


def test_a_manifest_reads_back_as_written(backups: Backups) -> None:
    made = backups.create(BackupKind.FULL)
    sidecar = backups.catalog.folder / f"{made.id}.json"
    assert Manifest.from_json(sidecar.read_text(), str(sidecar)) == made
    # what tells a changed file at the next backup (the store is compared by content)
    assert all(entry.inode and entry.ctime_ns for entry in made.files if entry.path != STORE_PATH)


def test_a_backup_with_a_manifest_of_format_1_still_restores(
    backups: Backups, busy_home: Home, tmp_path: Path
) -> None:
    made = backups.create(BackupKind.FULL)
    expected = backed_up_bytes(busy_home)
    sidecar = backups.catalog.folder / f"{made.id}.json"
    data = json.loads(sidecar.read_text())
    data.pop("part_columns")
    rows = []
    for block in data.pop("files"):
        columns, pieces = block["columns"], block["pieces"]
        for path, size, digest, mtime_ns, mode, source in zip(
            *(columns[name] for name in ("path", "size", "sha256", "mtime_ns", "mode", "source")),
            strict=True,
        ):
            parts = pieces.get(path) or [[source, path, 0, size, digest]]
            rows.append([path, size, digest, mtime_ns, mode, parts])
    data.update(format=1, files=rows)
    sidecar.write_text(json.dumps(data))

    old = Backups(busy_home, backups.settings, backups.clock).catalog.get(made.id)
    assert old.chain == [made.id]
    assert [entry.parts for entry in old.files] == [entry.parts for entry in made.files]
    result = Backups(busy_home, backups.settings, backups.clock).restore(
        made.id, to=tmp_path / "restored"
    )
    assert backed_up_bytes(Home(result.target)) == expected
