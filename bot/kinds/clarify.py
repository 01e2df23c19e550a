"""clarify: a sizing question that misses what it cannot do without (which model), or names a GPU the catalog does
not have, answered with what to add: the closest real names."""
from __future__ import annotations

from bot.answer.schema import Answer
from bot.core import Core
from bot.errors import UnknownNameError
from bot.routing.schema import Route, missing_model_message
from bot.text import echo


def unknown_gpu_message(typed: str, core: Core) -> str:
    try:
        hw = core.catalog.gpu(typed)     # a name the catalog knows after all (said in another word order)
        return f"Did you mean {hw.name}? Ask again with that name."
    except UnknownNameError as e:
        closest = f" Closest: {', '.join(e.suggestions)}." if e.suggestions else ""
        return f"I don't know a GPU called '{echo(typed)}'.{closest} Ask again with one of them."


def answer(intent: Route, core: Core) -> Answer:
    fields = intent.sizing
    if fields is not None and fields.model is not None and fields.gpu is None and fields.unknown_gpu:
        text = unknown_gpu_message(fields.unknown_gpu, core)
    else:
        text = missing_model_message(fields)
    return Answer(kind="clarify", text=text, request=fields, confidence=intent.confidence, timings={"sizing": 0.0})
