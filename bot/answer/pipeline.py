"""From a question to an Answer: route it, hand the intent to its kind's module, and for knowledge drafts let the
model rephrase the draft under the guard.

Numbers come only from the kinds' modules (the sizing engine). A model that fails or times out costs the answer
nothing: the draft is the answer then. `answer()` runs in the caller's thread (CLI, benchmarks, tests);
`answer_async()` runs the same steps for the Discord adapter, with the CPU-bound part in a worker thread and the
model behind a GenerationQueue so one generation runs at a time.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable

from bot.answer import guard
from bot.answer.schema import Answer, Source
from bot.answer.sources import see_also, source_links
from bot.core import Core
from bot.kb.schema import Entry
from bot.kinds import KINDS, KnowledgeDraft
from bot.kinds.timing import ms_since
from bot.llm.base import LLMError
from bot.llm.queue import GenerationQueue
from bot.routing.schema import SizingFields

log = logging.getLogger(__name__)
MAX_NEW_TOKENS = 160

TextCallback = Callable[[str], None]


def entry_full_text(entry: Entry) -> str:
    meta = entry.meta
    return "\n".join([meta.title, *meta.aliases, meta.summary, *meta.symptoms, entry.body])


def prepare(core: Core, question: str, previous: SizingFields | None = None, explicit: bool = True
            ) -> Answer | KnowledgeDraft:
    """Everything before the model: route, then the kind's module. `explicit`: the user asked the bot directly (a
    command, a mention), so a message the router would ignore is still looked up in the knowledge base."""
    start = time.perf_counter()
    intent = core.router.route(question, previous=previous)
    routed_ms = ms_since(start)
    kind = "knowledge" if intent.kind == "none" and explicit else intent.kind
    result = KINDS[kind](intent, core)
    result.timings = {"route": routed_ms, **result.timings}
    if isinstance(result, Answer):
        result.timings["total"] = ms_since(start)
    return result


def answer(core: Core, question: str, previous: SizingFields | None = None, on_text: TextCallback | None = None,
           explicit: bool = True) -> Answer:
    start = time.perf_counter()
    result = prepare(core, question, previous, explicit)
    if isinstance(result, Answer):
        return result
    return _with_total(_generate(core, result, on_text), start)


async def answer_async(core: Core, queue: GenerationQueue | None, question: str,
                       previous: SizingFields | None = None, on_text: TextCallback | None = None,
                       on_position: Callable[[int], None] | None = None, explicit: bool = True) -> Answer:
    start = time.perf_counter()
    result = await asyncio.to_thread(prepare, core, question, previous, explicit)
    if isinstance(result, Answer):
        return result
    return _with_total(await _generate_queued(core, result, queue, on_text, on_position), start)


def _with_total(answer: Answer, start: float) -> Answer:
    answer.timings["total"] = ms_since(start)
    return answer


def finish_knowledge(core: Core, draft: KnowledgeDraft, generated: str | None, failure: str | None = None,
                     timings: dict[str, float] | None = None) -> Answer:
    """The guard's verdict on the model's text decides the answer's text: the model's, or the entries' own."""
    timings = {**draft.timings, **(timings or {})}
    start = time.perf_counter()
    if failure is None:
        verdict = guard.judge(generated or "", [entry_full_text(e) for e in draft.prompt_entries], draft.question,
                              source_links(draft.prompt_entries))
        failure = verdict.reason
    timings["guard"] = ms_since(start)
    sources, related = [Source.of(e) for e in draft.entries], see_also(draft.entries)
    if failure is not None:
        log.info("answering from the entries: %s", failure)
        return Answer(kind="knowledge", text=draft.draft, sources=sources, see_also=related,
                      confidence=draft.confidence, fallback=True, fallback_reason=failure, timings=timings)
    return Answer(kind="knowledge", text=verdict.text, sources=sources, see_also=related, confidence=draft.confidence,
                  model=core.backend.name, timings=timings)


def _generate(core: Core, draft: KnowledgeDraft, on_text: TextCallback | None) -> Answer:
    if core.backend is None:
        return finish_knowledge(core, draft, None, "no language model configured")
    text = _Streamed(on_text, draft)
    try:
        with contextlib.closing(core.backend.stream(draft.messages, max_tokens=MAX_NEW_TOKENS, temperature=0.0,
                                                    cancel=threading.Event())) as stream:
            for piece in stream:
                text.add(piece)
    except LLMError as exc:
        return finish_knowledge(core, draft, None, f"the model failed: {exc}", text.finish())
    return text.answer(finish_knowledge(core, draft, text.joined, None, text.finish()))


async def _generate_queued(core: Core, draft: KnowledgeDraft, queue: GenerationQueue | None,
                           on_text: TextCallback | None, on_position: Callable[[int], None] | None) -> Answer:
    if core.backend is None or queue is None:
        return finish_knowledge(core, draft, None, "no language model configured")
    text = _Streamed(on_text, draft)
    job = None
    try:
        job = await queue.submit(draft.messages, max_tokens=MAX_NEW_TOKENS, temperature=0.0)
        if on_position is not None:
            async for position in job.positions():
                on_position(position)
        text.timings["queued"] = ms_since(text.start)
        async with contextlib.aclosing(job.stream()) as stream:
            async for piece in stream:
                text.add(piece)
    except LLMError as exc:
        return finish_knowledge(core, draft, None, f"the model failed: {exc}", text.finish())
    finally:
        if job is not None:       # the caller gave up (timeout, shutdown): leave the line, stop generating;
            job.cancel()          # a no-op for a job that finished
    if job.cancelled:
        return finish_knowledge(core, draft, None, "the generation was stopped before it finished", text.finish())
    return text.answer(await asyncio.to_thread(finish_knowledge, core, draft, text.joined, None, text.finish()))


class _Streamed:
    """A model's text as it streams in: the pieces, when the first came, and the caller shown each new state that
    the guard lets through (whole sentences only; once it stops one, previews stop)."""

    def __init__(self, on_text: TextCallback | None, draft: KnowledgeDraft):
        self.on_text = on_text
        self.sources = [entry_full_text(e) for e in draft.prompt_entries]
        self.question, self.links = draft.question, source_links(draft.prompt_entries)
        self.shown = ""
        self.previewing = on_text is not None
        self.start = time.perf_counter()
        self.pieces: list[str] = []
        self.timings: dict[str, float] = {}

    @property
    def joined(self) -> str:
        return "".join(self.pieces)

    def add(self, piece: str) -> None:
        if not self.pieces:
            self.timings["first_token"] = ms_since(self.start)
        self.pieces.append(piece)
        if self.previewing:
            shown = guard.preview(self.joined, self.sources, self.question, self.links)
            if shown is None:
                self.previewing = False
            elif shown and shown != self.shown:      # a new whole sentence passed the guard
                self.shown = shown
                self.on_text(shown)

    def finish(self) -> dict[str, float]:
        self.timings["generation"] = ms_since(self.start)
        return self.timings

    def answer(self, answer: Answer) -> Answer:
        answer.generated_tokens = len(self.pieces)
        return answer
