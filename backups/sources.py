"""What a backup reads from a home: its files (config, each agent's inbox, outbox, devlogs and
status, the swarm's devlogs) and a consistent snapshot of the store."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import NamedTuple

from backups.errors import BackupError
from config import Home
from messaging.inbox import TEMP_PREFIX

WORKSPACE_ITEMS = ("inbox", "outbox", "devlogs", "status.json")
COUNTED_TABLES = ("messages", "deliveries", "audit")


class Source(NamedTuple):
    """A file of the home to back up (plain strings: a home has tens of thousands)."""

    path: str  # relative to the home, "/"-separated
    absolute: str
    size: int
    mtime_ns: int
    mode: int
    inode: int
    ctime_ns: int


def home_files(
    home: Home, skip: Collection[str] = (), folders: list[str] | None = None
) -> Iterator[Source]:
    """The files a backup covers, in a stable order. Symlinks inside are not followed; the
    inbox's half-written temporary files are left out. Each folder passed (empty ones too)
    is added to ``folders``."""
    found: list[str] = [] if folders is None else folders
    tops = [home.config_dir]
    if home.workspaces_dir.is_dir():
        for agent in sorted(home.workspaces_dir.iterdir()):
            tops.extend(agent / item for item in WORKSPACE_ITEMS)
    tops.append(home.devlogs_dir)
    for top in tops:
        relative = top.relative_to(home.root).as_posix()
        try:
            info = top.lstat()
        except FileNotFoundError:
            continue
        if stat.S_ISREG(info.st_mode) and str(top) not in skip:
            yield _source(relative, str(top), info)
        elif stat.S_ISDIR(info.st_mode):
            yield from _scan(str(top), relative, skip, found)


def _scan(folder: str, relative: str, skip: Collection[str], found: list[str]) -> Iterator[Source]:
    """The files under ``folder``, by name; one stat each, relative to the folder's
    descriptor (a home has tens of thousands of letters: this is most of the time an
    incremental backup takes to find what changed)."""
    found.append(relative)
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        return
    try:
        names = os.listdir(fd)
        names.sort()
        for name in names:
            try:
                info = os.stat(name, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            kind = info.st_mode & _KIND
            if kind == _FOLDER:
                yield from _scan(f"{folder}/{name}", f"{relative}/{name}", skip, found)
            elif kind == _FILE and not name.startswith(TEMP_PREFIX):
                absolute = f"{folder}/{name}"
                if absolute not in skip:
                    yield _source(f"{relative}/{name}", absolute, info)
    finally:
        os.close(fd)


_KIND, _FOLDER, _FILE = stat.S_IFMT(0o177777), stat.S_IFDIR, stat.S_IFREG


def _source(path: str, absolute: str, info: os.stat_result) -> Source:
    return Source(
        path,
        absolute,
        info.st_size,
        info.st_mtime_ns,
        info.st_mode & 0o7777,
        info.st_ino,
        info.st_ctime_ns,
    )


def store_stamp(database: Path) -> tuple[int, ...] | None:
    """Size and mtime of the store and of its write-ahead log; while they stay the same the
    store holds what it held (a log that is missing or empty holds nothing). None: there is
    no store."""
    try:
        store = database.stat()
    except FileNotFoundError:
        return None
    try:
        log = database.with_name(f"{database.name}-wal").stat()
        logged = (log.st_size, log.st_mtime_ns) if log.st_size else (0, 0)
    except FileNotFoundError:
        logged = (0, 0)
    return (store.st_size, store.st_mtime_ns, *logged)


@contextlib.contextmanager
def store_snapshot(database: Path) -> Iterator[Callable[[Path], dict[str, int]] | None]:
    """The store as of now: a read transaction is opened at once (the files are read after
    it, so every delivery the snapshot calls done has its inbox letter in the backup), and
    the function given copies that state to a file with SQLite's online backup API while
    the coordinator goes on writing (WAL), returning the row counts. None without a store."""
    if not database.exists():
        yield None
        return
    try:
        source = sqlite3.connect(
            f"{database.as_uri()}?mode=ro", uri=True, timeout=30, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise BackupError(_cannot(database, exc)) from None
    with contextlib.closing(source):
        try:
            source.execute("BEGIN")
            source.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as exc:
            raise BackupError(_cannot(database, exc)) from None

        def copy_to(copy: Path) -> dict[str, int]:
            try:
                with contextlib.closing(sqlite3.connect(copy)) as target:
                    # a scratch copy: no journal of its own and no syncing (the archive it
                    # goes into is synced); it takes half the time
                    target.execute("PRAGMA journal_mode=OFF")
                    target.execute("PRAGMA synchronous=OFF")
                    source.backup(target)
                    target.execute("PRAGMA journal_mode=DELETE")  # a file that stands alone
                    return {t: n for t in COUNTED_TABLES if (n := _count(target, t)) is not None}
            except sqlite3.Error as exc:
                raise BackupError(_cannot(database, exc)) from None

        yield copy_to


def _cannot(database: Path, exc: sqlite3.Error) -> str:
    return (
        f"cannot snapshot the store {database}: {exc}; if it is damaged, "
        "`cellphone doctor` says so and `cellphone backup restore` puts back a backup"
    )


def _count(db: sqlite3.Connection, table: str) -> int | None:
    try:
        return int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    except sqlite3.OperationalError:
        return None  # a store without this table yet
