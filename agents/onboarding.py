"""Onboarding texts: a template filled in with the agent's id, role and folders.

The template is ``config/onboarding.md`` in the home when it exists, else the default
shipped in ``agents/templates/onboarding.md``. Placeholders are ``${name}``:
agent_id, role, inbox, outbox, devlogs, status_file, swarm_size, others.
"""

from __future__ import annotations

from importlib import resources
from string import Template

from agents.registry import Agent, Registry
from agents.workspace import Workspace
from config import Home
from config.sources import decode

PLACEHOLDERS = (
    "agent_id",
    "role",
    "inbox",
    "outbox",
    "devlogs",
    "status_file",
    "swarm_size",
    "others",
)


class OnboardingTemplateError(ValueError):
    """The onboarding template names a placeholder that does not exist or is malformed."""


def default_template() -> str:
    return (resources.files("agents") / "templates" / "onboarding.md").read_text("utf-8")


def load_template(home: Home) -> str:
    path = home.onboarding_template
    if not path.exists():
        return default_template()
    return decode(path.read_bytes(), f"onboarding template {path}")


def onboarding_text(template: str, home: Home, agent: Agent, registry: Registry) -> str:
    """``template`` filled in for ``agent``; an unknown placeholder is an error naming it."""
    workspace = Workspace.of(home.workspaces_dir, agent)
    others = [a.agent_id for a in registry.active() if a.agent_id != agent.agent_id]
    values = {
        "agent_id": agent.agent_id,
        "role": agent.role or "not set (ask the operator)",
        "inbox": str(workspace.inbox),
        "outbox": str(workspace.outbox),
        "devlogs": str(workspace.devlogs),
        "status_file": str(workspace.status_file),
        "swarm_size": str(len(registry.active())),
        "others": ", ".join(others) or "none yet",
    }
    try:
        return Template(template).substitute(values)
    except KeyError as exc:
        raise OnboardingTemplateError(
            f"onboarding template {home.onboarding_template} uses unknown placeholder "
            f"${{{exc.args[0]}}}; known: {', '.join(PLACEHOLDERS)}"
        ) from None
    except ValueError as exc:
        raise OnboardingTemplateError(
            f"onboarding template {home.onboarding_template} is malformed ({exc}); "
            "write a literal $ as $$"
        ) from None


def onboarding_texts(home: Home, registry: Registry, agent_ids: list[str]) -> dict[str, str]:
    template = load_template(home)
    return {
        agent_id: onboarding_text(template, home, registry.get(agent_id), registry)
        for agent_id in agent_ids
    }
