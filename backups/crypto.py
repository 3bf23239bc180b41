"""Authenticated encryption of archives (AES-256-GCM, cryptography) as a stream of records.

An encrypted archive starts with a header (magic, the key's id, a random nonce prefix) and
holds records of at most :data:`RECORD` plain bytes; each record's nonce is the prefix and
its number, and its associated data says whether it is the last one, so records cannot be
reordered, dropped or cut off without the reader noticing.

cryptography is imported where a key is used, not when this module is: the CLI starts
without it.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import struct
from pathlib import Path
from typing import IO, Any

from backups.errors import BackupError, VerifyError, WrongKeyError

MAGIC = b"CPBKENC1"
RECORD = 1 << 20
KEY_BYTES = 32
_LENGTH = struct.Struct(">I")
_TAG = 16


class Key:
    """A 256-bit key read from a key file; ``id`` names it without revealing it."""

    def __init__(self, secret: bytes, path: Path) -> None:
        self.secret = secret
        self.path = path
        self.id = hashlib.sha256(b"cellphone-backup-key" + secret).hexdigest()[:16]

    def aead(self) -> Any:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        return AESGCM(self.secret)


def make_key_file(path: Path) -> Key:
    """Write a new random key to ``path`` (mode 600); an existing file is never replaced."""
    secret = secrets.token_bytes(KEY_BYTES)
    text = base64.urlsafe_b64encode(secret) + b"\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BackupError(f"key file {path} exists; choose another path") from None
    except OSError as exc:
        raise BackupError(f"cannot create key file {path}: {exc.strerror}") from None
    try:
        os.write(fd, text)
        os.fsync(fd)
    finally:
        os.close(fd)
    return Key(secret, path)


def load_key(path: Path) -> Key:
    try:
        text = path.read_bytes().strip()
    except OSError as exc:
        raise BackupError(
            f"cannot read the backup key file {path} (backups.key_file): {exc.strerror}; "
            "point the setting at the key, or make one with `cellphone backup key PATH`"
        ) from None
    try:
        secret = base64.urlsafe_b64decode(text)
    except ValueError:
        secret = b""
    if len(secret) != KEY_BYTES:
        raise BackupError(
            f"backup key file {path} does not hold a key made by `cellphone backup key` "
            f"(need {KEY_BYTES} bytes, base64); use that file or make a new one"
        )
    return Key(secret, path)


class EncryptingWriter:
    """A write-only file object that seals what is written into records."""

    def __init__(self, raw: IO[bytes], key: Key) -> None:
        self._raw = raw
        self._aead = key.aead()
        self._prefix = secrets.token_bytes(8)
        self._header = MAGIC + bytes.fromhex(key.id) + self._prefix
        raw.write(self._header)
        self._buffer = bytearray()
        self._count = 0
        self._written = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self._buffer += data
        self._written += len(data)
        while len(self._buffer) >= RECORD:
            self._seal(bytes(self._buffer[:RECORD]), final=False)
            del self._buffer[:RECORD]
        return len(data)

    def tell(self) -> int:
        return self._written

    def close(self) -> None:
        """Seal what is left as the final record (the raw file stays open)."""
        self._seal(bytes(self._buffer), final=True)
        self._buffer.clear()

    def _seal(self, plain: bytes, *, final: bool) -> None:
        nonce = self._prefix + struct.pack(">I", self._count)
        sealed = self._aead.encrypt(nonce, plain, self._header + (b"\x01" if final else b"\x00"))
        self._raw.write(_LENGTH.pack(len(sealed)) + sealed)
        self._count += 1


class DecryptingReader:
    """A read-only file object over an encrypted archive; any change to it is an error."""

    def __init__(self, raw: IO[bytes], key: Key, name: str) -> None:
        self._raw = raw
        self._name = name
        self._backup_id = name.split(".tar")[0]
        header = raw.read(len(MAGIC) + 16)
        if len(header) != len(MAGIC) + 16 or not header.startswith(MAGIC):
            raise VerifyError(self._backup_id, [f"{name}: not an encrypted archive"])
        key_id = header[len(MAGIC) : len(MAGIC) + 8].hex()
        if key_id != key.id:
            raise WrongKeyError(
                f"{name} was encrypted with key {key_id}, but backups.key_file ({key.path}) "
                f"is key {key.id}; set backups.key_file to the key the backup was made with"
            )
        self._header = header
        self._prefix = header[len(MAGIC) + 8 :]
        self._aead = key.aead()
        self._count = 0
        self._plain = b""
        self._pos = 0
        self._done = False

    def read(self, size: int = -1) -> bytes:
        chunks: list[bytes] = []
        wanted = size if size >= 0 else 1 << 62
        while wanted > 0:
            if self._pos >= len(self._plain) and (self._done or not self._next()):
                break
            piece = self._plain[self._pos : self._pos + wanted]
            self._pos += len(piece)
            wanted -= len(piece)
            chunks.append(piece)
        return b"".join(chunks)

    def _next(self) -> bool:
        from cryptography.exceptions import InvalidTag

        head = self._raw.read(_LENGTH.size)
        if not head:
            self._fail("it ends before its last record (cut off)")
        (length,) = _LENGTH.unpack(head) if len(head) == _LENGTH.size else (0,)
        sealed = self._raw.read(length)
        if length < _TAG or len(sealed) != length:
            self._fail(f"record {self._count} is cut off")
        nonce = self._prefix + struct.pack(">I", self._count)
        for final in (False, True):
            try:
                plain = self._aead.decrypt(
                    nonce, sealed, self._header + (b"\x01" if final else b"\x00")
                )
            except InvalidTag:
                continue
            self._plain, self._pos, self._count, self._done = plain, 0, self._count + 1, final
            if final and self._raw.read(1):
                self._fail("it has data after its last record")
            return True
        self._fail(f"record {self._count} failed authentication (changed or damaged)")
        return False

    def _fail(self, why: str) -> None:
        raise VerifyError(self._backup_id, [f"{self._name}: {why}"])
