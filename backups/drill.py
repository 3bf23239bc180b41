"""The continuity test: restore the newest backup's chain into a temporary folder, check the
restored store (integrity and row counts) and time it against the recovery-time objective."""

from __future__ import annotations

import contextlib
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from backups.catalog import Catalog
from backups.errors import BackupError
from backups.manifest import STORE_PATH
from backups.restore import restore


@dataclass(frozen=True)
class DrillResult:
    backup_id: str
    chain: list[str]
    files: int
    size: int
    seconds: float
    rto_seconds: float
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems and self.seconds <= self.rto_seconds


def drill(catalog: Catalog, rto_seconds: float, scratch: Path | None = None) -> DrillResult:
    manifest = catalog.newest()
    if manifest is None:
        raise BackupError("there is no backup to drill; make one with `cellphone backup create`")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=scratch, prefix="cellphone-drill-") as work:
        target = Path(work) / "home"
        result = restore(catalog, manifest, target, live=False)
        problems = store_problems(target / STORE_PATH, manifest.store_rows)
    return DrillResult(
        manifest.id,
        result.chain,
        result.files,
        result.size,
        time.perf_counter() - started,
        rto_seconds,
        problems,
    )


def store_problems(database: Path, expected_rows: dict[str, int]) -> list[str]:
    """What is wrong with a restored store: its integrity check, and row counts that differ
    from the snapshot's."""
    if not database.exists():
        return [f"{STORE_PATH} is missing"] if expected_rows else []
    with contextlib.closing(sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)) as db:
        try:
            verdict = [row[0] for row in db.execute("PRAGMA integrity_check")]
            problems = [] if verdict == ["ok"] else [f"integrity check: {'; '.join(verdict[:3])}"]
            for table, count in expected_rows.items():
                found = db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                if found != count:
                    problems.append(f"{table}: {found} rows, the backup had {count}")
        except sqlite3.DatabaseError as exc:
            problems = [f"{STORE_PATH}: {exc}"]
    return problems
