#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh Debian machine, then run it:
# Debian packages (Xorg with the dummy driver for the multi-monitor display, the openbox
# window manager, the real chat apps Chromium, xfce4-terminal and xterm with the DejaVu
# fonts, tmux, xdotool, xclip, Tk, Node.js and npm), the real agent CLIs at pinned versions
# (Claude Code, Codex CLI and Gemini CLI from npm, Aider from PyPI; installed once per
# machine, see tests/agent_clis/install.sh), a virtual environment with the project and its
# test extra, then ruff, mypy and pytest. The tests start their own X display and tmux
# servers, and serve the model APIs the CLIs talk to on 127.0.0.1. Extra arguments go to
# pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(xserver-xorg-core xserver-xorg-video-dummy x11-xserver-utils xdotool xclip
                 openbox chromium xfce4-terminal xterm tmux fonts-dejavu-core python3-tk python3-venv redis-server)
missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done
command -v npm >/dev/null || missing+=(nodejs npm)
if ((${#missing[@]})); then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".[test]"
# an editable install leaves the project's bytecode to each process, and one that may not
# write it (PYTHONDONTWRITEBYTECODE, common in containers) compiles every module again at
# each start: about 80 ms of every `cellphone` command here
.venv/bin/python -m compileall -q -j 0 cellphone.py agents backups bot config coordinates devlogs messaging

CELLPHONE_TEST_CLIS="$(bash tests/agent_clis/install.sh)"
export CELLPHONE_TEST_CLIS
CELLPHONE_TEST_EDITORS="$(bash tests/editors/install.sh)"
export CELLPHONE_TEST_EDITORS

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
