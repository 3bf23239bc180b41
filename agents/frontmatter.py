"""The small front matter of the files agents read and write: ``key: value`` lines between
``---``.

A value may be a list, written ``a, b`` or ``[a, b]``, or a double-quoted string with
backslash escapes (``"two\\nlines"``), as YAML writes it; `` # `` starts a comment. Keys
are lower case; a key given twice is an error, as is a line that is not ``key: value``.
:func:`dump` writes front matter that :func:`parse` (and a YAML reader) reads back value
for value, whatever the values hold.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

FENCE = "---"
KEY = re.compile(r"[a-z][a-z0-9_-]*")
# a value written as it is: one line of printable characters that no reader takes for
# anything but a string (no quote, list, comment or mapping syntax, no surrounding space)
PLAIN = re.compile(r"(?![\s\"'\[\]{}#&*!|>%@`,?:-])(?!.*(?:: | #|:$|\s$)).+", re.DOTALL)
ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r", '"': '\\"', "\\": "\\\\"}
QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"(?:\s+#.*)?')
UNESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|(.))")


class FrontMatterError(ValueError):
    """The front matter is missing or malformed; the message says where."""


@dataclass(frozen=True)
class Document:
    fields: dict[str, str]
    body: str

    def values(self, key: str) -> list[str]:
        """The list a field holds (empty when the field is absent)."""
        raw = self.fields.get(key, "").strip()
        if raw.startswith("[") and raw.endswith("]"):
            raw = raw[1:-1]
        return [item.strip().strip("'\"") for item in raw.split(",") if item.strip()]


def parse(text: str, *, required: bool = True) -> Document:
    """Split ``text`` into its front matter and body. Without front matter, ``required``
    decides: an error, or a document with no fields."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != FENCE:
        if required:
            raise FrontMatterError("no front matter: start the file with a '---' line")
        return Document({}, text.strip())
    try:
        end = next(i for i, line in enumerate(lines[1:], 1) if line.strip() == FENCE)
    except StopIteration:
        raise FrontMatterError("the front matter has no closing '---' line") from None
    fields: dict[str, str] = {}
    for number, line in enumerate(lines[1:end], 2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, colon, value = line.partition(":")
        key = key.strip().lower()
        if not colon or not key:
            raise FrontMatterError(f"line {number} {line!r} is not 'key: value'")
        if key in fields:
            raise FrontMatterError(f"line {number}: {key!r} is given twice")
        fields[key] = _value(value.strip())
    return Document(fields, "\n".join(lines[end + 1 :]).strip())


def dump(fields: Mapping[str, str | int | bool], comments: Mapping[str, str] | None = None) -> str:
    """The front matter block (fences included) holding ``fields`` in order, each value on
    its one line: quoted and escaped when written as it is it could be read otherwise.
    ``comments`` add a ``# ...`` note after a field's value."""
    lines = [FENCE]
    for key, value in fields.items():
        if not KEY.fullmatch(key):
            raise ValueError(f"front matter key {key!r} is not lower-case letters, digits, - or _")
        line = f"{key}: {scalar(value)}"
        if comments and key in comments:
            line += f"  # {' '.join(comments[key].split())}"
        lines.append(line)
    lines.append(FENCE)
    return "\n".join(lines) + "\n"


def scalar(value: str | int | bool) -> str:
    """One value as front matter writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if PLAIN.fullmatch(value) and value.isprintable() and not _other_type(value):
        return value
    return (
        '"' + "".join(ESCAPES.get(c) or (c if c.isprintable() else _code(c)) for c in value) + '"'
    )


def _other_type(value: str) -> bool:
    """YAML would read it as a boolean, null or number."""
    return value.lower() in _WORDS or NUMBER.fullmatch(value) is not None


_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "~"}
NUMBER = re.compile(r"[-+]?(?:\d[\d_]*\.?\d*(?:[eE][-+]?\d+)?|\.\d+|\.inf|\.nan)", re.IGNORECASE)


def _code(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _value(raw: str) -> str:
    """A value as written: unquoted and unescaped, without its ``# comment``."""
    quoted = QUOTED.fullmatch(raw)
    if quoted:
        return UNESCAPE.sub(_unescape, quoted.group(1))
    comment = raw.find(" #")
    return raw[:comment].rstrip() if comment >= 0 else raw


def _unescape(match: re.Match[str]) -> str:
    short, long, char = match.groups()
    if short or long:
        return chr(int(short or long, 16))
    return {"n": "\n", "t": "\t", "r": "\r"}.get(char, char)
