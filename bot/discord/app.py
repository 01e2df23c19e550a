"""The bot: a thin discord.py AutoShardedBot that holds the core (bot.core.Core), the generation queue and the store,
sets the safety defaults once, loads one extension per concern, and turns a refused login or an impossible shard
setting into a message the operator can act on."""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Iterator

import discord
from discord import app_commands
from discord.ext import commands

from bot.charts import answer_chart
from bot.core import Core
from bot.discord.chart_thread import ChartThread
from bot.discord.error_replies import tell_interaction_user, user_message_for
from bot.discord.interactions import too_late
from bot.discord.name_pick import PickButton, offer_names
from bot.discord.rate_limits import RateLimits, admitted
from bot.discord.store import Store, softly
from bot.discord.views import DYNAMIC_ITEMS
from bot.llm.queue import GenerationQueue
from bot.ops.metrics import MetricsRecorder, NullMetrics
from bot.settings import Settings

log = logging.getLogger(__name__)
EXTENSIONS = ("bot.discord.commands", "bot.discord.listener", "bot.discord.admin")
SHUTDOWN_GRACE_S = 5.0    # how long a stopping bot waits for answers under way
PRUNE_INTERVAL_S = 3600.0   # how often records past DATA_RETENTION_DAYS are deleted

MESSAGE_CONTENT_REFUSED = (
    "Discord refused the Message Content intent (gateway close code 4014). Either enable it for this bot in the "
    "Discord Developer Portal (Applications > your app > Bot > Privileged Gateway Intents > 'Message Content "
    "Intent'), or set DISCORD_MESSAGE_CONTENT=false to run without it: slash commands and @mentions still work, "
    "replies and listen-mode channels do not.")
TOKEN_REFUSED = "Discord refused the token in DISCORD_TOKEN: copy the bot token again from the Developer Portal."


class StartupError(Exception):
    """The bot cannot start; the message tells the operator what to change."""


def shard_options(settings: Settings) -> dict:
    """discord.py's `shard_count` and `shard_ids` from DISCORD_SHARD_COUNT and DISCORD_SHARD_IDS: none when unset
    (discord.py asks Discord for the count and runs every shard here). StartupError names the setting at fault."""
    count, ids = settings.discord_shard_count, settings.discord_shard_ids
    if count is None:
        if ids:
            raise StartupError("DISCORD_SHARD_IDS needs DISCORD_SHARD_COUNT: set it to the total number of shards "
                               "across every process (the same in each).")
        return {}
    if count < 1:
        raise StartupError(f"DISCORD_SHARD_COUNT must be at least 1, not {count}.")
    outside = [i for i in ids if not 0 <= i < count]
    if outside:
        raise StartupError(f"DISCORD_SHARD_IDS: with DISCORD_SHARD_COUNT={count} shard ids run from 0 to {count - 1}; "
                           f"{', '.join(map(str, outside))} is outside that.")
    if len(set(ids)) < len(ids):
        raise StartupError(f"DISCORD_SHARD_IDS lists a shard twice: {','.join(map(str, ids))}.")
    # no ids: this process runs every shard of the count
    return {"shard_count": count, "shard_ids": sorted(ids) or None}


def longest_text_option(options: list[dict]) -> tuple[str, int] | None:
    """(name, length) of the longest text option, through subcommands and groups; None without text options."""
    found: tuple[str, int] | None = None
    for option in options:
        nested = longest_text_option(option.get("options") or [])
        here = (option["name"], len(option["value"])) if isinstance(option.get("value"), str) else None
        for candidate in (nested, here):
            if candidate is not None and (found is None or candidate[1] > found[1]):
                found = candidate
    return found


def too_long_message(name: str, length: int, limit: int) -> str:
    return f"That {name} is {length:,} characters long; I take at most {limit:,}. Please shorten it."


class AnswerTree(app_commands.CommandTree):
    """Drops interactions that arrive too late to be answered, holds every command to the rate limits and every
    text option to MAX_QUESTION_CHARS before any lookup sees it, and answers every command failure politely."""

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        if too_late(interaction):
            return False
        bot: WillItRunBot = self.client      # type: ignore[assignment]
        limit = bot.settings.max_question_chars
        longest = longest_text_option((interaction.data or {}).get("options") or [])
        too_long = longest is not None and longest[1] > limit
        if interaction.type is discord.InteractionType.autocomplete:
            if too_long:                     # nothing to suggest for a wall of text; never fuzzy-match it
                await interaction.response.autocomplete([])
            return not too_long
        if not await admitted(interaction, bot.rate_limits, "question"):
            return False
        if too_long:
            await tell_interaction_user(interaction, too_long_message(*longest, limit))
            return False
        return True

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError, /) -> None:
        if await offer_names(interaction, error):     # an unknown name: the closest real ones, as buttons
            return
        await tell_interaction_user(interaction, user_message_for(error))


def build_intents(settings: Settings) -> discord.Intents:
    intents = discord.Intents.default()
    intents.message_content = settings.discord_message_content
    intents.members = False       # privileged and not needed
    intents.presences = False
    return intents


class WillItRunBot(commands.AutoShardedBot):
    prune_interval_s = PRUNE_INTERVAL_S

    def __init__(self, core: Core, store: Store, metrics: MetricsRecorder | None = None, **client_options):
        """`core` answers every question; /admin reload replaces it whole (bot.core). `client_options` go to
        discord.py's Client (tests pass guild_ready_timeout). `metrics`: where answers, feedback and the queue depth
        are counted (bot.ops.metrics; nothing by default). Raises StartupError for impossible shard settings."""
        settings = core.settings
        super().__init__(
            **shard_options(settings),
            command_prefix=commands.when_mentioned,   # unused: no prefix commands, mentions are questions
            help_command=None,
            intents=build_intents(settings),
            # bot-wide: answers quote users and model output, and must never ping @everyone, roles or users
            allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, users=False,
                                                     replied_user=settings.discord_reply_ping),
            tree_cls=AnswerTree,
            **client_options,
        )
        self.settings = settings
        self.core = core
        self.store = store
        self.metrics: MetricsRecorder = metrics or NullMetrics()
        self.queue: GenerationQueue | None = None
        self.started_at = dt.datetime.now(dt.UTC)
        self.index_reloaded_at: dt.datetime | None = None
        self._answering: set[asyncio.Task] = set()
        self.charts = ChartThread(self.draw_chart)
        self.rate_limits = RateLimits(settings)
        self._pruning: asyncio.Task | None = None

    def draw_chart(self, subject) -> bytes:
        """The chart of an answer (a sizing report's memory, what_can_i_run's options, compare's sides), as PNG bytes
        (runs on the chart thread)."""
        return answer_chart(subject)

    async def may_act_globally(self, user: discord.abc.User) -> bool:
        """Whether `user` may run what changes the bot on every server: the application's owner (or a member of
        its team), or a user listed in DISCORD_ADMIN_USER_IDS. Manage Server in one server is not enough."""
        return user.id in self.settings.discord_admin_user_ids or await self.is_owner(user)

    async def prune_regularly(self) -> None:
        """Delete records past the retention period now and every `prune_interval_s`; a failing database costs a
        log line, never the bot."""
        while True:
            days = self.settings.data_retention_days
            removed = await softly(self.store.prune, days, default={}, what="delete old records")
            if any(removed.values()):
                log.info("deleted records older than %d days: %s", days, removed)
            await asyncio.sleep(self.prune_interval_s)

    async def setup_hook(self) -> None:
        self._pruning = asyncio.create_task(self.prune_regularly(), name="willitrun-prune")
        if self.core.backend is not None:
            self.queue = GenerationQueue(self.core.backend, max_waiting=self.settings.llm_queue_max_waiting)
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        # buttons on answers sent before a restart: discord.py only knows a dynamic item once it is registered
        self.add_dynamic_items(*DYNAMIC_ITEMS, PickButton)
        if self.settings.discord_sync_commands and (self.shard_ids is None or 0 in self.shard_ids):
            # once per start, never in on_ready (which fires again after every reconnect); with the shards split
            # across processes, only the one that runs shard 0 registers the commands for all of them
            synced = await self.sync_commands()
            log.info("synced %d commands", len(synced))

    async def sync_commands(self, everywhere: bool = False) -> list[app_commands.AppCommand]:
        """Register the slash commands with Discord: in the configured guild (instant), else globally."""
        if self.settings.discord_guild_id and not everywhere:
            guild = discord.Object(id=self.settings.discord_guild_id)
            self.tree.copy_global_to(guild=guild)
            return await self.tree.sync(guild=guild)
        return await self.tree.sync()

    async def on_message(self, message: discord.Message, /) -> None:
        """No prefix commands: the listener extension decides which messages are questions."""

    async def on_ready(self) -> None:
        log.info("connected as %s to %d guild(s) on shard(s) %s of %s", self.user, len(self.guilds),
                 ",".join(map(str, sorted(self.shards))), self.shard_count)

    async def start(self, token: str, *, reconnect: bool = True) -> None:
        try:
            await super().start(token, reconnect=reconnect)
        except discord.PrivilegedIntentsRequired as exc:
            raise StartupError(MESSAGE_CONTENT_REFUSED) from exc
        except discord.LoginFailure as exc:
            raise StartupError(TOKEN_REFUSED) from exc

    @contextlib.contextmanager
    def answering(self) -> Iterator[None]:
        """Marks the current task as answering someone, so that `close` lets it finish."""
        task = asyncio.current_task()
        if task is not None:
            self._answering.add(task)
        try:
            yield
        finally:
            self._answering.discard(task)

    async def close(self) -> None:
        """Stop the model's work (an answer under way falls back to the entries' text), give answers under way a
        few seconds to be delivered, then disconnect."""
        if self.queue is not None:
            await self.queue.close()
        pending = [t for t in self._answering if t is not asyncio.current_task()]
        if pending:
            log.info("letting %d answer(s) finish before disconnecting", len(pending))
            await asyncio.wait(pending, timeout=SHUTDOWN_GRACE_S)
        if self._pruning is not None:
            self._pruning.cancel()
        self.charts.shutdown()
        await super().close()
