"""Writing and reading one archive: a plain tar stream (uncompressed: a backup runs at the
speed of the disk, and what is large in a home, artifacts, rarely compresses), sealed when a
key is set."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import mmap
import os
import struct
import tarfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, cast

from backups.crypto import DecryptingReader, EncryptingWriter, Key
from backups.errors import VerifyError
from backups.manifest import sync_dir
from backups.tarread import DamagedArchive, Member, mapped_members, read_members

COPY_BUFFER = 1 << 20
READ_BUFFER = 1 << 20


BLOCK = 512
RECORD_SIZE = 20 * BLOCK  # tar's default record: the archive's length is a multiple of it
_USTAR_LIMIT = 8**11  # sizes from here on need a pax header
NAME_MAX = 100  # longer names need a pax header


_MODE_IDS = b"0000600\0" + b"0000000\0" * 2
_AFTER_TIMES = b" " * 8 + b"0" + bytes(100) + b"ustar\x0000" + bytes(247)
_FIXED_SUM = sum(_MODE_IDS) + sum(_AFTER_TIMES)


# name, mode and ids, size and time, checksum, the rest: one ustar header block
_USTAR = struct.Struct("100s24s24s8s356s")
_TAIL = _AFTER_TIMES[8:]


def header(name: str, size: int, mtime: int) -> bytes:
    """A tar header for a plain file: ustar built directly (tarfile takes ~30 µs for what
    takes 1.5 here, and a home has tens of thousands of letters), pax for long names."""
    raw = name.encode("utf-8")
    if len(raw) > NAME_MAX or size >= _USTAR_LIMIT:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = size, mtime, 0o600
        return info.tobuf(tarfile.PAX_FORMAT)
    numbers = b"%011o\0%011o\0" % (size, max(mtime, 0))
    checksum = _FIXED_SUM + sum(raw) + sum(numbers)
    return _USTAR.pack(raw, _MODE_IDS, numbers, b"%06o\0 " % checksum, _TAIL)


def _padding(size: int) -> bytes:
    return bytes(-size % BLOCK)


class Cancelled(Exception):
    """The archive is being abandoned: whoever writes to it stops."""


class ArchiveWriter:
    """Writes a tar archive to ``path`` through a temporary name; :meth:`commit` syncs and
    renames it.

    Several threads write at once: each reserves the place of what it has ready
    (:meth:`reserve`, whole members only), then puts the bytes there (:meth:`put`). A plain
    archive is written in place, straight to the disk (``O_DIRECT``) where the filesystem
    takes such writes in blocks of :data:`BLOCK` (every member is whole blocks): a backup
    fills no page cache with what nobody reads right after, and taking pages of the cache
    not used before cost a virtual machine more than the disk's writes (500 MB: 0.46 CPU
    seconds against 0.03). Elsewhere the writes are ordinary ones, and the disk is told to
    start writing every few MiB put, so the sync at the end waits for little. An encrypted
    archive is a stream: a piece waits until everything before it is in."""

    def __init__(self, path: Path, key: Key | None) -> None:
        self.path = path
        self.temp = path.with_name(f".{path.name}.partial")
        self._raw = open(self.temp, "wb", buffering=0)  # noqa: SIM115 - closed in commit/abort
        self._fd = self._raw.fileno()
        # every write of a plain archive goes one way: mixed with ordinary writes to the
        # same pages, a direct one may be overwritten by a stale page of the cache
        self._direct = _direct_fd(self.temp) if key is None else None
        self._bounce = threading.local()  # an aligned copy of what is put from elsewhere
        self._sealed = EncryptingWriter(self._raw, key) if key else None
        self._reserving = threading.Lock()
        self._end = 0  # bytes reserved so far
        self._turn = threading.Condition()  # encrypted: whose piece is next
        self._sealed_end = 0
        self._cancelled = False
        self._written_since = 0
        self._allocated = 0  # bytes of disk given to the archive so far
        self._writeback = _Writeback(self._fd) if key is None and self._direct is None else None

    def reserve(self, length: int) -> int:
        """The offset where ``length`` bytes of whole members go."""
        with self._reserving:
            offset = self._end
            self._end += length
            if self._sealed is None and self._end > self._allocated:
                self._allocate()
            return offset

    def _allocate(self) -> None:
        """Give the archive its disk blocks ahead of the writes, in large extents: writing
        into blocks allocated as the pages come costs several times the system time, and
        varies with what the filesystem does meanwhile. The length is set at commit."""
        # ahead by as much as is written, up to a limit: what is left over stays small
        wanted = self._end - self._allocated + min(ALLOCATE_AHEAD, max(self._end, 1 << 20))
        try:
            os.posix_fallocate(self._fd, self._allocated, wanted)
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                raise
            self._allocated = 1 << 62  # a filesystem that cannot: blocks as the pages come
            return
        self._allocated += wanted

    def put(self, offset: int, data: bytes | bytearray | memoryview) -> None:
        """Write ``data`` at ``offset`` (inside a place reserved by the caller)."""
        if self._cancelled:
            raise Cancelled
        if not len(data):
            return
        if self._sealed is None:
            if self._direct is not None:
                self._put_direct(offset, memoryview(data))
                return
            view = memoryview(data)
            at = offset
            while view:
                written = os.pwrite(self._fd, view, at)
                view, at = view[written:], at + written
            self._written_since += len(data)  # (a race here only moves the next writeback)
            if self._written_since >= WRITEBACK_EVERY and self._writeback is not None:
                self._written_since = 0
                self._writeback.request(self._end)
            return
        with self._turn:
            while self._sealed_end != offset:
                if self._cancelled:
                    raise Cancelled
                self._turn.wait()
            self._sealed.write(data)
            self._sealed_end += len(data)
            self._turn.notify_all()

    def _put_direct(self, offset: int, view: memoryview) -> None:
        """Write whole blocks at a block's offset, from memory aligned for the disk (a
        page-aligned copy of what is not)."""
        assert self._direct is not None
        if offset % BLOCK or len(view) % BLOCK:
            raise ValueError(f"not whole blocks: {len(view)} bytes at {offset}")
        if not _aligned(view):
            bounce = getattr(self._bounce, "view", None)
            if bounce is None:
                bounce = self._bounce.view = memoryview(mmap.mmap(-1, COPY_BUFFER))
            for start in range(0, len(view), COPY_BUFFER):
                piece = view[start : start + COPY_BUFFER]
                bounce[: len(piece)] = piece
                self._put_direct(offset + start, bounce[: len(piece)])
            return
        at = offset
        while view:
            written = os.pwrite(self._direct, view, at)
            view, at = view[written:], at + written

    def add_bytes(self, member: str, data: bytes, mtime: float = 0) -> None:
        piece = b"".join((header(member, len(data), int(mtime)), data, _padding(len(data))))
        self.put(self.reserve(len(piece)), piece)

    def cancel(self) -> None:
        """Make every :meth:`put` from now on, and every one waiting, raise
        :class:`Cancelled`."""
        with self._turn:
            self._cancelled = True
            self._turn.notify_all()

    def commit(self) -> None:
        end = 2 * BLOCK
        tail = bytes(end + -(self._end + end) % RECORD_SIZE)
        self.put(self.reserve(len(tail)), tail)
        if self._sealed is not None:
            self._sealed.close()
        if self._writeback is not None:
            self._writeback.stop()
        if self._sealed is None and self._allocated > self._end:
            os.ftruncate(self._fd, self._end)  # the blocks allocated ahead and not used
        os.fsync(self._fd)
        self._close_direct()
        self._raw.close()
        os.replace(self.temp, self.path)
        sync_dir(self.path.parent)

    def abort(self) -> None:
        self.cancel()
        if self._writeback is not None:
            self._writeback.stop()
        self._close_direct()
        self._raw.close()
        self.temp.unlink(missing_ok=True)

    def _close_direct(self) -> None:
        if self._direct is not None:
            os.close(self._direct)
            self._direct = None


_O_DIRECT = getattr(os, "O_DIRECT", 0)  # Linux's


def _direct_fd(path: Path) -> int | None:
    """A second descriptor of the archive being written, for writes straight to the disk,
    when the filesystem takes them in whole blocks of :data:`BLOCK` (tried with one at the
    start, where the first member goes later); None when not."""
    if not _O_DIRECT:
        return None
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC | _O_DIRECT)
    except OSError as exc:
        if exc.errno in (errno.EINVAL, errno.EOPNOTSUPP):
            return None
        raise
    try:
        with mmap.mmap(-1, mmap.PAGESIZE) as probe, memoryview(probe) as view:
            os.pwrite(fd, view[:BLOCK], 0)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EINVAL, errno.EOPNOTSUPP):
            return None
        raise
    return fd


def _aligned(view: memoryview) -> bool:
    """Whether ``view`` starts on a page boundary in memory (a writable one; a read-only
    buffer's address is not asked)."""
    if view.readonly or not view.c_contiguous:
        return False
    return ctypes.addressof(ctypes.c_char.from_buffer(view)) % mmap.PAGESIZE == 0


def _sync_file_range() -> Callable[[int, int, int, int], int] | None:
    """Linux's sync_file_range, which the os module does not offer; None elsewhere."""
    try:
        function = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    function.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
    function.restype = ctypes.c_int
    return cast(Callable[[int, int, int, int], int], function)


_SYNC_FILE_RANGE = _sync_file_range()
_SYNC_FILE_RANGE_WRITE = 2
WRITEBACK_EVERY = 8 << 20  # bytes put between two starts of writeback
ALLOCATE_AHEAD = 64 << 20  # disk given to the archive ahead of its writes, at most


class _Writeback:
    """A thread that has the disk start writing the archive written so far, when asked,
    without waiting for it: writing to the disk then runs beside the packing instead of
    after it (the sync at the end still waits for every byte). It is a thread of its own
    because starting writeback blocks while the disk's queue is full."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._asked = threading.Condition()
        self._upto = 0
        self._stopped = False
        self._thread: threading.Thread | None = None
        if _SYNC_FILE_RANGE is not None:
            self._thread = threading.Thread(target=self._run, name="backup-writeback", daemon=True)
            self._thread.start()

    def request(self, upto: int) -> None:
        with self._asked:
            self._upto = upto
            self._asked.notify()

    def stop(self) -> None:
        with self._asked:
            self._stopped = True
            self._asked.notify()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        assert _SYNC_FILE_RANGE is not None
        done = 0
        while True:
            with self._asked:
                while self._upto == done and not self._stopped:
                    self._asked.wait()
                if self._stopped:
                    return
                upto = self._upto
            _SYNC_FILE_RANGE(self._fd, 0, upto, _SYNC_FILE_RANGE_WRITE)
            done = upto


Content = memoryview | Member  # a plain archive's member, mapped; an encrypted one's, a stream


@contextlib.contextmanager
def members(path: Path, key: Key | None, backup_id: str) -> Iterator[Iterator[tuple[str, Content]]]:
    """The members of an archive in order, each as (name, content). A plain archive is mapped
    into memory and each content is a view into it (nothing is copied; several threads read
    at once); an encrypted one is decrypted as a stream, each content a file object to read
    it from. Anything that is not a plain file, and a damaged or cut off archive, is an
    error."""
    try:
        raw = open(path, "rb", buffering=READ_BUFFER)  # noqa: SIM115 - closed below
    except OSError as exc:
        raise VerifyError(backup_id, [f"cannot read archive {path}: {exc.strerror}"]) from None
    with raw:
        try:
            if key is not None:
                source = DecryptingReader(raw, key, path.name)
                yield cast(Iterator[tuple[str, Content]], read_members(cast(IO[bytes], source)))
            else:
                with _mapped(raw) as view:
                    yield mapped_members(view)
        except (DamagedArchive, OSError) as exc:
            raise VerifyError(backup_id, [f"archive {path.name} is damaged: {exc}"]) from None


@contextlib.contextmanager
def _mapped(raw: IO[bytes]) -> Iterator[memoryview]:
    """The whole file, mapped read-only. An archive is never rewritten in place (prune
    removes whole files, which stay readable while mapped), so it cannot shrink under the
    mapping."""
    size = os.fstat(raw.fileno()).st_size
    if not size:
        raise DamagedArchive("it is empty")
    mapped = mmap.mmap(raw.fileno(), size, prot=mmap.PROT_READ)
    view = memoryview(mapped)
    try:
        mapped.madvise(mmap.MADV_SEQUENTIAL)  # read ahead in large steps
        yield view
    finally:
        # views into it still held (by an error on its way) keep it mapped until freed
        with contextlib.suppress(BufferError):
            view.release()
            mapped.close()
