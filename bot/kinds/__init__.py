"""Answer kinds: one module per kind of question, each a function from the router's intent and the core to a typed
Answer (or, for knowledge, a draft the pipeline has phrased and guarded). Adding a kind means adding its module, its
renderers (bot/format.py, bot/discord/render.py) and one line in KINDS."""
from __future__ import annotations

from collections.abc import Callable

from bot.answer.schema import Answer
from bot.core import Core
from bot.kinds import (
    choose,
    clarify,
    compare,
    cost,
    finetune,
    image,
    knowledge,
    log,
    none,
    serve,
    sizing,
    unsupported,
    what_can_i_run,
)
from bot.kinds.knowledge import KnowledgeDraft
from bot.routing.schema import Route

KindAnswer = Callable[[Route, Core], "Answer | KnowledgeDraft"]

KINDS: dict[str, KindAnswer] = {
    "sizing": sizing.answer,
    "choose": choose.answer,
    "clarify": clarify.answer,
    "knowledge": knowledge.answer,
    "none": none.answer,
    "what_can_i_run": what_can_i_run.answer,
    "compare": compare.answer,
    "finetune": finetune.answer,
    "serve": serve.answer,
    "image": image.answer,
    "cost": cost.answer,
    "unsupported": unsupported.answer,
    "log": log.answer,
}

__all__ = ["KINDS", "KindAnswer", "KnowledgeDraft"]
