"""Where agents live on screen: the coordinates file (load, validate, save), the live
monitor layout, calibration and the layout picture."""

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
