"""Writing and reading one archive: a tar stream (uncompressed: backups run at disk speed;
the store and devlogs are small next to the workspaces' files), sealed when a key is set."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, cast

from backups.crypto import DecryptingReader, EncryptingWriter, Key
from backups.errors import VerifyError
from backups.manifest import sync_dir

COPY_BUFFER = 1 << 20


class _Hashing:
    """Reads from ``raw`` and hashes what passes through."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.hash = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.hash.update(data)
        return data


class ArchiveWriter:
    """Adds members to ``path`` through a temporary name; :meth:`commit` syncs and renames."""

    def __init__(self, path: Path, key: Key | None) -> None:
        self.path = path
        self.temp = path.with_name(f".{path.name}.partial")
        self._raw = open(self.temp, "wb")  # noqa: SIM115 - closed in commit/abort
        self._sealed = EncryptingWriter(self._raw, key) if key else None
        self._tar = tarfile.TarFile(
            fileobj=cast(IO[bytes], self._sealed or self._raw),
            mode="w",
            format=tarfile.PAX_FORMAT,
            copybufsize=COPY_BUFFER,
        )

    def add_bytes(self, member: str, data: bytes, mtime: float = 0) -> None:
        info = tarfile.TarInfo(member)
        info.size, info.mtime, info.mode = len(data), int(mtime), 0o600
        self._tar.addfile(info, io.BytesIO(data))

    def add_stream(self, member: str, source: IO[bytes], size: int, mtime: float) -> str:
        """Copy ``size`` bytes of ``source``; their sha256. A file that ends early (it was
        cut while read) raises OSError."""
        info = tarfile.TarInfo(member)
        info.size, info.mtime, info.mode = size, int(mtime), 0o600
        hashing = _Hashing(source)
        self._tar.addfile(info, cast(IO[bytes], hashing))
        return hashing.hash.hexdigest()

    def commit(self) -> None:
        self._tar.close()
        if self._sealed is not None:
            self._sealed.close()
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()
        os.replace(self.temp, self.path)
        sync_dir(self.path.parent)

    def abort(self) -> None:
        with contextlib.suppress(tarfile.TarError, OSError, ValueError):
            self._tar.close()
        self._raw.close()
        self.temp.unlink(missing_ok=True)


@contextlib.contextmanager
def members(
    path: Path, key: Key | None, backup_id: str
) -> Iterator[Iterator[tuple[str, IO[bytes]]]]:
    """The members of an archive in order, each as (name, file object to read it from).
    Anything that is not a plain file, and a damaged or cut off archive, is an error."""
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise VerifyError(backup_id, [f"cannot read archive {path}: {exc.strerror}"]) from None
    with raw:
        try:
            source = DecryptingReader(raw, key, path.name) if key else raw
            stream = cast(IO[bytes], source)
            with tarfile.open(fileobj=stream, mode="r|", bufsize=COPY_BUFFER) as tar:
                yield _walk(tar, path, backup_id)
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise VerifyError(backup_id, [f"archive {path.name} is damaged: {exc}"]) from None


def _walk(tar: tarfile.TarFile, path: Path, backup_id: str) -> Iterator[tuple[str, IO[bytes]]]:
    for info in tar:
        if not info.isreg():
            raise VerifyError(
                backup_id, [f"archive {path.name} holds {info.name!r}, which is not a file"]
            )
        extracted = tar.extractfile(info)
        assert extracted is not None
        yield info.name, extracted
