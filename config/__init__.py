"""Settings of a cellphone home: one model of checked groups, loaded once at start-up.

Values come from ``config/cellphone.toml`` in the home, then ``.env`` and the
environment (``CELLPHONE_*``, ``DISCORD_TOKEN``), the latter winning. The names below load
:mod:`config.settings` when first used (see :mod:`config.lazy`).
"""

from typing import TYPE_CHECKING

from config.lazy import offered

if TYPE_CHECKING:
    from config.settings import (
        BackupKind,
        BackupSettings,
        ConfigError,
        DeliveryMode,
        DiscordSettings,
        GuiSettings,
        Home,
        MessagingSettings,
        OpenAISettings,
        Settings,
        TmuxSettings,
        load_settings,
        resolve_home,
    )

__all__ = [
    "BackupKind",
    "BackupSettings",
    "ConfigError",
    "DeliveryMode",
    "DiscordSettings",
    "GuiSettings",
    "Home",
    "MessagingSettings",
    "OpenAISettings",
    "Settings",
    "TmuxSettings",
    "load_settings",
    "resolve_home",
]
__getattr__ = offered(
    __name__, {**dict.fromkeys(__all__, "config.settings"), "ConfigError": "config.errors"}
)
