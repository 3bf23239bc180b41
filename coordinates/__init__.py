"""Where agents live on screen: the coordinates file (load, validate, save), the live
monitor layout, calibration and the layout picture. The names below load
their modules when first used (see :mod:`config.lazy`)."""

from typing import TYPE_CHECKING

from config.lazy import offered

if TYPE_CHECKING:
    from coordinates.errors import CoordinatesFileError, InvalidCoordinatesError
    from coordinates.file import (
        AgentEntry,
        CoordinatesFile,
        Point,
        load_coordinates,
        save_coordinates,
    )
    from coordinates.typing import Typing

__all__ = [
    "AgentEntry",
    "CoordinatesFile",
    "CoordinatesFileError",
    "InvalidCoordinatesError",
    "Point",
    "Typing",
    "load_coordinates",
    "save_coordinates",
]
__getattr__ = offered(
    __name__,
    {
        "AgentEntry": "coordinates.file",
        "CoordinatesFile": "coordinates.file",
        "CoordinatesFileError": "coordinates.errors",
        "InvalidCoordinatesError": "coordinates.errors",
        "Point": "coordinates.file",
        "Typing": "coordinates.typing",
        "load_coordinates": "coordinates.file",
        "save_coordinates": "coordinates.file",
    },
)
