"""A Discord API double served on 127.0.0.1: the REST routes and the gateway websocket a
real discord.py client uses, recording every REST call and injecting what users do."""

from tests.discord_double.interactions import Clock, DiscordError
from tests.discord_double.payloads import Guild, Person, Role
from tests.discord_double.rest import RestCall, Upload
from tests.discord_double.server import DiscordDouble, NotClickable, Sent

__all__ = [
    "Clock",
    "DiscordDouble",
    "DiscordError",
    "Guild",
    "NotClickable",
    "Person",
    "RestCall",
    "Role",
    "Sent",
    "Upload",
]
