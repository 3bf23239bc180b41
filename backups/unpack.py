"""Writing out the files of a restore (and hashing those of a verify) on several threads,
each file checked against its sha256 as it is written.

The archive is read in order on the calling thread, which hands each member to a worker.
The files of one folder go to one worker: creating a file takes its folder's lock in the
kernel, so two threads creating files in one folder mostly wait for each other. A folder
seen for the first time goes to the worker given the least work so far (a file counts as
its size and :data:`FILE_COST` bytes more), and so does every large file, wherever it is.

A plain archive's members are views into the mapped archive: nothing is copied before it is
written, and a large file goes straight to the disk (``O_DIRECT``) from there: it does not
fill the page cache with what nobody reads right after a restore, and copying into pages of
the cache not used before cost more than the disk's writes (526 MB: 1.27 s against 0.19 s
on a virtual machine). A filesystem that refuses such writes gets ordinary ones. An
encrypted archive's members are read into memory as they are decrypted, at most
:data:`HELD` bytes of them waiting at once; a member larger than :data:`BATCH_BYTES` is
written by the reading thread itself, a piece at a time.

Threads, not processes: most of the work is the kernel's (creating files, copying pages),
which runs beside the interpreter's lock. Two processes, each writing its share of the
folders, took about as long as two threads (median of three: 2.5 s against 2.0 s), and
threads share the one decrypted stream of an encrypted archive."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import mmap
import os
import queue
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType

from backups.errors import BackupError
from backups.manifest import FileEntry, Part
from backups.tarread import Member

Targets = list[tuple[FileEntry, Part]]  # the files (or pieces of one) a member holds
Job = tuple[Targets, memoryview | bytes]

WORKERS = 2  # threads writing; three or four were no faster than two on two cores
FILE_COST = 64 << 10  # what creating a file costs, counted in bytes written
LARGE = 1 << 20  # a file from this size on goes to the worker with the least work
BATCH_FILES = 64  # members handed to a worker at once...
BATCH_BYTES = 8 << 20  # ...or this many bytes
HASHED_HERE = 64 << 10  # verify: members smaller than this are hashed by the reading thread
# (handing them over took longer than hashing them, and hashing less than 2 KiB holds the
# interpreter's lock anyway)
HELD = 64 << 20  # bytes read from an encrypted archive waiting for a worker, at most
PIECE = 4 << 20  # bytes hashed and written at a time
DIRECT_BLOCK = 4096  # direct writes: their lengths and offsets are multiples of this
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
_PIECE_OF = os.O_WRONLY | os.O_CLOEXEC  # a file in pieces was created at its full size
_DIRECT = getattr(os, "O_DIRECT", 0)  # Linux's; elsewhere every write is an ordinary one


class _Stopped(Exception):
    """The unpacking was abandoned: the workers drop what is left."""


class Unpacker:
    """Workers writing members into ``root`` (None: only hashing them). Use it as a context
    manager: :meth:`finish` waits for every member and returns the problems found; leaving
    the block without it (an error) stops the workers."""

    def __init__(self, root: Path | None, workers: int = WORKERS) -> None:
        self._root = None if root is None else str(root)
        self._queues: list[queue.SimpleQueue[list[Job] | None]] = [
            queue.SimpleQueue() for _ in range(workers)
        ]
        self._batches: list[list[Job]] = [[] for _ in range(workers)]
        self._batch_bytes = [0] * workers
        self._load = [0] * workers  # work given to each worker so far
        self._folders: dict[str, int] = {}  # the worker creating each folder's files
        self._problems: list[list[str]] = [[] for _ in range(workers + 1)]  # the last: add's
        self._error: BaseException | None = None
        self._room = threading.Condition()
        self._held = 0
        self.direct = self._root is not None and _DIRECT != 0  # large files: O_DIRECT
        self._threads = [
            threading.Thread(target=self._run, args=(n,), name=f"restore-{n}", daemon=True)
            for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def __enter__(self) -> Unpacker:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if any(thread.is_alive() for thread in self._threads):
            self._fail(_Stopped())
            self._end()

    @property
    def folders(self) -> dict[str, int]:
        """The worker each folder's files went to."""
        return dict(self._folders)

    def add(self, targets: Targets, content: memoryview | Member) -> None:
        """Hand over the content of a member holding ``targets``: a view of the mapped
        archive, or a stream (read here, or written here when large). A worker's error is
        raised here, so reading stops."""
        if self._error is not None:
            raise self._error
        if isinstance(content, memoryview):
            if self._root is None and len(content) < HASHED_HERE:
                digest = hashlib.sha256(content).hexdigest()
                self._problems[-1] += _checked(targets, digest)
            else:
                self._give(targets, content)
        elif content.left > BATCH_BYTES and len(targets) == 1:
            entry, part = targets[0]
            chunks = iter(lambda: content.read(PIECE), b"")
            if self._root is not None and len(entry.parts) == 1 and self.direct:
                digest = self._direct(entry, chunks, aligned=False)
            else:
                digest = self._unpack(entry, part, chunks)
            self._problems[-1] += _checked(targets, digest)
        else:
            data = content.read()
            self._hold(len(data))
            self._give(targets, data)

    def finish(self) -> list[str]:
        """Wait for every member handed over; the problems found (files whose content does
        not match the manifest). An error of a worker is raised."""
        self._end()
        if self._error is not None:
            raise self._error
        return [problem for problems in self._problems for problem in problems]

    def _give(self, targets: Targets, data: memoryview | bytes) -> None:
        worker = self._worker(targets[0][0].path, len(data))
        batch = self._batches[worker]
        batch.append((targets, data))
        self._batch_bytes[worker] += len(data)
        if len(batch) >= BATCH_FILES or self._batch_bytes[worker] >= BATCH_BYTES:
            self._flush(worker)

    def _worker(self, path: str, size: int) -> int:
        if size >= LARGE:
            worker = self._least()
        else:
            folder = path.rpartition("/")[0]
            worker = self._folders.get(folder, -1)
            if worker < 0:
                worker = self._folders[folder] = self._least()
        self._load[worker] += size + FILE_COST
        return worker

    def _least(self) -> int:
        return min(range(len(self._load)), key=self._load.__getitem__)

    def _flush(self, worker: int) -> None:
        if self._batches[worker]:
            self._queues[worker].put(self._batches[worker])
            self._batches[worker] = []
            self._batch_bytes[worker] = 0

    def _hold(self, size: int) -> None:
        """Count ``size`` bytes read into memory; wait while too many are."""
        with self._room:
            if self._held and self._held + size > HELD:
                for worker in range(len(self._batches)):  # what waits here cannot be freed
                    self._flush(worker)
                while self._held and self._held + size > HELD and self._error is None:
                    self._room.wait()
            self._held += size

    def _end(self) -> None:
        for worker, jobs in enumerate(self._queues):
            self._flush(worker)
            jobs.put(None)
        for thread in self._threads:
            thread.join()

    def _fail(self, error: BaseException) -> None:
        with self._room:
            if self._error is None:
                self._error = error
            self._room.notify_all()

    def _run(self, worker: int) -> None:
        jobs = self._queues[worker]
        problems = self._problems[worker]
        while (batch := jobs.get()) is not None:
            try:
                for targets, data in batch:
                    if self._error is not None:
                        break
                    problems += _checked(targets, self._member(targets, data))
            except BaseException as exc:  # raised by add or finish, on the reading thread
                self._fail(exc)
            finally:
                held = sum(len(data) for _, data in batch if isinstance(data, bytes))
                if held:
                    with self._room:
                        self._held -= held
                        self._room.notify_all()

    def _member(self, targets: Targets, data: memoryview | bytes) -> str:
        """The sha256 of ``data``, written to each of ``targets``."""
        if self._root is None:
            return hashlib.sha256(data).hexdigest()
        digest = ""
        for entry, part in targets:
            view = memoryview(data)
            chunks = (view[at : at + PIECE] for at in _steps(view))
            if len(view) >= LARGE and len(entry.parts) == 1 and self.direct:
                digest = self._direct(entry, chunks, aligned=isinstance(data, memoryview))
            else:
                digest = self._unpack(entry, part, chunks)
        return digest

    def _unpack(self, entry: FileEntry, part: Part, chunks: Iterable[bytes | memoryview]) -> str:
        """Write ``chunks`` where ``part`` of ``entry`` goes (hashing only, without a root);
        their sha256. A file stored whole gets its mode and time too."""
        digest = hashlib.sha256()
        if self._root is None:
            for chunk in chunks:
                digest.update(chunk)
            return digest.hexdigest()
        whole = len(entry.parts) == 1
        with _writing(entry):
            fd = os.open(f"{self._root}/{entry.path}", _CREATE if whole else _PIECE_OF, 0o600)
            try:
                at = part.offset
                for chunk in chunks:
                    digest.update(chunk)
                    at = _put(fd, chunk, at)
                if whole:  # its mode and time now, while it is open
                    os.fchmod(fd, entry.mode)
                    os.utime(fd, ns=(entry.mtime_ns, entry.mtime_ns))
            finally:
                os.close(fd)
        return digest.hexdigest()

    def _direct(
        self, entry: FileEntry, chunks: Iterable[bytes | memoryview], *, aligned: bool
    ) -> str:
        """Write a file stored whole straight to the disk, from ``chunks`` of :data:`PIECE`
        bytes (the last one shorter); their sha256. ``aligned``: they are views of the mapped
        archive, which starts on a page and puts each member at a multiple of 512 bytes from
        there, and are written from where they are; others are copied to a block of memory
        that starts on a page first. The end goes through that block too, cut to length
        after. A filesystem that refuses gets ordinary writes from there on, for this file
        and every one after it."""
        digest = hashlib.sha256()
        path = f"{self._root}/{entry.path}"
        with _writing(entry):
            direct = True
            try:
                fd = os.open(path, _CREATE | _DIRECT, 0o600)
            except OSError as exc:
                if exc.errno != errno.EINVAL:
                    raise
                self.direct = direct = False
                fd = os.open(path, _CREATE, 0o600)
            try:
                at, padded = 0, False
                with mmap.mmap(-1, PIECE) as block, memoryview(block) as spare:
                    for chunk in chunks:
                        digest.update(chunk)
                        if direct:
                            try:
                                at, pad = _put_direct(fd, chunk, at, spare, aligned)
                                padded = padded or pad
                                continue
                            except OSError as exc:
                                if exc.errno != errno.EINVAL:
                                    raise
                            self.direct = direct = False
                            os.close(fd)
                            fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
                        at = _put(fd, chunk, at)
                if padded:
                    os.ftruncate(fd, at)
                os.fchmod(fd, entry.mode)
                os.utime(fd, ns=(entry.mtime_ns, entry.mtime_ns))
            finally:
                os.close(fd)
        return digest.hexdigest()


@contextlib.contextmanager
def _writing(entry: FileEntry) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise BackupError(
            f"cannot write {entry.path} while restoring: {exc.strerror or exc}; check the "
            "target's free space and permissions"
        ) from None


def _put_direct(
    fd: int, chunk: bytes | memoryview, at: int, spare: memoryview, aligned: bool
) -> tuple[int, bool]:
    """Write ``chunk`` at ``at`` on a file opened with O_DIRECT: the whole blocks from where
    they are when ``aligned``, the rest through ``spare``, padded to a block. Where it ends,
    and whether it was padded."""
    size = len(chunk)
    bulk = size - size % DIRECT_BLOCK if aligned else 0
    if bulk:
        _put(fd, chunk[:bulk] if bulk < size else chunk, at)
    rest = size - bulk
    if rest:
        spare[:rest] = chunk[bulk:]
        _put(fd, spare[: rest + -rest % DIRECT_BLOCK], at + bulk)
    return at + size, rest % DIRECT_BLOCK != 0


def _steps(view: memoryview) -> Iterator[int]:
    return iter(range(0, max(len(view), 1), PIECE))


def _put(fd: int, data: bytes | memoryview, at: int) -> int:
    """Write all of ``data`` at ``at``; where it ends."""
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, at)
        view, at = view[written:], at + written
    return at


def _checked(targets: Targets, digest: str) -> list[str]:
    return [
        f"{entry.path}: content changed (sha256 {digest[:12]}…, manifest says {part.sha256[:12]}…)"
        for entry, part in targets
        if part.sha256 != digest
    ]
