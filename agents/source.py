"""The registry as the coordinates file says it is now: re-read when the file changes."""

from __future__ import annotations

import os
from pathlib import Path

from agents.registry import Registry
from coordinates import CoordinatesFileError, load_coordinates


class RegistrySource:
    """Gives the current :class:`Registry`, reloading ``path`` when its mtime or size changes.

    An edit that breaks the file keeps the last good registry and raises only if there
    never was one, so a typo in the file does not stop deliveries already queued.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._registry: Registry | None = None
        self.last_error: str | None = None

    def current(self) -> Registry:
        stamp = _stamp(self.path)
        if self._registry is None or stamp != self._stamp:
            try:
                registry = Registry.from_file(load_coordinates(self.path))
            except CoordinatesFileError as exc:
                if self._registry is None:
                    raise
                self.last_error = str(exc)
                return self._registry
            self._registry, self._stamp, self.last_error = registry, stamp, None
        return self._registry


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)
