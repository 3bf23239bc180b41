"""The Discord front end: slash commands (one cog per feature), the control panel,
permissions, the audit log and error replies. It only talks to the messaging service.

``bot.app`` builds and runs the bot; this package imports nothing itself, so that
``cellphone`` can register ``bot.cli`` without loading discord.py."""
