"""The Discord front end: slash commands (one cog per feature), the control panel,
permissions, the audit log and error replies. It only talks to the messaging service."""

from bot.app import create_bot, run_bot
from bot.client import CellphoneBot

__all__ = ["CellphoneBot", "create_bot", "run_bot"]
