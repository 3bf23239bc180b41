from __future__ import annotations

import pytest

from agents.onboarding import OnboardingTemplateError, onboarding_texts
from agents.source import RegistrySource
from config import Home


def test_default_template_names_the_agent_its_role_and_folders(home: Home) -> None:
    registry = RegistrySource(home.coordinates_file).current()
    text = onboarding_texts(home, registry, ["Agent-3"])["Agent-3"]
    assert text.startswith("You are Agent-3, one of 8 AI coding agents")
    assert "Your role: Backend services" in text
    assert str(home.workspaces_dir / "Agent-3" / "inbox") in text
    assert str(home.workspaces_dir / "Agent-3" / "outbox") in text
    assert "Agent-1, Agent-2, Agent-4" in text and "${" not in text


def test_a_template_in_the_home_wins(home: Home) -> None:
    home.onboarding_template.write_text("Hi ${agent_id} ($role), costs $$5", encoding="utf-8")
    registry = RegistrySource(home.coordinates_file).current()
    assert onboarding_texts(home, registry, ["Agent-2"]) == {
        "Agent-2": "Hi Agent-2 (Architecture and design), costs $5"
    }


def test_an_unknown_placeholder_is_named(home: Home) -> None:
    home.onboarding_template.write_text("Hi ${agent_name}", encoding="utf-8")
    registry = RegistrySource(home.coordinates_file).current()
    with pytest.raises(OnboardingTemplateError, match=r"unknown placeholder \$\{agent_name\}"):
        onboarding_texts(home, registry, ["Agent-2"])
