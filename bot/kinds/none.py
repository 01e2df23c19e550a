"""none: not a question for the bot; adapters stay silent."""
from __future__ import annotations

from bot.answer.schema import Answer
from bot.core import Core
from bot.routing.schema import Route


def answer(intent: Route, core: Core) -> Answer:
    return Answer(kind="none", text="", confidence=intent.confidence)
