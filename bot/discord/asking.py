"""The steps every way of asking shares (/ask, a mention, a reply, a listen-mode channel, a button): get the Answer
from the core within a time limit, render it (with a chart for sizing answers), and remember what it was about."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.answer.pipeline import answer_async
from bot.answer.schema import Answer
from bot.catalog.load import Catalog
from bot.charts import ChartSubject, answer_chart_alt
from bot.discord.render import Post, chart_report, render_answer, sizing_post
from bot.discord.store import AnswerRecord, softly
from bot.errors import WillItRunError
from bot.permalinks import answer_permalink
from bot.routing.schema import SizingFields, to_sizing_request
from bot.sizing.schema import SizingReport, SizingRequest

if TYPE_CHECKING:
    from bot.discord.app import WillItRunBot

log = logging.getLogger(__name__)
CHART_SECONDS = 1.5    # a chart that takes longer (a busy CPU) is left out rather than miss the 3 s deadline
DEFERRED_CHART_SECONDS = 10.0   # when no deadline is near (channel answers, deferred responses)


def position_text(position: int) -> str:
    return f"You're #{position} in line for the model; your answer will appear here."


async def answer_question(bot: WillItRunBot, question: str, *, previous: SizingFields | None = None,
                          on_text: Callable[[str], None] | None = None,
                          on_position: Callable[[int], None] | None = None, explicit: bool = True) -> Answer:
    """The core's Answer, cut off after `discord_answer_timeout_s` (TimeoutError): an interaction token lives 15
    minutes, and a question stuck behind a busy model must not outlive it."""
    # without a language model bot.queue is None and the answer comes from the entries; the core is read once, so
    # an /admin reload during the answer does not mix two cores
    work = answer_async(bot.core, bot.queue, question, previous=previous, on_text=on_text,
                        on_position=on_position, explicit=explicit)
    if bot.queue is not None:
        bot.metrics.set_queue_depth(bot.queue.waiting + 1)
    try:
        answer = await asyncio.wait_for(work, bot.settings.discord_answer_timeout_s)
    finally:
        if bot.queue is not None:
            bot.metrics.set_queue_depth(bot.queue.waiting)
    bot.metrics.record_answer(answer)
    return answer


async def chart_for(bot: WillItRunBot, report: ChartSubject, budget_s: float = CHART_SECONDS
                    ) -> tuple[bytes | None, str | None]:
    """The memory chart and its alt text, or (None, None) when it cannot be drawn within `budget_s` (see
    chart_thread: one chart at a time, and a slow one holds no other answer up)."""
    png = await bot.charts.draw(report, budget_s)
    return (png, answer_chart_alt(report)) if png is not None else (None, None)


def page_url(bot: WillItRunBot, answer: Answer) -> str | None:
    """The web page of a what_can_i_run or compare answer, for its "Open in calculator" link (PUBLIC_URL)."""
    public_url = bot.settings.public_url
    return answer_permalink(public_url, answer, bot.core.catalog) if public_url else None


async def posts_for(bot: WillItRunBot, answer: Answer, chart_budget_s: float = DEFERRED_CHART_SECONDS
                    ) -> list[Post]:
    report = chart_report(answer)
    if report is not None:
        return render_answer(answer, *await chart_for(bot, report, chart_budget_s))
    return render_answer(answer)


async def sized_post(bot: WillItRunBot, request: SizingRequest, chart_budget_s: float = CHART_SECONDS
                     ) -> tuple[SizingReport, Post]:
    """Size `request` with the engine (raises WillItRunError for the user) and render it with its chart."""
    report = await asyncio.to_thread(bot.core.engine.size, request)
    return report, sizing_post(report, *await chart_for(bot, report, chart_budget_s))


def record_of(question: str, answer: Answer, catalog: Catalog) -> AnswerRecord:
    """What to remember of an answer. The engine's request is kept only when it names the hardware: a card known
    by its memory alone was sized as a typical card, and re-sizing it needs the question again."""
    request = None
    if answer.kind == "sizing" and answer.request is not None:
        try:
            request = to_sizing_request(answer.request, catalog)
        except WillItRunError:     # the answer is shown either way; only "try another" needs the request
            request = None
        if request is not None and request.gpu is None and request.memory_gb is not None:
            request = None
    return AnswerRecord(question=question, kind=answer.kind, fields=answer.request, request=request,
                        sources=answer.sources)


async def remember(bot: WillItRunBot, message_ids: list[int], record: AnswerRecord) -> None:
    """Remember `record` for every message of an answer, so replies and buttons on any of them can use it. Called
    after the answer is posted, so a failing database costs a log line, never a second reply."""
    for message_id in message_ids:
        await softly(bot.store.remember_answer, message_id, record, default=None, what="remember an answer")
    if record.kind == "no_match":
        await softly(bot.store.record_unanswered, record.question, default=0, what="count an unanswered question")
