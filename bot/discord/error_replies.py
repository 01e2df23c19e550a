"""One place that turns a failure into words for the person who asked, and sends them wherever they can still be
seen: every question gets an answer or a polite refusal, never silence or a traceback."""
from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands
from pydantic import ValidationError

from bot.errors import WillItRunError

log = logging.getLogger(__name__)
SOMETHING_WENT_WRONG = ("Something went wrong on my side while answering; it has been logged. "
                        "Please try again in a moment.")


class RefusedWithReason(app_commands.CheckFailure):
    """A check that failed with a message for the user (discord.py's own checks carry none)."""


def cooldown_message(retry_after: float) -> str:
    return f"You're asking faster than I can keep up: please wait {max(retry_after, 1):.0f} s and ask again."


def user_message_for(error: BaseException) -> str:
    """What to tell the user about `error`; unexpected errors are logged here, with their traceback."""
    cause = error
    # discord.py wraps what a command or transformer raised; the user's problem is the wrapped one
    while isinstance(cause, (app_commands.CommandInvokeError, app_commands.TransformerError,
                             commands.CommandInvokeError)) and cause.__cause__ is not None:
        cause = cause.__cause__
    if isinstance(cause, WillItRunError):
        return str(cause)
    if isinstance(cause, ValidationError):
        problems = "; ".join(e["msg"] for e in cause.errors())
        return f"Those options don't work together: {problems}."
    if isinstance(cause, app_commands.CommandOnCooldown):
        return cooldown_message(cause.retry_after)
    if isinstance(cause, app_commands.MissingPermissions):
        return "This command needs the Manage Server permission."
    if isinstance(cause, app_commands.NoPrivateMessage):
        return "This command only works in a server."
    if isinstance(cause, RefusedWithReason):
        return str(cause)
    if isinstance(cause, app_commands.CheckFailure):
        return "You can't use this command here."
    if isinstance(cause, TimeoutError):
        return "That took too long to answer, so I stopped. Please try a shorter or simpler question."
    log.error("unexpected error while answering", exc_info=error)
    return SOMETHING_WENT_WRONG


async def tell_interaction_user(interaction: discord.Interaction, text: str) -> None:
    """Send `text` to the user of `interaction`, only to them, whether or not it has been answered already."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException as exc:   # the token expired or the interaction is gone: nobody to tell
        log.warning("could not tell the user about an error: %s", exc)
