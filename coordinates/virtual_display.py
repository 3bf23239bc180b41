"""A real multi-monitor X display without monitors: Xorg with the dummy video driver.

Each monitor is a RandR output (DUMMY0, DUMMY1, ...) given a mode and a position with
``xrandr``, so screeninfo, pyautogui, xdotool and Tk all see real monitors of different
sizes and offsets. Tests and ``cellphone demo`` use it. X11 root coordinates are never
negative: layouts left of or above the primary are covered by synthetic layouts instead.

Xorg runs with ``-displayfd``: it writes the display number to a pipe only once it has
bound that number's sockets itself. A server that finds the number taken (another X server
got there between our look and our start) exits without writing, so we never mistake
another server for ours; the next free number is tried. ``-displayfd`` implies
``-nolock`` (our Xorg writes no ``/tmp/.X<n>-lock``); a lock file naming another live
process still means the number is someone else's.
"""

from __future__ import annotations

import logging
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from coordinates.layout import Monitor

log = logging.getLogger(__name__)

DEBIAN_PACKAGES = ("xserver-xorg-core", "xserver-xorg-video-dummy", "x11-xserver-utils")
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 5.0
MAX_OUTPUTS = 16  # xserver-xorg-video-dummy 0.4 exposes DUMMY0..DUMMY15
FIRST_DISPLAY = 90
MAX_CLOCK_MHZ = 280
LOG_NOISE = (  # (EE) lines of every start here (no input drivers, no dbus) and boilerplate
    '"kbd"',
    '"mouse"',
    '"libinput"',
    "No input driver matching",
    "dbus-core",
    "(WW) warning",
    "Please also check",
    "Server terminated",
    "Fatal server error",
)
LOG_NAME = "Xorg.log"
START_ATTEMPTS = 3  # display numbers tried when the first one turns out to be taken


class VirtualDisplayError(RuntimeError):
    """The virtual display cannot be started; the message says why and what to install."""


@dataclass(frozen=True)
class MonitorSpec:
    """One monitor to create: its size and the offset of its top-left corner."""

    width: int
    height: int
    x: int = 0
    y: int = 0

    def __post_init__(self) -> None:
        if self.x < 0 or self.y < 0:
            raise ValueError(f"X11 root coordinates are never negative: offset {self.x},{self.y}")
        if self.width < 320 or self.height < 200:
            raise ValueError(f"monitor {self.width}x{self.height} is too small (min 320x200)")

    @property
    def mode(self) -> str:
        return f"{self.width}x{self.height}"


THREE_MONITORS = (
    MonitorSpec(1920, 1080, 0, 1024),
    MonitorSpec(1920, 1080, 1920, 1024),
    MonitorSpec(1280, 1024, 0, 0),
)
"""The layout measured in notes: two 1920x1080 side by side under a 1280x1024, which
leaves a dead zone right of the small one (x 1280..3839, y 0..1023)."""


class VirtualDisplay:
    """Start with :meth:`start` (or ``with``); :attr:`name` is the ``DISPLAY`` value.

    ``display`` is the number tried first (default: the first free one from :90); if it is
    taken, the next free numbers are tried. ``xorg_args`` are added to the Xorg command
    line, e.g. ``("-extension", "RECORD")`` for a server without RECORD.
    """

    def __init__(
        self,
        monitors: Sequence[MonitorSpec],
        *,
        display: int | None = None,
        workdir: Path | None = None,
        xorg_args: Sequence[str] = (),
    ) -> None:
        if not 1 <= len(monitors) <= MAX_OUTPUTS:
            raise ValueError(f"1 to {MAX_OUTPUTS} monitors, not {len(monitors)}")
        self.specs = tuple(monitors)
        self.number: int | None = None
        self.xorg_args = tuple(xorg_args)
        self._first_choice = display
        self._workdir = workdir
        self._tmp: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def name(self) -> str:
        if self.number is None:
            raise VirtualDisplayError("the virtual display is not started")
        return f":{self.number}"

    @property
    def size(self) -> tuple[int, int]:
        return (
            max(s.x + s.width for s in self.specs),
            max(s.y + s.height for s in self.specs),
        )

    @property
    def monitors(self) -> list[Monitor]:
        """The monitors as they were asked for (``read_layout`` reads the live ones)."""
        return [
            Monitor(f"DUMMY{i}", s.x, s.y, s.width, s.height, primary=i == 0)
            for i, s in enumerate(self.specs)
        ]

    @property
    def log_file(self) -> Path | None:
        return self._tmp / LOG_NAME if self._tmp else None

    def __enter__(self) -> VirtualDisplay:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self, timeout: float = START_TIMEOUT_S) -> str:
        """Run Xorg on a free display number, lay the monitors out, wait until RandR reports
        them; the display name."""
        xorg = _require_tools()
        self._tmp = Path(tempfile.mkdtemp(prefix="cellphone-xorg-", dir=self._workdir))
        config = self._tmp / "xorg.conf"
        config.write_text(xorg_config(self.specs), encoding="utf-8")
        deadline = time.monotonic() + timeout
        try:
            self._launch(xorg, config, deadline)
            self._arrange()
            self._wait_for_layout(deadline)
            self._check_running()
        except BaseException:
            self.stop()
            raise
        log.info("virtual display %s up: %s", self.name, self.describe())
        return self.name

    def describe(self) -> str:
        return ", ".join(str(m) for m in self.monitors)

    def stop(self) -> None:
        """Stop the server and remove its files; harmless when it is not running."""
        self.stop_server()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def stop_server(self) -> None:
        """Stop the Xorg process (its files stay, e.g. the log)."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(STOP_TIMEOUT_S)

    def env(self) -> dict[str, str]:
        """The environment of this process with ``DISPLAY`` pointing here."""
        return {**os.environ, "DISPLAY": self.name}

    # -- steps ------------------------------------------------------------------------

    def _launch(self, xorg: str, config: Path, deadline: float) -> None:
        """Start Xorg on the first number it can own; :attr:`number` is set once it listens."""
        number = self._first_choice if self._first_choice is not None else free_display_number()
        failed: list[str] = []
        for _ in range(START_ATTEMPTS):
            if self._run_xorg(xorg, config, number, deadline):
                self.number = number
                return
            failed.append(f":{number}")
            number = free_display_number(number + 1)
        raise VirtualDisplayError(
            f"Xorg did not start on {', '.join(failed)} (each was taken or Xorg failed); "
            f"last log: {self._log_tail()}"
        )

    def _run_xorg(self, xorg: str, config: Path, number: int, deadline: float) -> bool:
        """True once Xorg listens on ``number``; False if it exited first (number taken)."""
        read_end, write_end = os.pipe()
        try:
            self._process = subprocess.Popen(
                [xorg, f":{number}", "-displayfd", str(write_end), *self._xorg_options(config)],
                pass_fds=(write_end,),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            os.close(write_end)
        try:
            answer = _read_display_fd(read_end, self._process, deadline)
        except TimeoutError:
            raise VirtualDisplayError(
                f"Xorg :{number} did not start listening in time: {self._log_tail()}"
            ) from None
        finally:
            os.close(read_end)
        if answer is None:
            log.info("Xorg could not take :%d (%s); trying another", number, self._log_tail())
            self.stop_server()
            return False
        if answer != str(number) or _foreign_lock(number, self._process.pid):
            log.info("display :%d belongs to another X server; trying another", number)
            self.stop_server()
            return False
        return True

    def _xorg_options(self, config: Path) -> list[str]:
        folder = config.parent
        return [
            *("-config", str(config), "-configdir", str(folder)),
            *("-logfile", str(folder / LOG_NAME), "-noreset", "-nolisten", "tcp"),
            *self.xorg_args,
        ]

    def _check_running(self) -> None:
        if self._process is None or self._process.poll() is not None:
            code = self._process.returncode if self._process else None
            raise VirtualDisplayError(
                f"Xorg {self.name} exited (code {code}) while its monitors were being arranged:"
                f" {self._log_tail()}"
            )

    def _arrange(self) -> None:
        width, height = self.size
        args = ["--fb", f"{width}x{height}"]
        for index, spec in enumerate(self.specs):
            output = f"DUMMY{index}"
            if index > 0:
                self._xrandr("--addmode", output, spec.mode)
            args += ["--output", output, "--mode", spec.mode, "--pos", f"{spec.x}x{spec.y}"]
        args += ["--output", "DUMMY0", "--primary"]
        self._xrandr(*args)

    def _wait_for_layout(self, deadline: float) -> None:
        wanted = {(m.name, m.x, m.y, m.width, m.height) for m in self.monitors}
        seen: set[tuple[str, int, int, int, int]] = set()
        while True:
            seen = self._listed_monitors()
            if wanted <= seen:
                return
            if time.monotonic() > deadline:
                raise VirtualDisplayError(
                    f"xrandr on {self.name} lists {sorted(seen)}, not {sorted(wanted)}"
                )
            time.sleep(0.05)

    def _listed_monitors(self) -> set[tuple[str, int, int, int, int]]:
        out = self._xrandr("--listmonitors", check=False).stdout
        found = set()
        for match in re.finditer(r"(\d+)/\d+x(\d+)/\d+\+(\d+)\+(\d+)\s+(\S+)", out):
            width, height, x, y = (int(match.group(i)) for i in range(1, 5))
            found.add((match.group(5), x, y, width, height))
        return found

    def _xrandr(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["xrandr", "-display", self.name, *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if check and result.returncode != 0:
            raise VirtualDisplayError(
                f"xrandr {' '.join(args)} failed on {self.name}: {result.stderr.strip()}"
            )
        return result

    def _log_tail(self, lines: int = 4) -> str:
        log_file = self.log_file
        if log_file is None or not log_file.exists():
            return "no log written (may this user run Xorg? it needs root here)"
        errors = [
            line.split("(EE)", 1)[1].strip().removesuffix("(EE)").strip()
            for line in log_file.read_text(errors="replace").splitlines()
            if "(EE)" in line and not any(noise in line for noise in LOG_NOISE)
        ]
        return " | ".join([e for e in errors if e][-lines:]) or f"see {log_file}"


def _require_tools() -> str:
    xorg = shutil.which("Xorg")
    dummy = Path("/usr/lib/xorg/modules/drivers/dummy_drv.so")
    missing = [
        name
        for name, present in (
            ("Xorg", xorg is not None),
            ("the dummy video driver", dummy.exists()),
            ("xrandr", shutil.which("xrandr") is not None),
        )
        if not present
    ]
    if missing or xorg is None:
        raise VirtualDisplayError(
            f"cannot start a virtual display: {', '.join(missing)} not installed; "
            f"install the Debian packages: apt-get install {' '.join(DEBIAN_PACKAGES)}"
        )
    return xorg


def _read_display_fd(fd: int, process: subprocess.Popen[bytes], deadline: float) -> str | None:
    """What Xorg wrote to its ``-displayfd`` pipe, or None if it exited without writing;
    ``TimeoutError`` at the deadline."""
    data = b""
    while not data.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        readable, _, _ = select.select([fd], [], [], min(remaining, 0.1))
        if readable:
            chunk = os.read(fd, 64)
            if not chunk:
                return None
            data += chunk
        elif process.poll() is not None:
            return None
    return data.decode(errors="replace").strip()


def _foreign_lock(number: int, our_pid: int) -> bool:
    """Whether ``/tmp/.X<number>-lock`` names a live process other than ``our_pid``."""
    try:
        pid = int(Path(f"/tmp/.X{number}-lock").read_text(errors="replace").strip())
    except (OSError, ValueError):
        return False
    if pid == our_pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        pass
    return True


def free_display_number(first: int = FIRST_DISPLAY) -> int:
    """The first display number with neither a lock file nor a socket."""
    for number in range(first, first + 100):
        if not (
            Path(f"/tmp/.X{number}-lock").exists() or Path(f"/tmp/.X11-unix/X{number}").exists()
        ):
            return number
    raise VirtualDisplayError(f"no free X display number in :{first}..:{first + 99}")


def modeline(width: int, height: int, refresh: int = 60) -> str:
    """A CVT-like modeline; the refresh drops for big modes so the pixel clock stays under
    what the dummy driver accepts (about 300 MHz)."""
    h_total = width + max(160, (width * 3 // 10) // 8 * 8)
    v_total = height + max(30, height // 25)
    rate = min(refresh, int(MAX_CLOCK_MHZ * 1e6 // (h_total * v_total)))
    clock_mhz = h_total * v_total * rate / 1e6
    h_sync = width + (h_total - width) // 3 // 8 * 8
    return (
        f'Modeline "{width}x{height}" {clock_mhz:.2f} '
        f"{width} {h_sync} {h_sync + 32 * 4} {h_total} "
        f"{height} {height + 3} {height + 8} {v_total} -hsync +vsync"
    )


def xorg_config(specs: Sequence[MonitorSpec]) -> str:
    modes = sorted({(s.width, s.height) for s in specs})
    first = specs[0].mode
    mode_names = [first] + [f"{w}x{h}" for w, h in modes if f"{w}x{h}" != first]
    width = max(s.x + s.width for s in specs)
    height = max(s.y + s.height for s in specs)
    modelines = "\n".join(f"    {modeline(w, h)}" for w, h in modes)
    return f"""\
Section "ServerFlags"
    Option "AutoAddDevices" "false"
    Option "AutoEnableDevices" "false"
    Option "DontVTSwitch" "true"
EndSection

Section "Device"
    Identifier "dummy"
    Driver "dummy"
    VideoRam 256000
EndSection

Section "Monitor"
    Identifier "monitor"
    HorizSync 5.0 - 1000.0
    VertRefresh 5.0 - 200.0
{modelines}
EndSection

Section "Screen"
    Identifier "screen"
    Device "dummy"
    Monitor "monitor"
    DefaultDepth 24
    SubSection "Display"
        Depth 24
        Modes {" ".join(f'"{m}"' for m in mode_names)}
        Virtual {max(width, 1024)} {max(height, 768)}
    EndSubSection
EndSection
"""
