"""Errors of the coordinates domain."""


class CoordinatesFileError(Exception):
    """The coordinates file is missing, unreadable or does not follow the format."""


class InvalidCoordinatesError(Exception):
    """A point does not lie on any monitor of the live layout."""


class NoDisplayError(Exception):
    """There is no screen to read a monitor layout from (no X display, no monitors)."""


class LayoutPictureError(Exception):
    """The picture of the layout cannot be written where it was asked to go."""
