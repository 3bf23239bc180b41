"""Reading the tar stream of an archive member by member, for verify and restore.

The archives are the ones :mod:`backups.archive` writes: plain files with ustar headers, and
a pax header before a long name. A plain archive is read mapped into memory, an encrypted one
as the stream its records decrypt to. Reading them directly takes a few microseconds a member,
where tarfile's stream mode takes tens: a home holds tens of thousands of letters. Anything
else (another member type, a bad checksum, a cut-off stream) is :class:`DamagedArchive`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

BLOCK = 512
_ZERO = bytes(BLOCK)
_FILE_TYPES = (b"0", b"\0")
_PAX = b"x"


class DamagedArchive(Exception):
    """The stream is not a well-formed archive of plain files."""


class Member:
    """The content of one member: reads stop at its end."""

    def __init__(self, stream: IO[bytes], size: int) -> None:
        self._stream = stream
        self.left = size

    def read(self, size: int = -1) -> bytes:
        wanted = self.left if size < 0 else min(size, self.left)
        if not wanted:
            return b""
        data = self._stream.read(wanted)
        if len(data) != wanted:
            raise DamagedArchive("it ends inside a member (cut off)")
        self.left -= wanted
        return data


def read_members(stream: IO[bytes]) -> Iterator[tuple[str, Member]]:
    """(name, content) of each member in order; what the caller leaves unread is skipped."""
    pax: dict[str, str] = {}
    while True:
        head = _exact(stream, BLOCK)
        if head == _ZERO:
            return  # the end-of-archive blocks
        kind, size = _kind_size(head, pax)
        if kind == _PAX:
            pax = _pax_records(_exact(stream, size + -size % BLOCK)[:size])
            continue
        name = pax.get("path") or _name(head)
        pax = {}
        member = Member(stream, size)
        yield name, member
        while member.read(1 << 20):
            pass
        _exact(stream, -size % BLOCK)


def mapped_members(view: memoryview) -> Iterator[tuple[str, memoryview]]:
    """(name, content) of each member of an archive held in memory (a mapped file), the
    content a view into it: nothing is copied. Each content starts at a multiple of
    :data:`BLOCK` from the start of ``view``."""
    pax: dict[str, str] = {}
    at = 0
    end = len(view)
    while True:
        head = bytes(view[at : at + BLOCK])
        if len(head) != BLOCK:
            raise DamagedArchive("it ends before its end-of-archive blocks (cut off)")
        if head == _ZERO:
            return
        kind, size = _kind_size(head, pax)
        start = at + BLOCK
        at = start + size + -size % BLOCK
        if start + size > end:
            raise DamagedArchive("it ends inside a member (cut off)")
        if at > end:
            raise DamagedArchive("it ends before its end-of-archive blocks (cut off)")
        if kind == _PAX:
            pax = _pax_records(bytes(view[start : start + size]))
            continue
        name = pax.get("path") or _name(head)
        pax = {}
        yield name, view[start : start + size]


def _kind_size(head: bytes, pax: dict[str, str]) -> tuple[bytes, int]:
    """A checked header's type (a plain file or a pax header) and its content's size."""
    _check(head)
    kind = head[156:157]
    if kind != _PAX and kind not in _FILE_TYPES:
        raise DamagedArchive(f"it holds a member of type {kind!r}, not a plain file")
    try:
        size = int(pax.get("size") or _number(head[124:136]))
    except ValueError:
        raise DamagedArchive("a pax header holds a size that is not a number") from None
    return kind, size


def _exact(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size) if size else b""
    if len(data) != size:
        raise DamagedArchive("it ends before its end-of-archive blocks (cut off)")
    return data


def _check(head: bytes) -> None:
    field = head[148:156]  # counted as eight spaces
    if _number(field) != sum(head) - sum(field) + 8 * 32:
        raise DamagedArchive("a member header is damaged (its checksum does not match)")


def _number(field: bytes) -> int:
    digits = field.strip(b"\0 ")
    try:
        return int(digits or b"0", 8)
    except ValueError:
        raise DamagedArchive(f"a member header holds {field!r} where a number belongs") from None


def _name(head: bytes) -> str:
    name = head[:100].split(b"\0", 1)[0]
    prefix = head[345:500].split(b"\0", 1)[0]
    try:
        return (prefix + b"/" + name if prefix else name).decode("utf-8")
    except UnicodeDecodeError:
        raise DamagedArchive("a member's name is not UTF-8") from None


def _pax_records(data: bytes) -> dict[str, str]:
    """The records of a pax header: ``<length> <key>=<value>\\n`` each."""
    records: dict[str, str] = {}
    at = 0
    try:
        while at < len(data):
            space = data.index(b" ", at)
            length = int(data[at:space])
            key, _, value = data[space + 1 : at + length - 1].partition(b"=")
            records[key.decode("utf-8")] = value.decode("utf-8")
            at += length
    except (ValueError, UnicodeDecodeError):
        raise DamagedArchive("a pax header is damaged") from None
    return records
