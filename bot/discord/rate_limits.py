"""Rate limits on every way in: channel questions, slash commands and buttons, per person and per server.

Someone over a limit is told to slow down once per window; what they send after that in the same window is ignored
without a word, because every reply to spam is more spam (and more requests against Discord's limits). Slash
commands and buttons must still be acknowledged within 3 s, or the person's client shows "The application did not
respond", so `acknowledge_silently` acknowledges them in the quietest way Discord allows (see there).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import discord

from bot.discord.error_replies import cooldown_message, tell_interaction_user
from bot.settings import Settings

log = logging.getLogger(__name__)
Door = Literal["question", "button"]     # questions and commands share a limit; clicks have their own
GUILD_WINDOW_S = 60.0
MAX_KEYS = 10_000                        # forget expired windows once this many are held


class Windows:
    """At most `rate` uses per `per` seconds for each key, in windows that start at a key's first use."""

    def __init__(self, rate: int, per: float, clock: Callable[[], float]):
        self.rate = rate
        self.per = per
        self._clock = clock
        self._windows: dict[object, tuple[float, int]] = {}

    def use(self, key: object) -> float | None:
        """Count one use of `key`: None when it is allowed, else the seconds until its window ends."""
        if self.rate <= 0 or self.per <= 0:
            return None
        now = self._clock()
        start, used = self._windows.get(key, (now, 0))
        if now - start >= self.per:
            start, used = now, 0
        if used >= self.rate:
            return start + self.per - now
        self._windows[key] = (start, used + 1)
        if len(self._windows) > MAX_KEYS:
            self._windows = {k: w for k, w in self._windows.items() if now - w[0] < self.per}
        return None


@dataclass(frozen=True)
class Verdict:
    retry_after: float | None = None   # None: go ahead
    tell: bool = False                 # refused, and the first refusal of this person in this window

    @property
    def allowed(self) -> bool:
        return self.retry_after is None


class RateLimits:
    """Per person (one question or command per DISCORD_COOLDOWN_S, one click per DISCORD_BUTTON_COOLDOWN_S) and
    per server (DISCORD_GUILD_MAX_PER_MINUTE for everything together)."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._per_user = {"question": Windows(1, settings.discord_cooldown_s, clock),
                          "button": Windows(1, settings.discord_button_cooldown_s, clock)}
        self._per_guild = Windows(settings.discord_guild_max_per_minute, GUILD_WINDOW_S, clock)
        self._told_until: dict[tuple[str, int], float] = {}

    def check(self, user_id: int, guild_id: int | None, door: Door = "question") -> Verdict:
        """Whether `user_id` may go ahead now (and counts it); when not, whether to tell them."""
        retry = self._per_user[door].use(user_id)
        if retry is None and guild_id is not None:
            retry = self._per_guild.use(guild_id)
        if retry is None:
            return Verdict()
        return Verdict(retry, tell=self._first_refusal((door, user_id), retry))

    def _first_refusal(self, key: tuple[str, int], retry: float) -> bool:
        now = self._clock()
        if now < self._told_until.get(key, float("-inf")):
            return False
        self._told_until[key] = now + retry
        if len(self._told_until) > MAX_KEYS:
            self._told_until = {k: t for k, t in self._told_until.items() if t > now}
        return True


async def admitted(interaction: discord.Interaction, limits: RateLimits, door: Door) -> bool:
    """True when `interaction` is within the limits; otherwise it is acknowledged, with a one-line "slow down"
    seen only by the person the first time in a window and silently after that, and False."""
    verdict = limits.check(interaction.user.id, interaction.guild_id, door)
    if verdict.allowed:
        return True
    if verdict.tell:
        await tell_interaction_user(interaction, cooldown_message(verdict.retry_after or 0))
    else:
        await acknowledge_silently(interaction)
    return False


async def acknowledge_silently(interaction: discord.Interaction) -> None:
    """Acknowledge an interaction without answering it. A click: a deferred update (type 6), which changes
    nothing anyone sees. A slash command cannot take that type (Discord refuses it for commands); the quietest it
    allows is an ephemeral defer (type 5, seen only by the person, as "thinking…") deleted at once. Both use the
    interaction endpoints, which Discord does not count against the bot's global rate limit."""
    try:
        if interaction.type is discord.InteractionType.component:
            await interaction.response.defer()
        else:
            await interaction.response.defer(ephemeral=True, thinking=True)
            await interaction.delete_original_response()
    except discord.HTTPException as exc:
        log.debug("could not acknowledge a rate-limited interaction: %s", exc)
