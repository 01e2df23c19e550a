"""The slash commands: /willitrun, /ask, /glossary, /error, /compare, /choosegpu.

Sizing commands answer at once from the engine (no LLM, no defer); /ask touches the model, so it defers first and
streams into the deferred response. Failures reach the tree's error handler, which answers every one politely.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Literal, Optional, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from bot.answer.schema import Source
from bot.catalog.schema import Model
from bot.discord.asking import (
    CHART_SECONDS,
    DEFERRED_CHART_SECONDS,
    answer_question,
    chart_for,
    page_url,
    position_text,
    posts_for,
    record_of,
    remember,
)
from bot.discord.error_replies import user_message_for
from bot.discord.interactions import MAX_INTERACTION_AGE_S, interaction_age
from bot.discord.render import (
    Post,
    choose_post,
    entry_post,
    sizing_post,
    sources_block,
    streaming_preview,
    text_posts,
)
from bot.discord.replies import edit_kwargs, finish_deferred, follow_up, respond, send_to_channel
from bot.discord.store import AnswerRecord, softly
from bot.discord.streaming import ThrottledEdits
from bot.discord.transformers import EntryTransformer, HardwareTransformer, ModelTransformer, QuantTransformer
from bot.discord.views import answer_view
from bot.errors import UnknownNameError
from bot.kb.schema import Entry
from bot.kinds import KINDS
from bot.routing.schema import CompareSide, GpuRef, ModelRef, Route, SizingFields
from bot.sizing.choose import choose
from bot.sizing.schema import MAX_CONTEXT, MAX_GPUS, SizingRequest

if TYPE_CHECKING:
    from bot.discord.app import WillItRunBot

log = logging.getLogger(__name__)
T = TypeVar("T")
SAFETY_S = 0.6       # kept free of the 3 s window for the response to travel
EXPIRED_CODES = {50027, 10015, 10062}   # invalid webhook token, unknown webhook, unknown interaction
GLOSSARY_TERMS = EntryTransformer("glossary")
ERROR_ENTRIES = EntryTransformer("errors")


class BuildTransformer(HardwareTransformer):
    """One setup as typed, read by the router's own hardware reading: a card, several ("2x 3090"), a Mac with its
    memory ("mac studio m2 ultra 192gb"), a CPU platform; autocompletes catalog names."""

    async def transform(self, interaction: discord.Interaction, value: str) -> CompareSide:  # type: ignore[override]
        core = interaction.client.core  # type: ignore[attr-defined]
        return core.router.side_of(value) or CompareSide(id=core.catalog.gpu(value).id)


def time_left(interaction: discord.Interaction) -> float:
    """Seconds left to send the initial response, keeping a margin for the request itself."""
    return max(0.2, MAX_INTERACTION_AGE_S - interaction_age(interaction) - SAFETY_S)


async def result_or_defer(interaction: discord.Interaction, work: Awaitable[T]) -> T:
    """`work`'s result; when it is not ready before the initial response is due, defer first, so that a busy CPU
    never costs the answer. The caller checks `interaction.response.is_done()` to know which happened."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.wait_for(asyncio.shield(task), time_left(interaction))
    except TimeoutError:
        await interaction.response.defer(thinking=True)
        return await task


async def send(interaction: discord.Interaction, posts: list[Post], view: discord.ui.View | None = None) -> list[int]:
    if interaction.response.is_done():
        return await finish_deferred(interaction, posts, view)
    return await respond(interaction, posts, view)


def expired(exc: discord.HTTPException) -> bool:
    return exc.code in EXPIRED_CODES or exc.status == 401


class InteractionExpired(Exception):
    """The interaction's token is past its 15 minutes: its response can no longer be edited."""


class PreviewEdits:
    """Edits the deferred response with the text so far; after Discord said the token expired it stops trying,
    since every refused request counts towards Cloudflare's limit on invalid requests."""

    def __init__(self, interaction: discord.Interaction):
        self.interaction = interaction
        self.token_expired = False

    async def __call__(self, text: str) -> None:
        if self.token_expired or self.interaction.is_expired():
            return
        try:
            await self.interaction.edit_original_response(content=text)
        except discord.HTTPException as exc:
            self.token_expired = expired(exc)
            raise


class AskingCommands(commands.Cog):
    def __init__(self, bot: WillItRunBot):
        self.bot = bot

    # ---------------------------------------------------------------- sizing, answered at once
    @app_commands.command(name="willitrun", description="Will this model run on that hardware? Memory, fit and "
                                                         "speed from the sizing engine.")
    @app_commands.describe(model="the model, e.g. llama 3.1 8b", gpu="GPU, Mac or CPU platform; mix cards with +",
                           gpus="how many of that GPU", quant="quantization, e.g. Q4_K_M (the model's usual one "
                           "if left out)", context="context length in tokens (default 8192)",
                           kv_cache="KV cache type (default f16)")
    async def willitrun(self, interaction: discord.Interaction,
                        model: app_commands.Transform[Model, ModelTransformer],
                        gpu: app_commands.Transform[str, HardwareTransformer],
                        gpus: app_commands.Range[int, 1, MAX_GPUS] = 1,
                        quant: Optional[app_commands.Transform[str, QuantTransformer]] = None,
                        context: Optional[app_commands.Range[int, 256, MAX_CONTEXT]] = None,
                        kv_cache: Optional[Literal["f16", "q8_0", "q4_0"]] = None) -> None:
        request = SizingRequest(model=model.id, gpu=gpu, gpus=gpus, quant=quant, context=context,
                                kv_cache_type=kv_cache or "f16")
        # the engine answers in milliseconds; only a CPU busy with other questions makes this defer
        report = await result_or_defer(interaction, asyncio.to_thread(self.bot.core.engine.size, request))
        budget = DEFERRED_CHART_SECONDS if interaction.response.is_done() else min(CHART_SECONDS,
                                                                                  time_left(interaction))
        post = sizing_post(report, *await chart_for(self.bot, report, budget))
        view = answer_view("sizing", report, request, [], self.bot.settings.public_url)
        ids = await send(interaction, [post], view=view)
        fields = SizingFields(model=ModelRef(id=model.id, params_b=model.params_b), gpu=GpuRef(id=gpu, memory_gb=None),
                              gpus=gpus, quant=quant, context=context)
        question = f"/willitrun {model.id} on {gpus}x {gpu}"
        await remember(self.bot, ids, AnswerRecord(question=question, kind="sizing", fields=fields, request=request))

    @app_commands.command(name="compare", description="Two or three setups side by side: cards, builds like "
                                                       "'2x 3090', Macs, CPU and RAM.")
    @app_commands.describe(gpu_a="first setup, e.g. '3090' or '2x 4060 ti 16gb'", gpu_b="second setup, e.g. "
                           "'mac studio m2 ultra 192gb'", gpu_c="a third setup",
                           model="the model (default: a representative 8B, 32B and 70B)")
    async def compare(self, interaction: discord.Interaction,
                      gpu_a: app_commands.Transform[CompareSide, BuildTransformer],
                      gpu_b: app_commands.Transform[CompareSide, BuildTransformer],
                      model: Optional[app_commands.Transform[Model, ModelTransformer]] = None,
                      gpu_c: Optional[app_commands.Transform[CompareSide, BuildTransformer]] = None) -> None:
        sides = [s for s in (gpu_a, gpu_b, gpu_c) if s is not None]
        fields = SizingFields(model=ModelRef(id=model.id, params_b=model.params_b) if model else None,
                              kind="compare", sides=sides)
        intent = Route(route="sizing", confidence=1.0, sizing=fields, reason="/compare", intent="compare",
                       sides=sides)
        answer = await result_or_defer(interaction, asyncio.to_thread(KINDS["compare"], intent, self.bot.core))
        budget = DEFERRED_CHART_SECONDS if interaction.response.is_done() else min(CHART_SECONDS,
                                                                                  time_left(interaction))
        ids = await send(interaction, await posts_for(self.bot, answer, budget),    # with its grouped-bar chart
                         view=answer_view("compare", None, None, [], page_url=page_url(self.bot, answer)))
        await remember(self.bot, ids, record_of("/compare", answer, self.bot.core.catalog))

    @app_commands.command(name="choosegpu", description="Which GPUs run this model entirely in GPU memory?")
    @app_commands.describe(model="the model", quant="quantization (the model's usual one if left out)",
                           context="context length in tokens (default 8192)")
    async def choosegpu(self, interaction: discord.Interaction,
                        model: app_commands.Transform[Model, ModelTransformer],
                        quant: Optional[app_commands.Transform[str, QuantTransformer]] = None,
                        context: Optional[app_commands.Range[int, 256, MAX_CONTEXT]] = None) -> None:
        rec = await result_or_defer(interaction, asyncio.to_thread(choose, self.bot.core.engine, model.id,
                                                                   quant, context))
        ids = await send(interaction, [choose_post(rec)], view=answer_view("choose", None, None, []))
        await remember(self.bot, ids, AnswerRecord(question=f"/choosegpu {model.id}", kind="choose"))

    # ---------------------------------------------------------------- the knowledge base
    @app_commands.command(name="glossary", description="Look up a term: GGUF, KV cache, offloading, ...")
    @app_commands.describe(term="the term")
    async def glossary(self, interaction: discord.Interaction,
                       term: app_commands.Transform[str, GLOSSARY_TERMS]) -> None:
        await self.look_up(interaction, term, "glossary")

    @app_commands.command(name="error", description="Look up an error message: what it means and how to fix it.")
    @app_commands.describe(text="the error message, or part of it")
    async def error(self, interaction: discord.Interaction,
                    text: app_commands.Transform[str, ERROR_ENTRIES]) -> None:
        await self.look_up(interaction, text, "errors")

    def entry_named(self, name: str, kind: str) -> Entry | None:
        """The entry `name` is the id, title or alias of (autocomplete sends ids); None when it names none."""
        kb = self.bot.core.kb
        try:
            entry = kb.find(name)
        except UnknownNameError:
            return None
        return entry if entry.kind == kind else None

    def searched_entry(self, text: str, kind: str) -> tuple[Entry | None, list[Entry]]:
        """(the entry that answers `text`, or None; the closest entries) from the retriever."""
        retriever = self.bot.core.retriever
        result = retriever.search(text, k=5)
        hits = [retriever.kb.entries[h.id] for h in result.results]
        preferred = [e for e in hits if e.kind == kind] or hits
        return (None if result.declined or not preferred else preferred[0]), hits[:3]

    def found_entry(self, text: str, kind: str) -> tuple[Entry | None, list[Entry]]:
        """The entry `text` names, else what the retriever finds. Both take time that grows with the text (a
        fuzzy match over every name, an embedding), so they run in a worker thread, never on the event loop."""
        entry = self.entry_named(text, kind)
        return (entry, []) if entry is not None else self.searched_entry(text, kind)

    async def look_up(self, interaction: discord.Interaction, text: str, kind: str) -> None:
        entry, closest = await result_or_defer(interaction, asyncio.to_thread(self.found_entry, text, kind))
        if entry is not None:
            await send(interaction, [entry_post(entry)])
            return
        names = sources_block([Source.of(e) for e in closest], "Closest entries") if closest else ""
        await send(interaction, text_posts(f"I have no entry for that, so I won't guess.\n\n{names}".strip()))
        await softly(self.bot.store.record_unanswered, text, default=0, what="count an unanswered question")

    # ---------------------------------------------------------------- anything else: through the whole pipeline
    @app_commands.command(name="ask", description="Ask anything about running models locally.")
    @app_commands.describe(question="your question, e.g. 'will llama 3.1 70b fit on two 3090s?'")
    async def ask(self, interaction: discord.Interaction, question: str) -> None:
        # the command tree has already held the question to MAX_QUESTION_CHARS and the asker to the rate limits
        with self.bot.answering():
            await self.answer_deferred(interaction, question)

    async def answer_deferred(self, interaction: discord.Interaction, question: str) -> None:
        await interaction.response.defer(thinking=True)
        previews = PreviewEdits(interaction)
        editor: ThrottledEdits[str] = ThrottledEdits(previews, interval=self.bot.settings.discord_edit_interval_s)
        try:
            answer = await answer_question(
                self.bot, question, explicit=True,
                on_text=lambda text: editor.push(streaming_preview(text)),
                on_position=lambda position: editor.push(position_text(position)) if position > 0 else None)
            posts = await posts_for(self.bot, answer) or text_posts("I have nothing to add to that.")
            record = record_of(question, answer, self.bot.core.catalog)
            view = answer_view(answer.kind, answer.sizing, record.request, answer.sources,
                               self.bot.settings.public_url, page_url(self.bot, answer))
        except Exception as exc:
            posts, view, record = text_posts(user_message_for(exc)), None, None
        await self.deliver(interaction, editor, previews, posts, view, record)

    async def deliver(self, interaction: discord.Interaction, editor: ThrottledEdits, previews: PreviewEdits,
                      posts: list[Post], view: discord.ui.View | None, record: AnswerRecord | None) -> None:
        """The final edit of the deferred response and the followups; when Discord no longer accepts them (the
        token lives 15 minutes), the answer goes to the channel instead of being lost."""
        first, *rest = posts
        ids: list[int] = []

        async def final_edit(post: Post) -> None:
            if previews.token_expired or interaction.is_expired():   # a refused edit only counts against us
                raise InteractionExpired()
            message = await interaction.edit_original_response(**edit_kwargs(post, view if not rest else None))
            ids.append(message.id)

        try:
            await editor.finish(first, edit=final_edit)
            ids += await follow_up(interaction, rest, view)
        except (InteractionExpired, discord.HTTPException) as exc:
            gone = isinstance(exc, InteractionExpired) or expired(exc)
            if not gone or interaction.channel is None:
                raise
            log.warning("the interaction expired before the answer was ready; posting it in the channel")
            note = Post(content=f"The answer to {interaction.user.mention}'s /ask took longer than Discord lets me "
                                "edit the reply, so here it is:")
            ids += (await send_to_channel(interaction.channel, [note, *posts], view))[1:]
        if record is not None:
            await remember(self.bot, ids, record)


async def setup(bot: WillItRunBot) -> None:
    await bot.add_cog(AskingCommands(bot))
    # the calculators' commands build on this module's helpers; loaded by name, so neither imports the other back
    await bot.load_extension("bot.discord.calculator_commands")
