"""A window manager for a display, as real desktops have: Debian's ``openbox``.

Without one, a Chromium window may take no keyboard input (the caret shows, keys vanish).
Openbox runs with its own small configuration: click to focus and raise, new windows
focused, one desktop, no key bindings (so no key the chat apps need is taken).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from Xlib import Xatom, error
from Xlib.display import Display

from messaging.screen.appwindows import log_tail, stop_group
from messaging.screen.x11 import window_title

log = logging.getLogger(__name__)

START_TIMEOUT_S = 10.0
POLL_S = 0.02

FOCUS_AND_RAISE = '<action name="Focus"/><action name="Raise"/>'
RC_XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<openbox_config xmlns="http://openbox.org/3.4/rc">
  <focus><focusNew>yes</focusNew><followMouse>no</followMouse></focus>
  <placement><policy>Smart</policy></placement>
  <theme><name>Clearlooks</name></theme>
  <desktops><number>1</number></desktops>
  <keyboard/>
  <mouse>
    <doubleClickTime>500</doubleClickTime>
    <context name="Client">
      <mousebind button="Left" action="Press">{FOCUS_AND_RAISE}</mousebind>
      <mousebind button="Middle" action="Press">{FOCUS_AND_RAISE}</mousebind>
      <mousebind button="Right" action="Press">{FOCUS_AND_RAISE}</mousebind>
    </context>
    <context name="Titlebar">
      <mousebind button="Left" action="Press">{FOCUS_AND_RAISE}</mousebind>
      <mousebind button="Left" action="Drag"><action name="Move"/></mousebind>
    </context>
  </mouse>
</openbox_config>
"""


class WindowManagerError(RuntimeError):
    """The window manager could not be started; the message says why."""


class WindowManager:
    """Openbox on ``display`` while the ``with`` block (or :meth:`start`..:meth:`stop`)
    lasts. :meth:`start` returns once openbox manages the screen."""

    def __init__(self, display: str, *, workdir: Path | None = None) -> None:
        self.display = display
        self._workdir = workdir
        self._tmp: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> WindowManager:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def log_file(self) -> Path | None:
        return self._tmp / "openbox.log" if self._tmp else None

    def start(self, timeout: float = START_TIMEOUT_S) -> None:
        openbox = shutil.which("openbox")
        if openbox is None:
            raise WindowManagerError(
                "openbox is not installed; install the Debian package: apt-get install openbox"
            )
        present = managing_wm(self.display)
        if present is not None:
            raise WindowManagerError(
                f"display {self.display} already has a window manager: {present}"
            )
        self._tmp = Path(tempfile.mkdtemp(prefix="cellphone-openbox-", dir=self._workdir))
        config = self._tmp / "rc.xml"
        config.write_text(RC_XML, encoding="utf-8")
        try:
            self._launch(openbox, config)
            self._wait_until_managing(time.monotonic() + timeout)
        except BaseException:
            self.stop()
            raise
        log.info("openbox manages %s", self.display)

    def stop(self) -> None:
        """Stop openbox and remove its files; harmless when it is not running."""
        process, self._process = self._process, None
        if process is not None:
            stop_group(process)
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def _launch(self, openbox: str, config: Path) -> None:
        assert self._tmp is not None and self.log_file is not None
        env = {**os.environ, "DISPLAY": self.display, "XDG_CONFIG_HOME": str(self._tmp)}
        with self.log_file.open("wb") as log_file:
            self._process = subprocess.Popen(
                [openbox, "--sm-disable", "--config-file", str(config)],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _wait_until_managing(self, deadline: float) -> None:
        log_path = self.log_file
        assert self._process is not None and log_path is not None
        while managing_wm(self.display) is None:
            if self._process.poll() is not None:
                raise WindowManagerError(
                    f"openbox exited (code {self._process.returncode}) on {self.display}: "
                    f"{log_tail(log_path)}"
                )
            if time.monotonic() > deadline:
                raise WindowManagerError(
                    f"openbox did not take over {self.display} in time: {log_tail(log_path)}"
                )
            time.sleep(POLL_S)


def managing_wm(display: str) -> str | None:
    """The name of the window manager managing ``display`` (EWMH), None if there is none."""
    try:
        conn = Display(display)
    except (error.DisplayError, error.ConnectionClosedError) as exc:
        raise WindowManagerError(f"cannot connect to display {display}: {exc}") from exc
    try:
        return _wm_name(conn)
    finally:
        conn.close()


def _wm_name(conn: Display) -> str | None:
    check_atom = conn.intern_atom("_NET_SUPPORTING_WM_CHECK")
    root = conn.screen().root
    prop = root.get_full_property(check_atom, Xatom.WINDOW)
    if prop is None or not prop.value:
        return None
    check = conn.create_resource_object("window", int(prop.value[0]))
    try:
        own = check.get_full_property(check_atom, Xatom.WINDOW)
        name = window_title(conn, check)
    except error.BadWindow:  # a window manager that has gone left its property behind
        return None
    if own is None or not own.value or int(own.value[0]) != check.id:
        return None
    return name or "unnamed"
