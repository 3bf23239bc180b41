"""Writing and reading one archive: a plain tar stream (uncompressed: a backup runs at the
speed of the disk, and what is large in a home, artifacts, rarely compresses), sealed when a
key is set."""

from __future__ import annotations

import contextlib
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, cast

from backups.crypto import DecryptingReader, EncryptingWriter, Key
from backups.errors import VerifyError
from backups.manifest import sync_dir
from backups.tarread import DamagedArchive, read_members

COPY_BUFFER = 1 << 20
READ_BUFFER = 1 << 20


BLOCK = 512
RECORD_SIZE = 20 * BLOCK  # tar's default record: the archive's length is a multiple of it
_USTAR_LIMIT = 8**11  # sizes from here on need a pax header
NAME_MAX = 100  # longer names need a pax header


_MODE_IDS = b"0000600\0" + b"0000000\0" * 2
_AFTER_TIMES = b" " * 8 + b"0" + bytes(100) + b"ustar\x0000" + bytes(247)
_FIXED_SUM = sum(_MODE_IDS) + sum(_AFTER_TIMES)


def header(name: str, size: int, mtime: int) -> bytes:
    """A tar header for a plain file: ustar built directly (tarfile takes ~30 µs for what
    takes 3 here, and a home has tens of thousands of letters), pax for long names."""
    raw = name.encode("utf-8")
    if len(raw) > NAME_MAX or size >= _USTAR_LIMIT:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = size, mtime, 0o600
        return info.tobuf(tarfile.PAX_FORMAT)
    numbers = b"%011o\0%011o\0" % (size, max(mtime, 0))
    checksum = _FIXED_SUM + sum(raw) + sum(numbers)
    return b"".join(
        (
            raw.ljust(100, b"\0"),
            _MODE_IDS,
            numbers,
            b"%06o\0 " % checksum,
            _AFTER_TIMES[8:],
        )
    )


def _padding(size: int) -> bytes:
    return bytes(-size % BLOCK)


class ArchiveWriter:
    """Writes a tar archive to ``path`` through a temporary name; :meth:`commit` syncs and
    renames it. Small members are gathered and written in large pieces."""

    def __init__(self, path: Path, key: Key | None) -> None:
        self.path = path
        self.temp = path.with_name(f".{path.name}.partial")
        self._raw = open(self.temp, "wb", buffering=0)  # noqa: SIM115 - closed in commit/abort
        self._sealed = EncryptingWriter(self._raw, key) if key else None
        self._out: Any = self._sealed or self._raw
        self._pending = bytearray()
        self._length = 0

    def add_bytes(self, member: str, data: bytes, mtime: float = 0) -> None:
        head = header(member, len(data), int(mtime))
        if len(data) >= COPY_BUFFER:
            self._put(head)
            self._put(data)
            self._put(_padding(len(data)))
            return
        pending = self._pending
        before = len(pending)
        pending += head
        pending += data
        pending += bytes(-len(data) % BLOCK)
        self._length += len(pending) - before
        if len(pending) >= COPY_BUFFER:
            self._flush()

    def add_packed(self, data: memoryview) -> None:
        """Tar bytes made elsewhere (:mod:`backups.packer`): headers, contents, padding."""
        self._flush()
        self._length += len(data)
        self._write(data)

    def _put(self, data: bytes) -> None:
        self._length += len(data)
        if len(data) >= COPY_BUFFER:
            self._flush()
            self._write(data)
            return
        self._pending += data
        if len(self._pending) >= COPY_BUFFER:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._write(self._pending)
            self._pending = bytearray()

    def _write(self, data: bytes | bytearray | memoryview) -> None:
        self._out.write(data)

    def commit(self) -> None:
        end = 2 * BLOCK
        self._put(bytes(end + -(self._length + end) % RECORD_SIZE))
        self._flush()
        if self._sealed is not None:
            self._sealed.close()
        os.fsync(self._raw.fileno())
        self._raw.close()
        os.replace(self.temp, self.path)
        sync_dir(self.path.parent)

    def abort(self) -> None:
        self._raw.close()
        self.temp.unlink(missing_ok=True)


@contextlib.contextmanager
def members(
    path: Path, key: Key | None, backup_id: str
) -> Iterator[Iterator[tuple[str, IO[bytes]]]]:
    """The members of an archive in order, each as (name, file object to read it from).
    Anything that is not a plain file, and a damaged or cut off archive, is an error."""
    try:
        raw = open(path, "rb", buffering=READ_BUFFER)  # noqa: SIM115 - closed below
    except OSError as exc:
        raise VerifyError(backup_id, [f"cannot read archive {path}: {exc.strerror}"]) from None
    with raw:
        try:
            source = DecryptingReader(raw, key, path.name) if key else raw
            yield cast(Iterator[tuple[str, IO[bytes]]], read_members(cast(IO[bytes], source)))
        except (DamagedArchive, OSError) as exc:
            raise VerifyError(backup_id, [f"archive {path.name} is damaged: {exc}"]) from None
