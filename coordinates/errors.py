"""Errors of the coordinates domain."""


class CoordinatesFileError(Exception):
    """The coordinates file is missing, unreadable or does not follow the format."""


class InvalidCoordinatesError(Exception):
    """A point does not lie on any monitor of the live layout."""


class NoDisplayError(Exception):
    """There is no screen to read a monitor layout from (no X display, no monitors)."""


class LayoutPictureError(Exception):
    """The picture of the layout cannot be written where it was asked to go."""


class CalibrationError(Exception):
    """No usable click was recorded (timed out, or the listener could not start)."""


class ClickListenerError(CalibrationError):
    """pynput cannot listen for clicks on this display (no RECORD extension, or its listener
    stopped before it was ready); trying again will not help."""
