"""Answers built from knowledge entries themselves, and the numbered sources a model is prompted with.

The extractive answer is the default and the fallback: a glossary entry's summary, or an error entry's summary and
its first fixes. It is written by people and checked by `kb check`, so it can be shown as it is.
"""
from __future__ import annotations

import re

from bot.answer.schema import Source
from bot.kb.schema import Entry

MAX_FIX_STEPS = 3


def _clean(markdown: str) -> str:
    return re.sub(r"[ \t]+", " ", markdown.replace("**", "")).strip()


def fix_steps(entry: Entry, limit: int = MAX_FIX_STEPS) -> list[str]:
    """The first numbered (or bulleted) steps of an error entry's Fixes section, one line each."""
    fixes = entry.sections.get("Fixes", "")
    steps = re.split(r"\n(?=\s*(?:\d+\.|[-*])\s)", "\n" + fixes)
    cleaned = [re.sub(r"^\s*(?:\d+\.|[-*])\s+", "", s).strip() for s in steps if s.strip()]
    whole = [_whole_sentences(" ".join(_clean(s).split())) for s in cleaned]
    return [s for s in whole if s][:limit]


_SENTENCE_END = re.compile(r"[.!?][\"')\]`*]*(?=\s|$)")


def _whole_sentences(line: str) -> str:
    """A step up to its last whole sentence: one that runs on into a list or code block ("Set it for the process
    that uses the GPU:") would end the answer mid-thought; a step with no whole sentence is left out."""
    ends = [m.end() for m in _SENTENCE_END.finditer(line)]
    return line[:ends[-1]] if ends else ""


def extractive_answer(entries: list[Entry]) -> str:
    """What the knowledge base says, in its own words: the best entry's summary (and first fixes). Related entries
    are not run into the text: the answer lists them as "see also" titles (`see_also`)."""
    best = entries[0]
    parts = [_clean(best.meta.summary)]
    if best.kind == "errors":
        steps = fix_steps(best)
        if steps:
            parts.append("Try:\n" + "\n".join(f"{i}. {s}" for i, s in enumerate(steps, start=1)))
    return "\n\n".join(parts)


def see_also(entries: list[Entry]) -> list[Source]:
    """The entries after the best one, for a reader to look up next (titles, not their text)."""
    return [Source.of(e) for e in entries[1:]]


def source_links(entries: list[Entry]) -> list[str]:
    """The entries' own source URLs: the only links a model's text may carry."""
    return [str(s.url) for e in entries for s in e.meta.sources]


def source_text(entry: Entry) -> str:
    """The part of an entry a model is shown next to the draft: its title and summary. Short on purpose: prompt
    evaluation is most of the answer time on a CPU (about 200 tokens/s for the bundled model on 2 cores)."""
    return _clean(f"{entry.title}: {entry.meta.summary}")


def numbered_sources(entries: list[Entry]) -> str:
    return "\n\n".join(f"[{i}] {source_text(e)}" for i, e in enumerate(entries, start=1))
