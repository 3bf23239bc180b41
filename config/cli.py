"""Pieces every command of the ``cellphone`` CLI shares: the home option, JSON output,
loading settings once. Settings and rich are loaded by the commands that use them, not
when the commands are listed."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from config.sources import check_utf8, decode

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from config.settings import Home, Settings


def home_folder(text: str) -> Path:
    """``--home`` as typed: empty, blank or holding a control character is refused (an
    empty ``--home`` would otherwise be taken for the current folder)."""
    if not text.strip():
        raise typer.BadParameter(
            "it is empty; pass the home folder, or leave --home out for $CELLPHONE_HOME or "
            "the current folder"
        )
    if not text.isprintable():
        raise typer.BadParameter(f"{text!r} holds a control character; pass the folder's name")
    return Path(text)


HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help="Home folder of the swarm (default: $CELLPHONE_HOME, else the current folder).",
        show_default=False,
        parser=home_folder,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def open_home(option: Path | None) -> tuple[Home, Settings]:
    from config.settings import load_settings, resolve_home

    home = resolve_home(option)
    return home, load_settings(home)


def console() -> Console:
    """Standard output for people. Text prints as it is, markup off: a message, a path or an
    error holding brackets (``[/]``, ``[red]``) is data; colors come from :func:`styled`."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False, markup=False)


def error_console() -> Console:
    """Standard error for people, printing text as it is (see :func:`console`)."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True, markup=False)


def styled(*parts: str | tuple[str, str]) -> Text:
    """Text for rich output: each part a plain string, or a ``(text, style)`` pair such as
    ``("failed", "red")``."""
    from rich.text import Text

    text = Text()
    for part in parts:
        if isinstance(part, str):
            text.append(part)
        else:
            text.append(*part)
    return text


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def read_stdin() -> str:
    """Standard input as text; input that is not UTF-8 is an error saying where."""
    return decode(sys.stdin.buffer.read(), "standard input", "convert it (iconv -t UTF-8)")


def check_arguments(args: list[str]) -> None:
    """Every command-line argument is UTF-8 text, or an error names the first that is not."""
    for number, arg in enumerate(args, 1):
        check_utf8(arg, f"command-line argument {number}", "pass it as UTF-8")
