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

__all__ = [
    "AgentEntry",
    "CoordinatesFile",
    "CoordinatesFileError",
    "InvalidCoordinatesError",
    "Point",
    "load_coordinates",
    "save_coordinates",
]
