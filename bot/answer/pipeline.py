"""From a question to an Answer: route it, then size it with the engine or answer it from the knowledge base.

Sizing numbers come only from the sizing engine. Knowledge answers are drafted from the retrieved entries; a model
may rephrase the draft, and the guard throws its text away if it states a fact the entries do not. A model that
fails or times out costs the answer nothing: the draft is the answer then.

`answer()` runs everything in the caller's thread (CLI, benchmarks, tests); `answer_async()` runs the same steps
for the Discord adapter, with the model behind a GenerationQueue so one generation runs at a time.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.answer.guard import problems as guard_problems
from bot.answer.guard import unsupported_facts
from bot.answer.prompt import build_messages, clean_generated
from bot.answer.schema import Answer, Source
from bot.answer.sources import extractive_answer
from bot.catalog.load import Catalog
from bot.errors import WillItRunError
from bot.format import sizing_text
from bot.kb.schema import Entry
from bot.llm.base import LLMBackend, LLMError
from bot.routing import Router, SizingFields, to_sizing_request
from bot.routing.schema import Route
from bot.sizing.engine import SizingEngine
from bot.sizing.schema import SizingRequest

log = logging.getLogger(__name__)
MAX_SOURCES = 3
SOURCE_SCORE_SHARE = 0.75    # cite a further entry only when its fused score is this close to the best one's
MAX_NEW_TOKENS = 160
# Entries the model is shown. One for the bundled 135M model: given two it merges them into one wrong sentence
# ("Q4_K_M is a medium 5-bit recipe"); the guard checks its text against the entries it was shown, nothing more.
PROMPT_SOURCES = 1
MIN_GENERATED_CHARS = 20     # shorter than this is not an answer, whatever it says

TextCallback = Callable[[str], None]


@dataclass
class KnowledgeDraft:
    """A knowledge question after retrieval, before any model: what the answer will be built from."""
    question: str
    entries: list[Entry]          # cited: the best entry first
    prompt_entries: list[Entry]   # shown to the model; its facts must come from these
    draft: str
    confidence: float
    messages: list[dict[str, str]]
    timings: dict[str, float] = field(default_factory=dict)


def whole_sentences(text: str) -> str:
    """Text cut off by the token limit ends mid-sentence: keep what ends a sentence, if that is most of it."""
    if not text or text[-1] in ".!?`)\n":
        return text
    end = max(text.rfind(". "), text.rfind(".\n"), text.rfind("! "), text.rfind("? "))
    return text[:end + 1] if end >= len(text) // 2 else text


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 2)


def entry_full_text(entry: Entry) -> str:
    meta = entry.meta
    return "\n".join([meta.title, *meta.aliases, meta.summary, *meta.symptoms, entry.body])


class Answerer:
    def __init__(self, catalog: Catalog, retriever, backend: LLMBackend | None = None,
                 max_new_tokens: int = MAX_NEW_TOKENS, prompt_sources: int = PROMPT_SOURCES):
        self.prompt_sources = prompt_sources
        self.catalog = catalog
        self.engine = SizingEngine(catalog)
        self.retriever = retriever
        self.backend = backend
        self.max_new_tokens = max_new_tokens
        self.router = self._router()

    def _router(self) -> Router:
        """A router whose vocabulary is the knowledge base this answerer searches (KNOWLEDGE_DIR, reloads)."""
        from bot.routing.classify import DomainVocabulary, knowledge_phrases

        vocabulary = DomainVocabulary.build(self.catalog, knowledge_phrases(self.retriever.kb))
        return Router(self.catalog, knowledge_score=self.knowledge_score, vocabulary=vocabulary)

    # ---------------------------------------------------------------- routing
    def knowledge_score(self, text: str) -> float:
        """How well the knowledge base covers `text`, 0..1 (the retrieval's decision score); the router uses it
        only to break ties."""
        result = self.retriever.search(text, k=1)
        if result.evidence is None:
            return 0.0
        return 1.0 if result.evidence.exact else max(0.0, min(1.0, self.retriever.thresholds.score(result.evidence)))

    def route(self, text: str, previous: SizingFields | None = None) -> Route:
        return self.router.route(text, previous=previous)

    # ---------------------------------------------------------------- the whole pipeline
    def answer(self, question: str, previous: SizingFields | None = None, on_text: TextCallback | None = None,
               explicit: bool = True) -> Answer:
        """`explicit`: the user asked the bot directly (a command, a mention), so a message the router would
        ignore is still looked up in the knowledge base instead of being dropped."""
        start = time.perf_counter()
        route = self.route(question, previous)
        routed_ms = _ms(start)
        if route.route == "sizing":
            answer = self.answer_sizing(route.sizing, route.confidence)
        elif route.route == "knowledge" or explicit:
            draft = self.draft_knowledge(question)
            answer = draft if isinstance(draft, Answer) else self._generate(draft, on_text)
        else:
            answer = Answer(kind="none", text="", confidence=route.confidence)
        answer.timings = {"route": routed_ms, **answer.timings, "total": _ms(start)}
        return answer

    async def answer_async(self, question: str, queue, previous: SizingFields | None = None,
                           on_text: TextCallback | None = None, on_position: Callable[[int], None] | None = None,
                           explicit: bool = True) -> Answer:
        """The same answer, with the model behind `queue` (a bot.llm.queue.GenerationQueue) and the CPU-bound
        steps in worker threads so the event loop stays free."""
        start = time.perf_counter()
        route = await asyncio.to_thread(self.route, question, previous)
        routed_ms = _ms(start)
        if route.route == "sizing":
            answer = await asyncio.to_thread(self.answer_sizing, route.sizing, route.confidence)
        elif route.route == "knowledge" or explicit:
            draft = await asyncio.to_thread(self.draft_knowledge, question)
            answer = draft if isinstance(draft, Answer) else await self._generate_queued(draft, queue, on_text,
                                                                                         on_position)
        else:
            answer = Answer(kind="none", text="", confidence=route.confidence)
        answer.timings = {"route": routed_ms, **answer.timings, "total": _ms(start)}
        return answer

    # ---------------------------------------------------------------- sizing
    def answer_sizing(self, fields: SizingFields, confidence: float = 1.0) -> Answer:
        start = time.perf_counter()
        try:
            request = to_sizing_request(fields, self.catalog)
            if request.gpu is None and request.memory_gb is not None:
                request, note = self._typical_card(request)
            else:
                note = None
            if request.gpu is None and not fields.cpu_only and request.ram_gb is None:
                return self._choose(fields, request, confidence, start)
            report = self.engine.size(request)
        except WillItRunError as exc:
            return Answer(kind="clarify", text=str(exc), request=fields, confidence=confidence,
                          timings={"sizing": _ms(start)})
        if note:
            report.assumptions.insert(0, note)
        return Answer(kind="sizing", text=sizing_text(report), sizing=report, request=fields,
                      confidence=confidence, timings={"sizing": _ms(start)})

    def _typical_card(self, request: SizingRequest) -> tuple[SizingRequest, str]:
        """A card known only by its memory ("my 12gb card") is sized as the catalog's slowest NVIDIA card of that
        size: the fit is the same for any card of that size, and the speed estimate errs low."""
        gb = request.memory_gb
        cards = [h for h in self.catalog.hardware if h.kind == "gpu" and h.vendor == "nvidia" and h.memory_gb == gb]
        cards = cards or [h for h in self.catalog.hardware if h.kind == "gpu" and h.memory_gb == gb]
        if not cards:
            raise WillItRunError(f"I know no {gb:g} GB card to size with; name the card, e.g. 'rtx 3060 12gb'.")
        card = min(cards, key=lambda h: h.bandwidth_gbs or 0)
        note = (f"Sized as a {gb:g} GB {card.name}: any {gb:g} GB card fits the same; its speed is that card's "
                "estimate.")
        return request.model_copy(update={"gpu": card.id, "memory_gb": None}), note

    def _choose(self, fields: SizingFields, request: SizingRequest, confidence: float, start: float) -> Answer:
        from bot.format import choose_text
        from bot.sizing.choose import choose

        rec = choose(self.engine, request.model, quant=request.quant, context=request.context)
        return Answer(kind="choose", text=choose_text(rec), recommendation=rec.model_dump(mode="json"),
                      request=fields, confidence=confidence, timings={"sizing": _ms(start)})

    # ---------------------------------------------------------------- knowledge
    def draft_knowledge(self, question: str) -> KnowledgeDraft | Answer:
        """Retrieve and draft; an Answer of kind no_match when the knowledge base does not cover the question."""
        start = time.perf_counter()
        result = self.retriever.search(question, k=5)
        timings = {"retrieval": _ms(start)}
        kb = self.retriever.kb
        if result.declined:
            closest = [kb.entries[h.id] for h in result.results[:3]]
            names = "; ".join(e.title for e in closest)
            text = ("That is not in our knowledge base, so I won't guess." +
                    (f" The closest entries are: {names}." if names else ""))
            return Answer(kind="no_match", text=text, sources=[Source.of(e) for e in closest],
                          confidence=0.0, timings=timings)
        top = result.results[0]
        entries = [kb.entries[h.id] for h in result.results[:MAX_SOURCES]
                   if h.score >= SOURCE_SCORE_SHARE * top.score]
        confidence = 1.0 if result.evidence.exact else round(
            max(0.0, min(1.0, self.retriever.thresholds.score(result.evidence))), 3)
        shown = entries[:self.prompt_sources]
        messages = build_messages(question, shown, extractive_answer(shown))
        return KnowledgeDraft(question, entries, shown, extractive_answer(entries), confidence, messages, timings)

    def finish_knowledge(self, draft: KnowledgeDraft, generated: str | None, failure: str | None = None,
                         timings: dict[str, float] | None = None) -> Answer:
        """Check the model's text against the entries; answer from the entries when it fails the check."""
        timings = {**draft.timings, **(timings or {})}
        start = time.perf_counter()
        text = whole_sentences(clean_generated(generated or ""))
        if failure is None:
            if len(text) < MIN_GENERATED_CHARS:
                failure = "the model gave no usable text"
            else:
                found = guard_problems(text, [entry_full_text(e) for e in draft.prompt_entries], draft.question)
                if found:
                    failure = "the model's text failed the guard: " + "; ".join(found)
        timings["guard"] = _ms(start)
        sources = [Source.of(e) for e in draft.entries]
        model = self.backend.name if self.backend is not None else None
        if failure is not None:
            log.info("answering from the entries: %s", failure)
            return Answer(kind="knowledge", text=draft.draft, sources=sources, confidence=draft.confidence,
                          fallback=True, fallback_reason=failure, timings=timings)
        return Answer(kind="knowledge", text=text, sources=sources, confidence=draft.confidence,
                      model=model, timings=timings)

    def _generate(self, draft: KnowledgeDraft, on_text: TextCallback | None) -> Answer:
        if self.backend is None:
            return self.finish_knowledge(draft, None, "no language model configured")
        text = _Streamed(on_text, draft)
        try:
            with contextlib.closing(self.backend.stream(draft.messages, max_tokens=self.max_new_tokens,
                                                        temperature=0.0, cancel=threading.Event())) as stream:
                for piece in stream:
                    text.add(piece)
        except LLMError as exc:
            return self.finish_knowledge(draft, None, f"the model failed: {exc}", text.finish())
        return text.answer(self.finish_knowledge(draft, text.joined, None, text.finish()))

    async def _generate_queued(self, draft: KnowledgeDraft, queue, on_text: TextCallback | None,
                               on_position: Callable[[int], None] | None) -> Answer:
        if self.backend is None or queue is None:
            return self.finish_knowledge(draft, None, "no language model configured")
        text = _Streamed(on_text, draft)
        job = None
        try:
            job = await queue.submit(draft.messages, max_tokens=self.max_new_tokens, temperature=0.0)
            if on_position is not None:
                async for position in job.positions():
                    on_position(position)
            text.timings["queued"] = _ms(text.start)
            async with contextlib.aclosing(job.stream()) as stream:
                async for piece in stream:
                    text.add(piece)
        except LLMError as exc:
            return self.finish_knowledge(draft, None, f"the model failed: {exc}", text.finish())
        finally:
            if job is not None:       # the caller gave up (timeout, shutdown): leave the line, stop generating;
                job.cancel()          # a no-op for a job that finished
        if job.cancelled:
            return self.finish_knowledge(draft, None, "the generation was stopped before it finished",
                                         text.finish())
        return text.answer(await asyncio.to_thread(self.finish_knowledge, draft, text.joined, None, text.finish()))


class _Streamed:
    """A model's text as it streams in: the pieces, when the first came, and the caller shown each new state.

    What the caller is shown passes the fact check first: once the partial text states a number, flag or name the
    shown entry does not, previews stop (the final answer will come from the entries), so nobody reads an invented
    figure even for a second."""

    def __init__(self, on_text: TextCallback | None, draft: KnowledgeDraft):
        self.on_text = on_text
        self.sources = [entry_full_text(e) for e in draft.prompt_entries]
        self.previewing = on_text is not None
        self.start = time.perf_counter()
        self.pieces: list[str] = []
        self.timings: dict[str, float] = {}

    @property
    def joined(self) -> str:
        return "".join(self.pieces)

    def add(self, piece: str) -> None:
        if not self.pieces:
            self.timings["first_token"] = _ms(self.start)
        self.pieces.append(piece)
        if self.previewing:
            shown = clean_generated(self.joined)
            if unsupported_facts(shown, self.sources):
                self.previewing = False
            else:
                self.on_text(shown)

    def finish(self) -> dict[str, float]:
        self.timings["generation"] = _ms(self.start)
        return self.timings

    def answer(self, answer: Answer) -> Answer:
        answer.generated_tokens = len(self.pieces)
        return answer
