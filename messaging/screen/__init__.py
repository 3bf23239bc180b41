"""The screen way a message travels: typing into an agent's chat pane on the desktop.

``gui`` is the deliverer the desk drives; it reaches the desktop only through the small
:class:`~messaging.screen.desktop.Desktop` interface, which ``x11`` implements for X11.
"""
