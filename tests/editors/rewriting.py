"""What each editor's own text API holds after a plain text was pasted into it, empty, as
measured with the pages of this folder (Chromium, clipboard ``UTF8_STRING``):

- Monaco, CodeMirror 6 and Lexical plain text: the text as pasted.
- ProseMirror (basic schema): each line a paragraph, blank lines dropped (its plain-text
  clipboard parser splits at runs of line breaks), read back one line per paragraph.
- Tiptap (StarterKit): as ProseMirror, and its paste rules turn ``**x**``, ``__x__``,
  ``*x*``, ``_x_``, backticks and ``~~x~~`` into bold, italic, code and strike, dropping the
  markers (not modelled here: :func:`held` refuses such a text).
- Lexical rich text: each line a paragraph, blank lines empty paragraphs; ``getTextContent()``
  joins paragraphs with a blank line, so every line break reads back doubled.

Spaces, tabs, unicode and markdown block markers (``# h``, ``- item``, ``> q``) are kept by
all of them.
"""

from __future__ import annotations

import re

MARKDOWN_MARKS = re.compile(r"\*|_|`|~~")


def held(editor: str, text: str) -> str:
    """What ``editor``'s API holds once ``text`` was pasted into it, empty."""
    if editor in ("monaco", "codemirror", "lexical-plain"):
        return text
    if editor == "prosemirror":
        return re.sub(r"\n+", "\n", text)
    if editor == "tiptap":
        if MARKDOWN_MARKS.search(text):
            raise ValueError(
                f"{text[:60]!r} holds markdown marks, which Tiptap's paste rules turn into "
                "formatting: write the expected text out for it"
            )
        return re.sub(r"\n+", "\n", text)
    if editor == "lexical":
        return text.replace("\n", "\n\n")
    raise ValueError(f"unknown editor {editor!r}")
