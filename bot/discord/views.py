"""Buttons under answers: feedback (up / down), "show sources", and on sizing answers "try another quantization or
context". They are dynamic items: the custom id says everything the button does (`alt:quant:Q5_K_M`), and what the
answer was about comes from the store by message id, so buttons keep working after a restart and no view has to
stay in memory per message."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import discord

from bot.discord.asking import remember, sized_post
from bot.discord.error_replies import tell_interaction_user, user_message_for
from bot.discord.interactions import too_late
from bot.discord.rate_limits import admitted
from bot.discord.render import sources_detail_posts
from bot.discord.replies import respond
from bot.discord.store import AnswerRecord, softly
from bot.permalinks import sizing_permalink
from bot.sizing.schema import SizingReport, SizingRequest
from bot.sizing.tensors import is_quantized

if TYPE_CHECKING:
    from bot.discord.app import WillItRunBot

log = logging.getLogger(__name__)
MIN_HALVED_CONTEXT = 1024
QUANTIZED_KV = "q8_0"
FORGOTTEN = "I no longer remember what this answer was about; please ask again."


def _bot(interaction: discord.Interaction) -> WillItRunBot:
    return interaction.client  # type: ignore[return-value]


async def _guarded(interaction: discord.Interaction, action: Callable[[], Awaitable[None]]) -> None:
    """discord.py only logs what a button callback raises; the user gets told instead."""
    try:
        await action()
    except Exception as exc:
        await tell_interaction_user(interaction, user_message_for(exc))


async def _record(interaction: discord.Interaction) -> AnswerRecord | None:
    """What the clicked answer was about; None when it is not known (or the database cannot say)."""
    if interaction.message is None:
        return None
    return await softly(_bot(interaction).store.answer_record, interaction.message.id, default=None,
                        what="read what an answer was about")


class _TimelyItem(discord.ui.DynamicItem[discord.ui.Button], template=r"^$"):
    """Drops clicks that reach us too late to be answered (see interactions.MAX_INTERACTION_AGE_S), and holds
    clicks to the rate limits (per person and per server)."""

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        if too_late(interaction):
            return False
        return await admitted(interaction, _bot(interaction).rate_limits, "button")


class FeedbackButton(_TimelyItem, template=r"fb:(?P<vote>up|down)"):
    def __init__(self, vote: str):
        emoji = "👍" if vote == "up" else "👎"
        super().__init__(discord.ui.Button(style=discord.ButtonStyle.secondary, emoji=emoji, custom_id=f"fb:{vote}",
                                           row=0))
        self.vote = vote

    @classmethod
    async def from_custom_id(cls, interaction, item, match, /):
        return cls(match["vote"])

    async def callback(self, interaction: discord.Interaction) -> None:
        async def vote() -> None:
            record = await _record(interaction)
            counts = await asyncio.to_thread(
                _bot(interaction).store.record_feedback, interaction.message.id, interaction.user.id, self.vote,
                record.question if record else None, record.kind if record else None)
            _bot(interaction).metrics.record_feedback(self.vote == "up")
            await interaction.response.send_message(
                f"Thanks for the feedback! This answer so far: 👍 {counts.up} · 👎 {counts.down}", ephemeral=True)

        await _guarded(interaction, vote)


class SourcesButton(_TimelyItem, template=r"src"):
    def __init__(self):
        super().__init__(discord.ui.Button(style=discord.ButtonStyle.secondary, label="Show sources",
                                           custom_id="src", row=0))

    @classmethod
    async def from_custom_id(cls, interaction, item, match, /):
        return cls()

    async def callback(self, interaction: discord.Interaction) -> None:
        async def show() -> None:
            record = await _record(interaction)
            if record is None:
                await interaction.response.send_message(FORGOTTEN, ephemeral=True)
                return
            kb = _bot(interaction).core.kb
            entries = [kb.entries[s.id] for s in record.sources if s.id in kb.entries]
            await respond(interaction, sources_detail_posts(entries), ephemeral=True)

        await _guarded(interaction, show)


VARIANT_FIELDS = {"quant": "quant", "context": "context", "kv": "kv_cache_type"}


class VariantButton(_TimelyItem, template=r"alt:(?P<field>quant|context|kv):(?P<value>[A-Za-z0-9_.\-]+)"):
    """Re-size the answer's request with one thing changed; the new answer is shown to the one who clicked."""

    def __init__(self, field: str, value: str):
        label = {"quant": f"Try {value}", "context": f"Try {int(value):,} tokens" if value.isdigit() else value,
                 "kv": f"KV cache {value}"}[field]
        super().__init__(discord.ui.Button(style=discord.ButtonStyle.primary, label=label,
                                           custom_id=f"alt:{field}:{value}", row=1))
        self.field = field
        self.value = value

    @classmethod
    async def from_custom_id(cls, interaction, item, match, /):
        return cls(match["field"], match["value"])

    def changed(self, request: SizingRequest) -> SizingRequest:
        value: str | int = int(self.value) if self.field == "context" else self.value
        return request.model_copy(update={VARIANT_FIELDS[self.field]: value})

    async def callback(self, interaction: discord.Interaction) -> None:
        async def resize() -> None:
            record = await _record(interaction)
            if record is None or record.request is None:
                await interaction.response.send_message(FORGOTTEN, ephemeral=True)
                return
            request = self.changed(record.request)
            report, post = await sized_post(_bot(interaction), request)
            view = answer_view(record.kind, report, request, [], _bot(interaction).settings.public_url)
            ids = await respond(interaction, [post], view=view, ephemeral=True)
            await remember(_bot(interaction), ids, record.model_copy(update={"request": request}))

        await _guarded(interaction, resize)


DYNAMIC_ITEMS = (FeedbackButton, SourcesButton, VariantButton)


def variant_buttons(report: SizingReport) -> list[VariantButton]:
    """The cheapest changes worth trying: the quantization that fits best, half the context, a q8_0 KV cache."""
    out = []
    if report.best_quant and report.best_quant != report.quant:
        out.append(VariantButton("quant", report.best_quant))
    if report.context >= 2 * MIN_HALVED_CONTEXT:
        out.append(VariantButton("context", str(report.context // 2)))
    if not is_quantized(report.kv_cache_type):
        out.append(VariantButton("kv", QUANTIZED_KV))
    return out


LINK_URL_LIMIT = 512    # Discord refuses a whole message whose link button has a longer url (50035)


def calculator_button(public_url: str | None, request: SizingRequest) -> discord.ui.Button | None:
    """The "Open in calculator" link to the web page that answers the same request (bot.permalinks), when
    PUBLIC_URL says where the page is and the page can ask the same."""
    return link_button(sizing_permalink(public_url, request) if public_url else None)


def link_button(url: str | None) -> discord.ui.Button | None:
    if url is None or len(url) > LINK_URL_LIMIT:
        return None
    return discord.ui.Button(style=discord.ButtonStyle.link, url=url, label="Open in calculator", row=0)


def answer_view(kind: str, report: SizingReport | None, request: SizingRequest | None, sources: list,
                public_url: str | None = None, page_url: str | None = None) -> discord.ui.View | None:
    """The buttons for one answer; None for answers that only ask something back. `public_url` (PUBLIC_URL):
    where the web calculator is, for a link to it; `page_url`: the page of a what_can_i_run or compare answer
    (bot.permalinks.answer_permalink)."""
    if kind in ("none", "clarify"):
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(FeedbackButton("up"))
    view.add_item(FeedbackButton("down"))
    if sources:
        view.add_item(SourcesButton())
    if report is not None and request is not None:
        if (link := calculator_button(public_url, request)) is not None:
            view.add_item(link)
        for button in variant_buttons(report):
            view.add_item(button)
    elif (link := link_button(page_url)) is not None:
        view.add_item(link)
    return view
