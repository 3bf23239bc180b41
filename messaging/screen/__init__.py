"""The screen way a message travels: typing into an agent's chat pane on the desktop.

``gui`` is the deliverer the desk drives; it reaches the desktop only through the small
:class:`~messaging.screen.desktop.Desktop` interface, which ``x11`` implements for X11.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from config.settings import Settings


def wants_screen(settings: Settings) -> bool:
    """Whether this process types at all: not for ``delivery_mode = inbox``, and in ``auto``
    mode only with a display. Cheap to ask: nothing of the display libraries is loaded."""
    from config.settings import DeliveryMode

    mode = settings.messaging.delivery_mode
    if mode is DeliveryMode.INBOX:
        return False
    return mode is DeliveryMode.GUI or bool(os.environ.get("DISPLAY"))
