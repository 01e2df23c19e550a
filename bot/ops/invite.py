"""`willitrun invite`: the OAuth2 URL that adds the bot to a server with exactly the permissions it uses.

The bot reads channels and their history, answers there and in threads it opens (text, embeds, chart images),
adds reactions and offers slash commands. Nothing more: no moderation, no mentioning everyone, no member list.
The integer comes from discord.py's own flag values, so it cannot drift from the library the bot runs.
"""
from __future__ import annotations

import re
from urllib.parse import urlencode

from pydantic import BaseModel

from bot.errors import WillItRunError

AUTHORIZE_URL = "https://discord.com/oauth2/authorize"
SCOPES = ("bot", "applications.commands")

# discord.py flag name -> the name the Developer Portal shows
PERMISSIONS: dict[str, str] = {
    "view_channel": "View Channels",
    "send_messages": "Send Messages",
    "send_messages_in_threads": "Send Messages in Threads",
    "embed_links": "Embed Links",
    "attach_files": "Attach Files",
    "read_message_history": "Read Message History",
    "use_application_commands": "Use Application Commands",
}

# only with DISCORD_ANSWER_IN_THREADS: the bot then starts a thread from each question it answers in a channel
THREAD_PERMISSIONS: dict[str, str] = {"create_public_threads": "Create Public Threads"}

SNOWFLAKE = re.compile(r"^\d{17,20}$")


class Invite(BaseModel):
    client_id: str
    permissions: int
    permission_names: list[str]
    scopes: list[str]
    url: str


def needed_permissions(threads: bool = False) -> dict[str, str]:
    return {**PERMISSIONS, **(THREAD_PERMISSIONS if threads else {})}


def permissions_value(threads: bool = False) -> int:
    import discord

    return discord.Permissions(**{flag: True for flag in needed_permissions(threads)}).value


def build_invite(client_id: str | None, threads: bool = False) -> Invite:
    """The invite URL; `threads`: the bot answers in threads it starts (DISCORD_ANSWER_IN_THREADS)."""
    if not client_id:
        raise WillItRunError("No application id: set DISCORD_APPLICATION_ID or pass --client-id "
                             "(Developer Portal > your application > General Information > Application ID).")
    client_id = client_id.strip()
    if not SNOWFLAKE.match(client_id):
        raise WillItRunError(f"'{client_id}' is not an application id: it is a number of 17 to 20 digits "
                             "(Developer Portal > General Information > Application ID).")
    value = permissions_value(threads)
    # urlencode writes the space between scopes as '+', the form Discord's own URL generator uses
    query = urlencode({"client_id": client_id, "scope": " ".join(SCOPES), "permissions": value})
    return Invite(client_id=client_id, permissions=value, permission_names=list(needed_permissions(threads).values()),
                  scopes=list(SCOPES), url=f"{AUTHORIZE_URL}?{query}")


def invite_text(invite: Invite) -> str:
    return "\n".join([
        invite.url,
        "",
        f"scopes: {' '.join(invite.scopes)}",
        f"permissions ({invite.permissions}): {', '.join(invite.permission_names)}",
    ])
