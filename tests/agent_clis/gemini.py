"""Gemini CLI against :class:`GeminiDouble`: an API key, the base URL, and user settings
that choose API-key auth and turn off folder trust, auto-update, usage statistics,
telemetry, tips and hints. The banner stays: it is drawn once the CLI is ready."""

from __future__ import annotations

import json
from pathlib import Path

from tests.agent_clis.model_api.base import ModelApiDouble
from tests.agent_clis.recipe import Recipe, base_environment, clis_folder

# The header is drawn once the CLI has initialized; the input is there a second or more
# before, and what is submitted then waits in a queue ("Initializing... Prompts will be
# queued.").
READY = "Gemini CLI v"
SETTINGS = {
    "security": {"auth": {"selectedType": "gemini-api-key"}, "folderTrust": {"enabled": False}},
    "general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False},
    "privacy": {"usageStatisticsEnabled": False},
    "telemetry": {"enabled": False},
    "ui": {
        "hideBanner": False,
        "hideTips": True,
        "showShortcutsHint": False,
        "showCompatibilityWarnings": False,
    },
    "ide": {"enabled": False},
}


def recipe(root: Path, double: ModelApiDouble) -> Recipe:
    home = root / "gemini-home"
    project = root / "gemini-project"
    (home / ".gemini").mkdir(parents=True)
    project.mkdir(parents=True)
    (home / ".gemini" / "settings.json").write_text(json.dumps(SETTINGS, indent=2))
    env = base_environment(home) | {
        "GEMINI_API_KEY": "double-key",
        "GOOGLE_GEMINI_BASE_URL": double.base_url,
    }
    program = clis_folder() / "npm" / "node_modules" / ".bin" / "gemini"
    return Recipe("gemini", (str(program),), project, env, ready=READY)
