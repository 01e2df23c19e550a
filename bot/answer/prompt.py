"""The prompt a model rephrases from, and clean-up of what comes back.

The model is given the numbered sources and a draft answer built from them, and asked to rewrite the draft for
the question. A tiny model (the bundled 135M) gets the draft to lean on; its output is still checked by the guard.
"""
from __future__ import annotations

import re

from bot.answer.sources import numbered_sources
from bot.kb.schema import Entry

SYSTEM = (
    "You help people run AI models on their own computers. Answer the question using only the numbered sources. "
    "Rewrite the draft answer so it answers the question directly, in at most four short sentences. Keep every "
    "number, flag and name exactly as the sources write them and add none of your own. If the sources do not "
    "answer the question, say so."
)

_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL | re.IGNORECASE)


def build_messages(question: str, entries: list[Entry], draft: str) -> list[dict[str, str]]:
    user = f"Sources:\n{numbered_sources(entries)}\n\nDraft answer:\n{draft}\n\nQuestion: {question}"
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def strip_think(text: str) -> str:
    """Reasoning models put their scratch work in <think>...</think>; users get only what follows."""
    return _THINK.sub("", text).strip()


def clean_generated(text: str) -> str:
    text = strip_think(text)
    text = re.sub(r"\[\d+(?:,\s*\d+)*\]", "", text)   # the bot attaches its own citations
    return re.sub(r"[ \t]+\n", "\n", text).strip()
