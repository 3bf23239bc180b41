"""Aider against :class:`ChatCompletionsDouble`: an OpenAI-compatible base URL and key, a
model litellm sends there (``openai/<name>``), and flags that turn off git, the update
check, analytics, release notes, model warnings and URL detection. The model's metadata
(context window, no cost) is given in a file: without it Aider fetches litellm's price
list from GitHub at start and prints the failure."""

from __future__ import annotations

import json
from pathlib import Path

from tests.agent_clis.model_api.base import ModelApiDouble
from tests.agent_clis.recipe import Recipe, base_environment, clis_folder

MODEL = "openai/double"
METADATA = {
    MODEL: {
        "max_input_tokens": 128_000,
        "max_output_tokens": 4_096,
        "input_cost_per_token": 0,
        "output_cost_per_token": 0,
        "litellm_provider": "openai",
        "mode": "chat",
    }
}
READY = "─\n>"  # the rule Aider draws, and its prompt below it (trailing space trimmed)
FLAGS = (
    "--model",
    MODEL,
    "--no-git",
    "--no-check-update",
    "--analytics-disable",
    "--no-show-release-notes",
    "--no-show-model-warnings",
    "--no-detect-urls",
    "--map-tokens",
    "0",
    "--yes-always",
)


def recipe(root: Path, double: ModelApiDouble) -> Recipe:
    home = root / "aider-home"
    project = root / "aider-project"
    home.mkdir(parents=True)
    project.mkdir(parents=True)
    metadata = home / "model-metadata.json"
    metadata.write_text(json.dumps(METADATA, indent=2))
    env = base_environment(home) | {
        "OPENAI_API_BASE": f"{double.base_url}/v1",
        "OPENAI_API_KEY": "double-key",
    }
    program = clis_folder() / "aider" / "bin" / "aider"
    return Recipe(
        "aider",
        (str(program), *FLAGS, "--model-metadata-file", str(metadata)),
        project,
        env,
        ready=READY,
    )
