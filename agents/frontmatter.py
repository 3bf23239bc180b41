"""The small front matter of the files agents write: ``key: value`` lines between ``---``.

A value may be a list, written ``a, b`` or ``[a, b]``. Keys are lower case; a key given
twice is an error, as is a line that is not ``key: value``.
"""

from __future__ import annotations

from dataclasses import dataclass

FENCE = "---"


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
        fields[key] = value.strip()
    return Document(fields, "\n".join(lines[end + 1 :]).strip())
