"""What every question turns into: an Answer. Adapters (Discord, the CLI) only render it.

The JSON of Answer is a public interface: keep `kind`, `text`, `sources` [{`id`, `title`}], `sizing`,
`confidence`, `fallback`, `timings`; add freely.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from bot.answer.results import BudgetRanking, Comparison, WhatCanIRun
from bot.calc.schema import CostResult, FinetuneResult, ImageResult, ServeResult
from bot.kb.schema import Entry
from bot.logs.schema import LogReading
from bot.routing.schema import SizingFields
from bot.sizing.schema import SizingReport

AnswerKind = Literal[
    "sizing",        # the sizing engine's report; text rendered from it, no model involved
    "choose",        # which hardware runs a model (no hardware named)
    "knowledge",     # from knowledge entries, phrased by the model or taken from the entries (fallback)
    "no_match",      # a knowledge question the knowledge base does not cover: closest entries offered
    "clarify",       # a sizing question missing something we must ask for (e.g. which model)
    "what_can_i_run",  # hardware in, the models that run well there out (engine)
    "compare",       # two or three setups side by side (engine)
    "finetune",      # fine-tuning memory per GPU (bot.calc.finetune)
    "serve",         # serving capacity: KV tokens, concurrency, throughput (bot.calc.serve)
    "image",         # image and video model memory (bot.calc.image)
    "cost",          # local cost against API prices, or setups ranked by price per speed for a budget
    "log",           # a pasted or attached log: its facts, the entry for its error, the sizing of its setup
    "unsupported",   # a question the bot recognizes and does not answer: one sentence and what to try instead
    "none",          # not for the bot
]


class Source(BaseModel):
    id: str
    title: str
    kind: Literal["glossary", "error"]
    url: str | None = None          # the entry's first reference, for readers who want the primary source

    @classmethod
    def of(cls, entry: Entry) -> Source:
        """An entry as answers cite it: its first reference is the link."""
        url = str(entry.meta.sources[0].url) if entry.meta.sources else None
        return cls(id=entry.id, title=entry.title, kind="error" if entry.kind == "errors" else "glossary", url=url)


class Answer(BaseModel):
    kind: AnswerKind
    text: str
    sources: list[Source] = []
    see_also: list[Source] = []     # related entries worth reading next (cited too), shown as titles to look up
    sizing: SizingReport | None = None
    recommendation: dict | None = None      # `willitrun choose` JSON for kind "choose"
    what_can_i_run: WhatCanIRun | None = None
    compare: Comparison | None = None
    finetune: FinetuneResult | None = None
    serve: ServeResult | None = None
    image: ImageResult | None = None
    cost: CostResult | None = None
    budget: BudgetRanking | None = None     # kind "cost" asked with a budget: setups ranked by price per token/s
    log: LogReading | None = None           # kind "log": what the log shows and what explains it
    asked: str | None = None        # unsupported: what the question asked for (finetune, news, licensing, ...)
    request: SizingFields | None = None     # what was sized, so a follow-up can change one field
    confidence: float = 0.0
    fallback: bool = False          # true when the text comes from the entries rather than the model
    fallback_reason: str | None = None
    model: str | None = None        # the backend that phrased the text, when one did
    generated_tokens: int | None = None  # pieces the model streamed (one per token for llama.cpp and most servers)
    timings: dict[str, float] = {}  # milliseconds per stage
