"""Errors of the coordinates domain."""


class CoordinatesFileError(Exception):
    """The coordinates file is missing, unreadable or does not follow the format."""


class InvalidCoordinatesError(Exception):
    """A point does not lie on any monitor of the live layout."""
