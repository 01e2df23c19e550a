"""Point discord.py at another Discord (a fake one on localhost for tests, or a proxy).

discord.py builds every REST URL from `discord.http.Route.BASE` when a Route is made, interaction callbacks and
webhooks included (webhook/async_.py imports the same Route), and opens the gateway at
`DiscordWebSocket.DEFAULT_GATEWAY`; a non-sharded client never asks Discord for the gateway URL, and resumes at the
`resume_gateway_url` READY names. So two class attributes redirect everything. They are process-wide by nature:
set them once, before the bot logs in.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import discord.gateway
import discord.http
import yarl


def point_discord_at(api_base: str | None, gateway_url: str | None) -> None:
    """Use `api_base` (e.g. http://127.0.0.1:8080/api/v10) and `gateway_url` (ws://127.0.0.1:8080/gateway) instead
    of discord.com; None leaves that one as it is."""
    if api_base:
        discord.http.Route.BASE = api_base.rstrip("/")
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


@contextlib.contextmanager
def pointed_at(api_base: str, gateway_url: str) -> Iterator[None]:
    """`point_discord_at` for a while, then back to where discord.py pointed before (tests)."""
    before = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    point_discord_at(api_base, gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = before
