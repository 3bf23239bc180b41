"""``cellphone mcp`` loads the MCP SDK only to serve: its help and the entries of the agent
CLIs print without it, and other commands never load it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from config import Home
from tests.test_cli import ROOT, headless

PROBE = """
import json, sys
import cellphone
try:
    code = cellphone.main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
sdk = ("mcp", "mcp_types", "messaging.mcp.server")
loaded = sorted(name for name in sdk if name in sys.modules)
sys.stderr.write("\\nPROBE " + json.dumps([code, loaded]) + "\\n")
"""


def sdk_loaded_by(*argv: str) -> tuple[object, list[str], str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=headless(os.environ),
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    code, loaded = json.loads(result.stderr.rstrip().splitlines()[-1].removeprefix("PROBE "))
    return code, loaded, result.stdout


def test_help_entries_and_other_commands_load_no_sdk(home: Home) -> None:
    code, loaded, out = sdk_loaded_by("mcp", "--help")
    assert code == 0 and "--as AGENT" in out and loaded == []
    code, loaded, out = sdk_loaded_by(
        "mcp", "--as", "Agent-2", "--entry", "codex", "--home", str(home.root)
    )
    assert code == 0 and "[mcp_servers.cellphone]" in out and loaded == []
    code, loaded, out = sdk_loaded_by("send", "hi", "--to", "Agent-2", "--home", str(home.root))
    assert code == 0 and loaded == []
    code, loaded, out = sdk_loaded_by("--help")
    assert code == 0 and "mcp" in out and loaded == []


def test_serving_loads_it_after_checking_the_agent(home: Home) -> None:
    # an unknown agent stops before the SDK loads; a known one is served (standard input
    # is empty: the server answers nothing and ends)
    code, loaded, _ = sdk_loaded_by("mcp", "--as", "Agent-10", "--home", str(home.root))
    assert code == 2 and loaded == []
    code, loaded, _ = sdk_loaded_by("mcp", "--as", "Agent-1", "--home", str(home.root))
    assert code == 0 and loaded == ["mcp", "mcp_types", "messaging.mcp.server"]
