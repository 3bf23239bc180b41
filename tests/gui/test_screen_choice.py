"""Which screen deliverer a process gets, and what it says without a display."""

from __future__ import annotations

import pytest

from config import DeliveryMode, Settings
from messaging.screen.gui import GuiDeliverer, screen_for


def settings(mode: DeliveryMode) -> Settings:
    return Settings(messaging={"delivery_mode": mode})


def test_inbox_mode_never_touches_the_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPLAY", ":0")
    assert screen_for(settings(DeliveryMode.INBOX)) is None


def test_auto_mode_uses_the_screen_only_with_a_display(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    assert screen_for(settings(DeliveryMode.AUTO)) is None
    monkeypatch.setenv("DISPLAY", ":0")
    assert isinstance(screen_for(settings(DeliveryMode.AUTO)), GuiDeliverer)


def test_gui_mode_without_a_display_reports_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    screen = screen_for(settings(DeliveryMode.GUI))
    assert isinstance(screen, GuiDeliverer)
    reason = screen.unavailable_reason()
    assert reason is not None and reason.startswith("no display: DISPLAY is not set")
