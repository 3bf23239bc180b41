"""Packing changed files into an archive on two reader threads.

Each reader reads files into a buffer of its own that is reused (no fresh memory per file,
so the bytes stay in the CPU's caches), hashes them there, puts each tar header before its
file, and writes the buffer into the place it reserves in the archive: no thread waits for
another to write. Small files are gathered into the buffer; a large file first reserves its
whole place, then is copied a buffer at a time.

The work is split by what it costs: one reader lists the folders and packs the small files
(Python's work per file, under the interpreter lock), the other packs the larger ones
(reading, hashing and writing large buffers, which run without the lock) and, once the
listing is done, both take the larger ones left; while the other has nothing to do, the
lister hands it batches of small files too. So the two cores seldom wait on each other for
the lock, and neither idles."""

from __future__ import annotations

import hashlib
import itertools
import mmap
import os
import queue
import threading
from collections.abc import Generator, Iterable, Iterator

from backups.archive import BLOCK, NAME_MAX, ArchiveWriter, Cancelled, header
from backups.errors import BackupError
from backups.manifest import FileBlocks, FileEntry
from backups.sources import Source

BUFFER = 1 << 20
SMALL = 64 << 10  # files smaller than this are packed by the reader that lists
SHARED_BATCH = 32  # ...unless the other is idle: then it takes them in batches of this many
_ZEROS = bytes(BLOCK)


class _Reader:
    def __init__(
        self, number: int, backup_id: str, writer: ArchiveWriter, listed: FileBlocks
    ) -> None:
        self.number = number
        self.backup_id = backup_id
        self.writer = writer
        self.listed = listed
        self.entries: list[FileEntry] = []  # handed to ``listed`` a block at a time
        self.error: BaseException | None = None
        # page-aligned, so the archive writes it straight to the disk
        self.buffer = mmap.mmap(-1, BUFFER)
        self.view = memoryview(self.buffer)
        self.pos = 0

    def run(self, sources: Iterable[Source]) -> None:
        try:
            for source in sources:
                if source.size < SMALL and _short(source.path):
                    entry = self._listed_small(source)
                else:
                    entry = self._file(source)
                if entry is not None:
                    self.entries.append(entry)
                    if len(self.entries) == FileBlocks.SIZE:
                        self.listed.add(self.entries)
                        self.entries = []
            self._flush()
            self.listed.add(self.entries)
        except Cancelled:
            pass  # another thread failed; it reports why
        except BaseException as exc:  # handed to the caller, who raises it
            self.error = exc
            self.writer.cancel()

    def _flush(self) -> None:
        """Write the members gathered in the buffer to a place of their own."""
        if self.pos:
            self.writer.put(self.writer.reserve(self.pos), self.view[: self.pos])
            self.pos = 0

    def _listed_small(self, source: Source) -> FileEntry | None:
        """A small file, taken as listed (a change since shows at the next backup, which
        reads it again): the common case, kept short; anything unusual goes to
        :meth:`_file`."""
        try:
            fd = os.open(source.absolute, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return self._file(source)
        try:
            pos = self.pos
            if BUFFER - pos < source.size + 3 * BLOCK:
                self._flush()
                pos = 0
            start = pos + BLOCK
            view = self.view
            size = os.preadv(fd, [view[start : start + source.size + 1]], 0)
            if size > source.size:  # it grew since listed
                return self._file(source)
        finally:
            os.close(fd)
        end = start + size
        view[pos:start] = header(source.path, size, source.mtime_ns // 1_000_000_000)
        digest = hashlib.sha256(view[start:end]).hexdigest()
        pad = -size % BLOCK
        view[end : end + pad] = _ZEROS[:pad]
        self.pos = end + pad
        return self._entry(source, size, digest)

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
            if source.size < SMALL and _short(source.path):
                # as listed: a change since shows at the next backup, which reads it again
                size, digest = self._small(fd, source, source.size, source.mtime_ns // 10**9)
                return self._entry(source, size, digest)
            info = os.fstat(fd)
            mtime = int(info.st_mtime)
            if info.st_size + 3 * BLOCK <= BUFFER and _short(source.path):
                size, digest = self._small(fd, source, info.st_size, mtime)
            else:
                size, digest = self._large(fd, source, info.st_size, mtime)
        finally:
            os.close(fd)
        return self._entry(source, size, digest, info)

    def _entry(
        self, source: Source, size: int, digest: str, info: os.stat_result | None = None
    ) -> FileEntry:
        """The manifest's entry of a file packed here: its times and inode as listed, or as
        ``info`` says when the file was looked at again."""
        mtime_ns, inode, ctime_ns = (
            (source.mtime_ns, source.inode, source.ctime_ns)
            if info is None
            else (info.st_mtime_ns, info.st_ino, info.st_ctime_ns)
        )
        return FileEntry(
            source.path, size, digest, mtime_ns, source.mode, self.backup_id, (), inode, ctime_ns
        )

    def _small(self, fd: int, source: Source, expected: int, mtime: int) -> tuple[int, str]:
        """Read to the end (the file as it is when read), then put its header before it."""
        if BUFFER - self.pos < expected + 3 * BLOCK:
            self._flush()
        start = self.pos + BLOCK
        # one read in the usual case: a byte more than expected shows it grew
        end = start + os.preadv(fd, [self.view[start : start + expected + 1]], 0)
        if end - start > expected:
            while got := os.preadv(fd, [self.view[end:]], end - start):
                end += got
                if end == BUFFER:  # it grew while read and does not fit: read it again
                    if self.pos == 0:
                        return self._large(fd, source, os.fstat(fd).st_size, mtime)
                    self._flush()
                    return self._small(fd, source, expected, mtime)
        size = end - start
        self.view[start - BLOCK : start] = header(source.path, size, mtime)
        digest = hashlib.sha256(self.view[start:end]).hexdigest()
        self._pad(end, size)
        return size, digest

    def _large(self, fd: int, source: Source, size: int, mtime: int) -> tuple[int, str]:
        """Copy exactly ``size`` bytes in pieces; a file cut while read is an error."""
        self._flush()
        head = header(source.path, size, mtime)
        offset = self.writer.reserve(len(head) + size + -size % BLOCK)
        self.view[: len(head)] = head
        self.pos = len(head)
        digest = hashlib.sha256()
        done = 0
        while done < size:
            if self.pos == BUFFER:
                self.writer.put(offset, self.view)
                offset += BUFFER
                self.pos = 0
            space = self.view[self.pos : self.pos + min(size - done, BUFFER - self.pos)]
            got = os.preadv(fd, [space], done)
            if not got:
                raise BackupError(
                    f"{source.absolute} got shorter while it was backed up; run the backup again"
                )
            digest.update(space[:got])
            self.pos += got
            done += got
        if BUFFER - self.pos < BLOCK:  # no room for the padding: the whole blocks first
            whole = self.pos - self.pos % BLOCK
            self.writer.put(offset, self.view[:whole])
            offset += whole
            self.view[: self.pos - whole] = bytes(self.view[whole : self.pos])
            self.pos -= whole
        self._pad(self.pos, size)
        self.writer.put(offset, self.view[: self.pos])
        self.pos = 0
        return size, digest.hexdigest()

    def _pad(self, end: int, size: int) -> None:
        """Zeros up to the next block (they fit: the buffer is whole blocks)."""
        pad = -size % BLOCK
        self.view[end : end + pad] = bytes(pad)
        self.pos = end + pad


def _short(path: str) -> bool:
    """The name fits a plain tar header (the header of a small file is written after it)."""
    return len(path) <= NAME_MAX and (path.isascii() or len(path.encode()) <= NAME_MAX)


def pack(
    backup_id: str, sources: Iterable[Source], writer: ArchiveWriter, listed: FileBlocks
) -> None:
    """Archive ``sources`` into ``writer``; the entries of the files packed go to
    ``listed``. ``sources`` is drawn by one reader, so it may list files lazily. A failing
    reader cancels the writer, which stops the other."""
    larger: queue.Queue[list[Source] | None] = queue.Queue()
    readers = [_Reader(n, backup_id, writer, listed) for n in range(2)]
    waiting = threading.Event()  # the other reader has nothing to do

    def routed() -> Generator[Source, None, None]:
        small: list[Source] = []
        try:
            for source in sources:
                if source.size >= SMALL:
                    larger.put([source])
                    continue
                small.append(source)
                if len(small) == SHARED_BATCH:
                    if waiting.is_set():  # the other reader has nothing to do: give it these
                        larger.put(small)
                    else:
                        yield from small
                    small = []
            yield from small
        finally:
            for _ in readers:
                larger.put(None)  # the end, for each reader

    def queued() -> Iterator[Source]:
        while True:
            try:
                batch = larger.get_nowait()
            except queue.Empty:
                waiting.set()
                batch = larger.get()
                waiting.clear()
            if batch is None:
                return
            yield from batch

    listing = routed()

    def list_and_pack() -> None:
        try:
            readers[0].run(itertools.chain(listing, queued()))
        finally:
            listing.close()  # stopped part way: the other reader is still told the end

    threads = [
        threading.Thread(target=list_and_pack, name="backup-list"),
        threading.Thread(target=readers[1].run, args=(queued(),), name="backup-read"),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for reader in readers:
        if reader.error is not None:
            raise reader.error
