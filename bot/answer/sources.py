"""Answers built from knowledge entries themselves, and the numbered sources a model is prompted with.

The extractive answer is the default and the fallback: a glossary entry's summary, or an error entry's summary and
its first fixes. It is written by people and checked by `kb check`, so it can be shown as it is.
"""
from __future__ import annotations

import re

from bot.kb.schema import Entry

MAX_FIX_STEPS = 3


def _clean(markdown: str) -> str:
    return re.sub(r"[ \t]+", " ", markdown.replace("**", "")).strip()


def fix_steps(entry: Entry, limit: int = MAX_FIX_STEPS) -> list[str]:
    """The first numbered (or bulleted) steps of an error entry's Fixes section, one line each."""
    fixes = entry.sections.get("Fixes", "")
    steps = re.split(r"\n(?=\s*(?:\d+\.|[-*])\s)", "\n" + fixes)
    cleaned = [re.sub(r"^\s*(?:\d+\.|[-*])\s+", "", s).strip() for s in steps if s.strip()]
    return [" ".join(_clean(s).split()) for s in cleaned[:limit]]


def extractive_answer(entries: list[Entry]) -> str:
    """What the knowledge base says, in its own words: the best entry in full, a second one in a line."""
    best = entries[0]
    parts = [_clean(best.meta.summary)]
    if best.kind == "errors":
        steps = fix_steps(best)
        if steps:
            parts.append("Try:\n" + "\n".join(f"{i}. {s}" for i, s in enumerate(steps, start=1)))
    if len(entries) > 1:
        parts.append(f"See also {entries[1].title}: {_clean(entries[1].meta.summary)}")
    return "\n\n".join(parts)


def source_text(entry: Entry) -> str:
    """The part of an entry a model is shown next to the draft: its title and summary. Short on purpose: prompt
    evaluation is most of the answer time on a CPU (about 200 tokens/s for the bundled model on 2 cores)."""
    return _clean(f"{entry.title}: {entry.meta.summary}")


def numbered_sources(entries: list[Entry]) -> str:
    return "\n\n".join(f"[{i}] {source_text(e)}" for i, e in enumerate(entries, start=1))
