"""Codex CLI against an OpenAI Responses API double.

``CODEX_HOME/config.toml`` points it at the double (a model provider of its own, speaking the
Responses API), trusts the project folder and turns off the update check, analytics and
feedback; with a current model it asks nothing at start and waits for a prompt once its footer
reads ``? for shortcuts``.

Codex starts a shared background server (``codex app-server --managed-daemon``, copied into
``CODEX_HOME/packages``) in a session of its own, and it outlives the window. The recipe runs
Codex with ``--no-daemon``, which keeps the server inside the CLI's process;
:func:`tests.agent_clis.recipe.end_processes`
still ends anything left running with its home under the test's folder."""

from __future__ import annotations

from pathlib import Path

from tests.agent_clis.model_api.base import ModelApiDouble
from tests.agent_clis.recipe import Recipe, base_environment, clis_folder

MODEL = "gpt-6-sol"  # Codex offers older models an upgrade, unknown ones earn a warning


def recipe(root: Path, double: ModelApiDouble) -> Recipe:
    home = root / "codex-home"
    project = root / "codex-project"
    codex_home = home / ".codex"
    codex_home.mkdir(parents=True, exist_ok=True)
    project.mkdir(parents=True, exist_ok=True)
    (codex_home / "config.toml").write_text(config(double.base_url, project))
    env = base_environment(home) | {"CODEX_HOME": str(codex_home), "DOUBLE_API_KEY": "sk-double"}
    # Codex ships a bubblewrap for its sandbox, and warns on every start when none is on PATH
    packages = clis_folder() / "npm" / "node_modules" / "@openai"
    for resources in sorted(packages.glob("codex-linux-*/vendor/*/codex-resources"))[:1]:
        env["PATH"] = f"{env['PATH']}:{resources}"
    program = clis_folder() / "npm" / "node_modules" / ".bin" / "codex"
    return Recipe("codex", (str(program), "--no-daemon"), project, env, ready="? for shortcuts")


def config(base_url: str, project: Path) -> str:
    return f"""\
model = "{MODEL}"
model_provider = "double"
check_for_update_on_startup = false

[model_providers.double]
name = "double"
base_url = "{base_url}/v1"
env_key = "DOUBLE_API_KEY"
wire_api = "responses"

[projects."{project}"]
trust_level = "trusted"

[analytics]
enabled = false

[feedback]
enabled = false
"""
