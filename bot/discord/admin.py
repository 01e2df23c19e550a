"""/admin: for people who may manage the server. Reload the knowledge base and catalogs, show the index, set a
channel's mode (off / mention / listen), sync the commands. Hidden from everyone else by default permissions, and
checked again here, because a server can override default permissions.

What acts on every server the bot is in (reload, sync global) needs more than Manage Server in one of them: the
application's owner, or a user listed in DISCORD_ADMIN_USER_IDS."""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import TYPE_CHECKING, Literal, Optional, Union

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.error_replies import RefusedWithReason
from bot.discord.store import ChannelMode

if TYPE_CHECKING:
    from bot.discord.app import WillItRunBot

log = logging.getLogger(__name__)
MODE_WORDS = {"off": "I stay silent here (slash commands still work).",
              "mention": "I answer when mentioned and in replies to my answers.",
              "listen": "I answer questions I am confident about, and mentions; I stay silent otherwise."}


def index_status(bot: WillItRunBot) -> str:
    core = bot.core
    retriever = core.retriever
    entries = list(core.kb.entries.values())
    glossary = sum(e.kind == "glossary" for e in entries)
    lines = [f"Knowledge base: {len(entries)} entries ({glossary} glossary, {len(entries) - glossary} errors)",
             f"Search index: {len(retriever.dense.passages)} passages, embedding model {retriever.dense.model} "
             f"({retriever.dense.dimensions} dimensions)",
             f"Catalog: {len(core.catalog.models)} models, {len(core.catalog.hardware)} GPUs and other hardware",
             f"Language model: {core.backend.name if core.backend else 'off (answers from entries)'}"]
    if bot.queue is not None:
        lines.append(f"Waiting for the model: {bot.queue.waiting} (at most {bot.queue.max_waiting})")
    reloaded = bot.index_reloaded_at
    lines.append(f"Last reload: {discord.utils.format_dt(reloaded, 'R') if reloaded else 'not since startup'}")
    return "\n".join(lines)


class BotAdminOnly(RefusedWithReason):
    """Someone who may manage one server tried what changes the bot on every server."""

    def __init__(self):
        super().__init__("This changes the bot on every server it is in, so only the bot's owner (or a user listed "
                         "in DISCORD_ADMIN_USER_IDS) may run it. Per-server actions (mode, index, sync guild) need "
                         "Manage Server.")


def acts_globally(interaction: discord.Interaction) -> bool:
    """Whether the /admin subcommand being run changes the bot everywhere: reload, or sync with scope global."""
    command = interaction.command
    name = command.name if command is not None else ""
    return name == "reload" or (name == "sync" and getattr(interaction.namespace, "scope", "guild") == "global")


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Admin(commands.GroupCog, group_name="admin", group_description="Manage the bot (Manage Server permission)"):
    def __init__(self, bot: WillItRunBot):
        self.bot = bot
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if acts_globally(interaction):
            if not await self.bot.may_act_globally(interaction.user):
                raise BotAdminOnly()
            return True
        permissions = interaction.permissions
        if not (permissions.manage_guild or permissions.administrator):   # administrators have every permission
            raise app_commands.MissingPermissions(["manage_guild"])
        return True

    @app_commands.command(name="reload", description="Read the knowledge base and catalogs again and update the "
                                                     "search index.")
    async def reload(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        # a whole new core (knowledge base, catalogs, index, router); questions in flight finish on the old one
        core = await asyncio.to_thread(self.bot.core.reload)
        stats = await asyncio.to_thread(lambda: core.index_stats)
        self.bot.core = core
        self.bot.index_reloaded_at = dt.datetime.now(dt.UTC)
        problems = core.kb_problems
        text = (f"Reloaded {len(core.kb.entries)} entries; index {stats.reason}: {stats.embedded} passages "
                f"embedded, {stats.removed} removed, {stats.total} in all ({stats.seconds:.1f} s).")
        if problems:
            text += f"\n{len(problems)} file(s) skipped, see `willitrun kb check`: " + "; ".join(problems[:3])[:1500]
        await interaction.edit_original_response(content=text)

    @app_commands.command(name="index", description="What the bot knows: entries, index, catalog, model.")
    async def index(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(index_status(self.bot), ephemeral=True)

    @app_commands.command(name="mode", description="How the bot behaves in a channel.")
    @app_commands.describe(mode="off: silent · mention: when mentioned · listen: answers confident questions",
                           channel="the channel (this one if left out)")
    async def mode(self, interaction: discord.Interaction, mode: Literal["off", "mention", "listen"],
                   channel: Optional[Union[discord.TextChannel, discord.ForumChannel]] = None) -> None:
        target = channel or interaction.channel
        if isinstance(target, discord.Thread) and target.parent is not None:
            target = target.parent       # a thread follows its channel's mode (see listener.trigger)
        chosen: ChannelMode = mode
        await asyncio.to_thread(self.bot.store.set_channel_mode, target.id, chosen)
        text = f"<#{target.id}>: {mode}. {MODE_WORDS[mode]}"
        if mode == "listen" and not self.bot.intents.message_content:
            text += ("\nBut the bot runs without the Message Content intent, so it cannot read messages that do "
                     "not mention it: set DISCORD_MESSAGE_CONTENT=true and enable the intent in the Developer "
                     "Portal for listen mode to work.")
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="sync", description="Register the slash commands with Discord again.")
    @app_commands.describe(scope="guild: this server, at once · global: every server, can take a while")
    async def sync(self, interaction: discord.Interaction, scope: Literal["guild", "global"] = "guild") -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        if scope == "guild":
            guild = discord.Object(id=interaction.guild_id)
            self.bot.tree.copy_global_to(guild=guild)
            synced = await self.bot.tree.sync(guild=guild)
        else:
            synced = await self.bot.sync_commands(everywhere=True)
        await interaction.edit_original_response(content=f"Synced {len(synced)} commands ({scope}).")


async def setup(bot: WillItRunBot) -> None:
    await bot.add_cog(Admin(bot))
