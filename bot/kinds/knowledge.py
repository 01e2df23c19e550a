"""knowledge: retrieve the entries that answer the question and draft the answer from them. The pipeline then lets
the model rephrase the draft and the guard decide whether its text may replace the draft."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from bot.answer.prompt import build_messages
from bot.answer.schema import Answer, Source
from bot.answer.sources import extractive_answer
from bot.core import Core
from bot.kb.schema import Entry
from bot.kinds.timing import ms_since
from bot.routing.schema import Route

MAX_SOURCES = 3
SOURCE_SCORE_SHARE = 0.75    # cite a further entry only when its fused score is this close to the best one's


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


def answer(intent: Route, core: Core) -> KnowledgeDraft | Answer:
    """The draft, or an Answer of kind no_match when the knowledge base does not cover the question."""
    return draft_knowledge(intent.text, core)


def draft_knowledge(question: str, core: Core) -> KnowledgeDraft | Answer:
    start = time.perf_counter()
    retriever = core.retriever
    result = retriever.search(question, k=5)
    timings = {"retrieval": ms_since(start)}
    kb = retriever.kb
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
    confidence = round(retriever.coverage(result.evidence), 3)
    shown = entries[:core.settings.llm_prompt_sources]
    messages = build_messages(question, shown, extractive_answer(shown))
    return KnowledgeDraft(question, entries, shown, extractive_answer(entries), confidence, messages, timings)
