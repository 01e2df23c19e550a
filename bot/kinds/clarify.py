"""clarify: a sizing question that misses what it cannot do without (which model), answered with what to add."""
from __future__ import annotations

from bot.answer.schema import Answer
from bot.core import Core
from bot.routing.schema import Route, missing_model_message


def answer(intent: Route, core: Core) -> Answer:
    return Answer(kind="clarify", text=missing_model_message(intent.sizing), request=intent.sizing,
                  confidence=intent.confidence, timings={"sizing": 0.0})
