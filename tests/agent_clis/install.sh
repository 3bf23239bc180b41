#!/usr/bin/env bash
# Install the real agent CLIs the tests type into, at pinned versions, once per machine:
# Claude Code, Codex CLI and Gemini CLI from npm, Aider from PyPI (in a virtual environment
# of its own: it pins its own versions of many packages). They go into a cache folder named
# after the versions, so a second run installs nothing. Prints the folder; the tests find
# the programs there through CELLPHONE_TEST_CLIS.
set -euo pipefail

CLAUDE_CODE=2.1.328
CODEX=0.169.0
GEMINI_CLI=0.61.0
AIDER=0.86.2

cache_root="${CELLPHONE_CLI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/agent-cellphone/clis}"
folder="$cache_root/claude-$CLAUDE_CODE-codex-$CODEX-gemini-$GEMINI_CLI-aider-$AIDER"
if [ ! -e "$folder/.complete" ]; then
    command -v npm >/dev/null || { echo "npm is missing: install the Debian package npm" >&2; exit 1; }
    rm -rf "$folder"
    mkdir -p "$folder"
    npm install --silent --no-audit --no-fund --prefix "$folder/npm" \
        "@anthropic-ai/claude-code@$CLAUDE_CODE" "@openai/codex@$CODEX" \
        "@google/gemini-cli@$GEMINI_CLI" >&2
    "${PYTHON:-python3}" -m venv "$folder/aider"
    "$folder/aider/bin/python" -m pip install -q "aider-chat==$AIDER" >&2
    for program in "$folder/npm/node_modules/.bin/claude" "$folder/npm/node_modules/.bin/codex" \
                   "$folder/npm/node_modules/.bin/gemini" "$folder/aider/bin/aider"; do
        [ -x "$program" ] || { echo "$program was not installed" >&2; exit 1; }
    done
    touch "$folder/.complete"
fi
echo "$folder"
