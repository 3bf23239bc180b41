"""Names a package offers, loaded from their modules when first used.

``cellphone --help`` and ``cellphone send`` import every package's command module; a
package whose ``__init__`` imported all it offers would make each of them pay for modules
it never uses. A package instead lists where each name lives and sets
``__getattr__ = offered(__name__, {...})`` (PEP 562); type checkers read the same names
from an import under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def offered(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that finds each name of ``homes`` (name to
    the module defining it) in its module."""

    def find(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(home), name)

    return find
