"""Sending rendered posts: to an interaction (initial response, edit of the deferred response, followups) or to a
channel (a reply, then plain messages). The reply reference goes on the first message only; continuations are
silent so a long answer notifies once."""
from __future__ import annotations

import io
import logging

import discord

from bot.discord.limits import shorten
from bot.discord.render import CHART_NAME, Post

log = logging.getLogger(__name__)
ATTACHMENT_DESCRIPTION = 1024     # Discord's limit for an attachment's description (alt text)


def embeds_of(post: Post) -> list[discord.Embed]:
    return [discord.Embed.from_dict(e) for e in post.embeds]


def files_of(post: Post) -> list[discord.File]:
    if post.chart is None:
        return []
    description = shorten(post.chart_alt, ATTACHMENT_DESCRIPTION) if post.chart_alt else None
    return [discord.File(io.BytesIO(post.chart), filename=CHART_NAME, description=description)]


def message_kwargs(post: Post, view: discord.ui.View | None = None) -> dict:
    """Keyword arguments for `send` / `send_message` / `followup.send`."""
    kwargs: dict = {"content": post.content or None, "embeds": embeds_of(post), "files": files_of(post)}
    if view is not None:
        kwargs["view"] = view
    return kwargs


def edit_kwargs(post: Post, view: discord.ui.View | None = None) -> dict:
    """Keyword arguments for `edit` / `edit_original_response`: replaces content, embeds and attachments."""
    return {"content": post.content or None, "embeds": embeds_of(post), "attachments": files_of(post),
            "view": view}


async def respond(interaction: discord.Interaction, posts: list[Post],
                  view: discord.ui.View | None = None, ephemeral: bool = False) -> list[int]:
    """Answer an interaction that has not been answered yet: the first post as the initial response, the rest as
    followups, the view on the last one. Returns the ids of the messages sent (when Discord says them)."""
    ids: list[int] = []
    first, *rest = posts
    callback = await interaction.response.send_message(
        ephemeral=ephemeral, **message_kwargs(first, view if not rest else None))
    if callback is not None and callback.message_id is not None:
        ids.append(callback.message_id)
    ids += await follow_up(interaction, rest, view, ephemeral)
    return ids


async def follow_up(interaction: discord.Interaction, posts: list[Post], view: discord.ui.View | None = None,
                    ephemeral: bool = False) -> list[int]:
    ids = []
    for i, post in enumerate(posts):
        last = i == len(posts) - 1
        kwargs = message_kwargs(post, view if last else None)
        message = await interaction.followup.send(ephemeral=ephemeral, silent=True, wait=True, **kwargs)
        ids.append(message.id)
    return ids


async def finish_deferred(interaction: discord.Interaction, posts: list[Post],
                          view: discord.ui.View | None = None) -> list[int]:
    """Replace a deferred ("thinking") response with the answer; the rest follows as followups."""
    first, *rest = posts
    message = await interaction.edit_original_response(**edit_kwargs(first, view if not rest else None))
    return [message.id] + await follow_up(interaction, rest, view)


async def send_to_channel(channel: discord.abc.Messageable, posts: list[Post], view: discord.ui.View | None = None,
                          reply_to: discord.Message | None = None, first: discord.Message | None = None
                          ) -> list[int]:
    """Post in a channel. `first`: a message already sent (a streaming preview) that the first post replaces;
    otherwise the first post replies to `reply_to`. Returns the ids of the bot's messages, in order."""
    ids: list[int] = []
    for i, post in enumerate(posts):
        last_view = view if i == len(posts) - 1 else None
        if i == 0 and first is not None:
            await first.edit(**edit_kwargs(post, last_view))
            ids.append(first.id)
        elif i == 0 and reply_to is not None:
            message = await reply_to.reply(**message_kwargs(post, last_view))
            ids.append(message.id)
        else:
            message = await channel.send(silent=True, **message_kwargs(post, last_view))
            ids.append(message.id)
    return ids
