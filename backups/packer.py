"""Packing changed files into tar bytes on a reader thread while the caller writes them.

The reader reads each file into one of a few reused buffers (no fresh memory per file, so
the copy stays in the CPU's caches), hashes it there and puts the tar header before it;
the caller writes each full buffer and hands it back. Reading and hashing thus run beside
writing, the way ``tar`` reads and writes a small buffer at a time."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from backups.archive import BLOCK, NAME_MAX, header
from backups.errors import BackupError
from backups.manifest import FileEntry, Part
from backups.sources import Source

BUFFER = 4 << 20
BUFFERS = 6


@dataclass
class Packed:
    """What the reader made: the entries of the files it packed (a file gone since it was
    listed is left out), or the error that stopped it."""

    entries: list[FileEntry] = field(default_factory=list)
    error: BaseException | None = None


class _Stop(Exception):
    """The caller stopped taking buffers."""


class _Packer:
    def __init__(self, backup_id: str) -> None:
        self.backup_id = backup_id
        self.free: queue.Queue[bytearray] = queue.Queue()
        for _ in range(BUFFERS):
            self.free.put(bytearray(BUFFER))
        self.full: queue.Queue[tuple[bytearray, int] | None] = queue.Queue()
        self.stopped = threading.Event()
        self.buffer = self._take()
        self.view = memoryview(self.buffer)
        self.pos = 0
        self.packed = Packed()

    def _take(self) -> bytearray:
        while True:
            with contextlib.suppress(queue.Empty):
                return self.free.get(timeout=0.5)
            if self.stopped.is_set():
                raise _Stop

    def _hand_off(self) -> None:
        self.view.release()
        self.full.put((self.buffer, self.pos))
        self.buffer = self._take()
        self.view = memoryview(self.buffer)
        self.pos = 0

    def _room(self, wanted: int) -> None:
        if BUFFER - self.pos < wanted:
            self._hand_off()

    def run(self, sources: Sequence[Source]) -> None:
        try:
            for source in sources:
                entry = self._file(source)
                if entry is not None:
                    self.packed.entries.append(entry)
            if self.pos:
                self.view.release()
                self.full.put((self.buffer, self.pos))
        except _Stop:
            pass
        except BaseException as exc:  # handed to the caller, who raises it
            self.packed.error = exc
        finally:
            self.full.put(None)

    def _file(self, source: Source) -> FileEntry | None:
        try:
            handle = open(source.absolute, "rb", buffering=0)  # noqa: SIM115 - closed below
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise BackupError(
                f"cannot back up {source.absolute}: {exc.strerror or exc}; check its permissions"
            ) from None
        with handle:
            info = os.fstat(handle.fileno())
            if info.st_size + 3 * BLOCK <= BUFFER and len(source.path.encode()) <= NAME_MAX:
                size, digest = self._small(handle, source, int(info.st_mtime))
            else:
                size, digest = self._large(handle, source, info.st_size, int(info.st_mtime))
        part = Part(self.backup_id, source.path, 0, size, digest)
        return FileEntry(source.path, size, digest, info.st_mtime_ns, source.mode, (part,))

    def _small(self, handle: io.FileIO, source: Source, mtime: int) -> tuple[int, str]:
        """Read to the end (the file as it is when read), then put its header before it."""
        self._room(3 * BLOCK)
        start = end = self.pos + BLOCK
        while got := handle.readinto(self.view[end:]):
            end += got
            if end == BUFFER:  # it grew while read and does not fit: read it again
                handle.seek(0)
                if self.pos == 0:
                    return self._large(handle, source, os.fstat(handle.fileno()).st_size, mtime)
                self._hand_off()
                return self._small(handle, source, mtime)
        size = end - start
        self.view[start - BLOCK : start] = header(source.path, size, mtime)
        digest = hashlib.sha256(self.view[start:end]).hexdigest()
        self._pad(end, size)
        return size, digest

    def _large(self, handle: io.FileIO, source: Source, size: int, mtime: int) -> tuple[int, str]:
        """Copy exactly ``size`` bytes in pieces; a file cut while read is an error."""
        head = header(source.path, size, mtime)
        self._room(len(head))
        self.view[self.pos : self.pos + len(head)] = head
        self.pos += len(head)
        digest = hashlib.sha256()
        left = size
        while left:
            if self.pos == BUFFER:
                self._hand_off()
            space = self.view[self.pos : self.pos + min(left, BUFFER - self.pos)]
            got = handle.readinto(space)
            if not got:
                raise BackupError(
                    f"{source.absolute} got shorter while it was backed up; run the backup again"
                )
            digest.update(space[:got])
            self.pos += got
            left -= got
        self._room(BLOCK)
        self._pad(self.pos, size)
        return size, digest.hexdigest()

    def _pad(self, end: int, size: int) -> None:
        pad = -size % BLOCK
        self.view[end : end + pad] = bytes(pad)
        self.pos = end + pad


def pack(backup_id: str, sources: Sequence[Source], packed: Packed) -> Iterator[memoryview]:
    """Tar bytes of ``sources``, a buffer at a time; each view is valid until the next is
    asked for. ``packed`` receives the entries once the iteration ends."""
    packer = _Packer(backup_id)
    thread = threading.Thread(target=packer.run, args=(sources,), name="backup-pack")
    thread.start()
    try:
        while (item := packer.full.get()) is not None:
            buffer, length = item
            with memoryview(buffer) as view:
                yield view[:length]
            packer.free.put(buffer)
    finally:
        packer.stopped.set()
        while thread.is_alive():
            with contextlib.suppress(queue.Empty):
                packer.full.get(timeout=0.1)
        thread.join()
    if packer.packed.error is not None:
        raise packer.packed.error
    packed.entries.extend(packer.packed.entries)
