"""Claude Code against an Anthropic Messages API double.

``~/.claude.json`` takes it past its first-run screens (onboarding and theme, the question
whether to use the API key from the environment, trusting the project folder); the environment
turns off the auto-updater, telemetry, error reports and other traffic that is not the model's.
It starts in "auto mode" and waits for a prompt once its footer reads
``⏵⏵ auto mode on (shift+tab to cycle)``."""

from __future__ import annotations

import json
from pathlib import Path

from tests.agent_clis.model_api.base import ModelApiDouble
from tests.agent_clis.recipe import Recipe, base_environment, clis_folder

API_KEY = "sk-ant-api03-double-0123456789abcdefghijklmnopqrstuvwxyz"  # approved by its tail


def recipe(root: Path, double: ModelApiDouble) -> Recipe:
    home = root / "claude-home"
    project = root / "claude-project"
    home.mkdir(parents=True, exist_ok=True)
    project.mkdir(parents=True, exist_ok=True)
    state = {
        "hasCompletedOnboarding": True,
        "theme": "dark",
        "customApiKeyResponses": {"approved": [API_KEY[-20:]], "rejected": []},
        "projects": {
            str(project): {
                "hasTrustDialogAccepted": True,
                "hasCompletedProjectOnboarding": True,
            }
        },
    }
    (home / ".claude.json").write_text(json.dumps(state, indent=2))
    env = base_environment(home) | {
        "ANTHROPIC_BASE_URL": double.base_url,
        "ANTHROPIC_API_KEY": API_KEY,
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
    }
    program = clis_folder() / "npm" / "node_modules" / ".bin" / "claude"
    return Recipe("claude", (str(program),), project, env, ready="(shift+tab to cycle)")
