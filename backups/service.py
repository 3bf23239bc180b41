"""The backups of one home, bound to its settings: what the CLI, the schedule and the bot
call."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from backups.catalog import Catalog, Verified
from backups.crypto import load_key
from backups.errors import BackupError, VerifyError
from backups.manifest import Manifest
from config import BackupKind, BackupSettings, Home

if TYPE_CHECKING:  # the work itself is loaded by the method doing it: `status` and `doctor`
    # make a Backups only to read the key file and the newest verification
    from backups.drill import DrillResult
    from backups.prune import PrunePlan
    from backups.restore import RestoreResult

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class BackupRow:
    """One line of ``backup list``."""

    manifest: Manifest
    archive_size: int
    verified: Verified | None


P = ParamSpec("P")
R = TypeVar("R")


def _explained(method: Callable[P, R]) -> Callable[P, R]:
    """A failing file operation leaves as a :class:`BackupError` naming the file."""

    @functools.wraps(method)
    def explained(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except OSError as exc:
            where = f" {exc.filename}" if exc.filename else ""
            raise BackupError(
                f"{method.__name__} failed:{where}: {exc.strerror or exc}; check the folder's "
                "permissions and the free space of its disk"
            ) from exc

    return explained


class Backups:
    def __init__(self, home: Home, settings: BackupSettings, clock: Clock = utc_now) -> None:
        self.home = home
        self.settings = settings
        self.clock = clock
        self.key = load_key(self.key_path) if self.key_path else None
        self.catalog = Catalog(home.backups_dir, self.key)

    @property
    def key_path(self) -> Path | None:
        key_file = self.settings.key_file
        return None if key_file is None else self.home.root / key_file.expanduser()

    @_explained
    def create(self, kind: BackupKind = BackupKind.FULL) -> Manifest:
        from backups.create import create_backup

        skip = {str(self.key.path), str(self.key.path.resolve())} if self.key else set()
        return create_backup(self.home, self.catalog, kind, self.clock(), skip)

    @_explained
    def verify(self, backup_id: str) -> Manifest:
        from backups.restore import verify

        return verify(self.catalog, backup_id, self.clock())

    def verify_all(self) -> dict[str, list[str]]:
        """Each backup's problems (an empty list: it passed)."""
        outcome: dict[str, list[str]] = {}
        for manifest in self.catalog.manifests():
            try:
                self.verify(manifest.id)
                outcome[manifest.id] = []
            except VerifyError as exc:
                outcome[manifest.id] = exc.problems
        return outcome

    @_explained
    def restore(
        self,
        backup_id: str | None = None,
        *,
        at: datetime | None = None,
        to: Path | None = None,
        force: bool = False,
        dry_run: bool = False,
    ) -> RestoreResult:
        from backups.restore import choose_at, restore

        if at is not None:
            manifest = choose_at(self.catalog, at)
        else:
            assert backup_id is not None, "a backup id or a time"
            manifest = self.catalog.get(backup_id)
        target = to or self.home.root
        live = target.resolve() == self.home.root.resolve()
        return restore(self.catalog, manifest, target, live=live, force=force, dry_run=dry_run)

    @_explained
    def prune(self, keep_last: int, keep_daily: int, *, dry_run: bool = False) -> PrunePlan:
        from backups.prune import prune

        return prune(self.catalog, keep_last, keep_daily, dry_run=dry_run)

    @_explained
    def drill(self) -> DrillResult:
        from backups.drill import drill

        return drill(self.catalog, self.settings.rto_seconds, scratch=self.home.backups_dir)

    def rows(self) -> list[BackupRow]:
        return [
            BackupRow(m, self.catalog.size_on_disk(m), self.catalog.verified(m.id))
            for m in self.catalog.manifests()
        ]

    def last_verified(self) -> datetime | None:
        """When the newest backup that passed its verification was made. Only that backup's
        manifest is read (status asks this every time, and a home keeps dozens of backups
        whose manifests list every file)."""
        for backup_id in sorted(self.catalog.ids(), reverse=True):
            check = self.catalog.verified(backup_id)
            if check is not None and check.ok:
                return self.catalog.get(backup_id).created_at
        return None
