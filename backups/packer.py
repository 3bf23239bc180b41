"""Packing changed files into tar bytes on reader threads while the caller writes them.

Each reader reads files into a few buffers of its own that are reused (no fresh memory per
file, so the copy stays in the CPU's caches), hashes them there and puts each tar header
before its file; the caller writes full buffers and hands them back. Two readers take
batches of files in turn, so reading and hashing run on both cores beside the writing. A
buffer that ends inside a large file is followed by that reader's next buffer before any
other reader's, so every member stays whole."""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from backups.archive import BLOCK, NAME_MAX, header
from backups.errors import BackupError
from backups.manifest import FileEntry, Part
from backups.sources import Source

BUFFER = 4 << 20
BUFFERS_EACH = 3
READERS = 2
BATCH_FILES = 64
BATCH_BYTES = 8 << 20


@dataclass(frozen=True)
class Full:
    """A buffer ready to write: ``length`` bytes of reader ``reader``; ``clean`` when it
    ends between two members."""

    reader: int
    buffer: bytearray
    length: int
    clean: bool


class _Stop(Exception):
    """The caller stopped taking buffers."""


class _Reader:
    def __init__(self, number: int, backup_id: str, full: queue.Queue[Full | int]) -> None:
        self.number = number
        self.backup_id = backup_id
        self.full = full
        self.free: queue.Queue[bytearray] = queue.Queue()
        for _ in range(BUFFERS_EACH):
            self.free.put(bytearray(BUFFER))
        self.stopped = threading.Event()
        self.entries: list[FileEntry] = []
        self.error: BaseException | None = None
        self.buffer = bytearray()
        self.view = memoryview(self.buffer)
        self.pos = 0

    def run(self, batches: Iterator[list[Source]], lock: threading.Lock) -> None:
        try:
            self._begin()
            while True:
                with lock:
                    batch = next(batches, None)
                if batch is None:
                    break
                for source in batch:
                    entry = self._file(source)
                    if entry is not None:
                        self.entries.append(entry)
            if self.pos:
                self._hand_off(clean=True, last=True)
        except _Stop:
            pass
        except BaseException as exc:  # handed to the caller, who raises it
            self.error = exc
        finally:
            self.full.put(self.number)  # this reader is done

    def _take(self) -> bytearray:
        while True:
            with contextlib.suppress(queue.Empty):
                return self.free.get(timeout=0.5)
            if self.stopped.is_set():
                raise _Stop

    def _begin(self) -> None:
        self.buffer = self._take()
        self.view = memoryview(self.buffer)
        self.pos = 0

    def _hand_off(self, *, clean: bool, last: bool = False) -> None:
        self.view.release()
        self.full.put(Full(self.number, self.buffer, self.pos, clean))
        if not last:
            self._begin()

    def _room(self, wanted: int) -> None:
        if BUFFER - self.pos < wanted:
            self._hand_off(clean=True)

    def _file(self, source: Source) -> FileEntry | None:
        try:
            fd = os.open(source.absolute, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None  # removed since the folder was listed: not part of this backup
        except OSError as exc:
            raise BackupError(
                f"cannot back up {source.absolute}: {exc.strerror or exc}; check its permissions"
            ) from None
        try:
            info = os.fstat(fd)
            mtime = int(info.st_mtime)
            if info.st_size + 3 * BLOCK <= BUFFER and _short(source.path):
                size, digest = self._small(fd, source, mtime)
            else:
                size, digest = self._large(fd, source, info.st_size, mtime)
        finally:
            os.close(fd)
        part = Part(self.backup_id, source.path, 0, size, digest)
        return FileEntry(source.path, size, digest, info.st_mtime_ns, source.mode, (part,))

    def _small(self, fd: int, source: Source, mtime: int) -> tuple[int, str]:
        """Read to the end (the file as it is when read), then put its header before it."""
        self._room(3 * BLOCK)
        start = end = self.pos + BLOCK
        while got := os.preadv(fd, [self.view[end:]], end - start):
            end += got
            if end == BUFFER:  # it grew while read and does not fit: read it again
                if self.pos == 0:
                    return self._large(fd, source, os.fstat(fd).st_size, mtime)
                self._hand_off(clean=True)
                return self._small(fd, source, mtime)
        size = end - start
        self.view[start - BLOCK : start] = header(source.path, size, mtime)
        digest = hashlib.sha256(self.view[start:end]).hexdigest()
        self._pad(end, size)
        return size, digest

    def _large(self, fd: int, source: Source, size: int, mtime: int) -> tuple[int, str]:
        """Copy exactly ``size`` bytes in pieces; a file cut while read is an error."""
        head = header(source.path, size, mtime)
        self._room(len(head))
        self.view[self.pos : self.pos + len(head)] = head
        self.pos += len(head)
        digest = hashlib.sha256()
        done = 0
        while done < size:
            if self.pos == BUFFER:
                self._hand_off(clean=False)
            space = self.view[self.pos : self.pos + min(size - done, BUFFER - self.pos)]
            got = os.preadv(fd, [space], done)
            if not got:
                raise BackupError(
                    f"{source.absolute} got shorter while it was backed up; run the backup again"
                )
            digest.update(space[:got])
            self.pos += got
            done += got
        self._pad(self.pos, size)
        return size, digest.hexdigest()

    def _pad(self, end: int, size: int) -> None:
        """Zeros up to the next block (they always fit: buffers are whole blocks)."""
        pad = -size % BLOCK
        self.view[end : end + pad] = bytes(pad)
        self.pos = end + pad


def _short(path: str) -> bool:
    """The name fits a plain tar header (the header of a small file is written after it)."""
    return len(path) <= NAME_MAX and (path.isascii() or len(path.encode()) <= NAME_MAX)


def _batches(sources: Iterable[Source]) -> Iterator[list[Source]]:
    batch: list[Source] = []
    size = 0
    for source in sources:
        batch.append(source)
        size += source.size
        if len(batch) >= BATCH_FILES or size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def pack(
    backup_id: str, sources: Iterable[Source], entries: list[FileEntry]
) -> Iterator[memoryview]:
    """Tar bytes of ``sources``, a buffer at a time; each view is valid until the next is
    asked for. The entries of the files packed are added to ``entries`` at the end.
    ``sources`` is drawn by the readers (one at a time), so it may list files lazily."""
    full: queue.Queue[Full | int] = queue.Queue()
    readers = [_Reader(n, backup_id, full) for n in range(READERS)]
    batches, lock = _batches(sources), threading.Lock()
    threads = [
        threading.Thread(target=r.run, args=(batches, lock), name=f"backup-read-{r.number}")
        for r in readers
    ]
    for thread in threads:
        thread.start()
    try:
        yield from _in_order(full, readers)
    finally:
        for reader in readers:
            reader.stopped.set()
        while any(thread.is_alive() for thread in threads):
            with contextlib.suppress(queue.Empty):
                full.get(timeout=0.1)
        for thread in threads:
            thread.join()
    for reader in readers:
        if reader.error is not None:
            raise reader.error
    for reader in readers:
        entries.extend(reader.entries)


def _in_order(full: queue.Queue[Full | int], readers: list[_Reader]) -> Iterator[memoryview]:
    """The readers' buffers as they come, except that after a buffer ending inside a member
    only the same reader's buffers are taken until one ends cleanly."""
    held: dict[int, deque[Full]] = {r.number: deque() for r in readers}
    locked: int | None = None
    done = 0
    while done < len(readers):
        item = full.get()
        if isinstance(item, int):
            if readers[item].error is not None:
                return  # the caller raises it; the other readers are stopped
            done += 1
            continue
        held[item.reader].append(item)
        while True:
            ready = (
                held[locked] if locked is not None else next((q for q in held.values() if q), None)
            )
            if not ready:
                break
            piece = ready.popleft()
            with memoryview(piece.buffer) as view:
                yield view[: piece.length]
            readers[piece.reader].free.put(piece.buffer)
            locked = None if piece.clean else piece.reader
