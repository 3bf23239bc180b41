"""The backups of a home as they lie in ``var/backups/``: per backup an archive
(``<id>.tar``, or ``<id>.tar.enc`` when encrypted), its manifest beside it (``<id>.json``,
written last: a backup exists once it is there) and the outcome of its last verification
(``<id>.verified``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from backups.crypto import Key
from backups.errors import UnknownBackupError, WrongKeyError
from backups.manifest import Manifest, write_atomic
from config import BackupKind


@dataclass(frozen=True)
class Verified:
    at: datetime
    ok: bool
    problems: tuple[str, ...] = ()


class Catalog:
    def __init__(self, folder: Path, key: Key | None = None) -> None:
        self.folder = folder
        self.key = key
        self._read: dict[str, tuple[int, Manifest]] = {}  # manifests read, by id (and mtime)

    def manifests(self) -> list[Manifest]:
        """Every backup, oldest first."""
        return [self.get(backup_id) for backup_id in sorted(self.ids())]

    def ids(self) -> set[str]:
        if not self.folder.is_dir():
            return set()
        return {p.stem for p in self.folder.glob("*.json") if not p.name.startswith(".")}

    def manifest_file(self, backup_id: str) -> Path:
        """Where the manifest of ``backup_id`` is kept (the archive holds a copy too)."""
        return self.folder / f"{backup_id}.json"

    def get(self, backup_id: str) -> Manifest:
        path = self.manifest_file(backup_id)
        try:
            if "/" in backup_id or backup_id.startswith("."):
                raise FileNotFoundError(backup_id)
            stamp = path.stat().st_mtime_ns
        except FileNotFoundError:
            known = sorted(self.ids())[-5:]
            hint = f"recent ones: {', '.join(known)}" if known else "there are none yet"
            raise UnknownBackupError(
                f"no backup {backup_id!r} in {self.folder}; `cellphone backup list` shows "
                f"them ({hint})"
            ) from None
        cached = self._read.get(backup_id)
        if cached is None or cached[0] != stamp:
            manifest = Manifest.from_json(path.read_text(encoding="utf-8"), str(path))
            cached = self._read[backup_id] = (stamp, manifest)
        return cached[1]

    def remember(self, manifest: Manifest) -> None:
        """Keep a manifest just written, so the next backup builds on it without reading
        it again (a scheduled backup runs in the same process as the one before)."""
        stamp = self.manifest_file(manifest.id).stat().st_mtime_ns
        self._read[manifest.id] = (stamp, manifest)

    def newest(self, kind: BackupKind | None = None) -> Manifest | None:
        for backup_id in sorted(self.ids(), reverse=True):
            manifest = self.get(backup_id)
            if kind is None or manifest.kind is kind:
                return manifest
        return None

    def archive(self, manifest: Manifest) -> Path:
        suffix = ".tar.enc" if manifest.key_id else ".tar"
        return self.folder / f"{manifest.id}{suffix}"

    def key_for(self, manifest: Manifest) -> Key | None:
        """The key that opens ``manifest``'s archive; a clear error when it is not set."""
        if manifest.key_id is None:
            return None
        if self.key is None:
            raise WrongKeyError(
                f"backup {manifest.id} is encrypted (key {manifest.key_id}) and "
                "backups.key_file is not set; set it to that key's file"
            )
        return self.key

    def verified(self, backup_id: str) -> Verified | None:
        path = self.folder / f"{backup_id}.verified"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return Verified(datetime.fromisoformat(data["at"]), data["ok"], tuple(data["problems"]))
        except (OSError, ValueError, KeyError):
            return None

    def mark_verified(self, backup_id: str, at: datetime, problems: list[str]) -> None:
        record = {"at": at.isoformat(), "ok": not problems, "problems": problems}
        write_atomic(self.folder / f"{backup_id}.verified", json.dumps(record).encode())

    def remove(self, manifest: Manifest) -> None:
        """Forget a backup: its manifest first, so a half-removed one is no backup."""
        for path in (
            self.manifest_file(manifest.id),
            self.archive(manifest),
            self.folder / f"{manifest.id}.verified",
        ):
            path.unlink(missing_ok=True)

    def size_on_disk(self, manifest: Manifest) -> int:
        try:
            return self.archive(manifest).stat().st_size
        except OSError:
            return 0
