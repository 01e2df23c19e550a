"""What gets embedded and what BM25 indexes: the text people will search with, per entry.

Dense side: several short passages per entry (title with aliases, summary, each pasted symptom string on its own,
the first section of the body), because a pasted traceback is closest to one symptom string, not to a whole entry.
An entry scores the best of its passages. Lexical side: one document per entry with all of that text.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from bot.kb.load import KnowledgeBase
from bot.kb.schema import Entry

FIRST_SECTION_CHARS = 600   # MiniLM reads 256 word pieces; the opening of the first section carries the gist


@dataclass(frozen=True)
class Passage:
    key: str          # stable: "<entry id>#<part>", e.g. "cuda-out-of-memory#symptom-2"
    entry_id: str
    text: str

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:16]

    @property
    def faiss_id(self) -> int:
        """A stable non-negative int64 id for FAISS, derived from the key (63 bits: FAISS ids are signed)."""
        return int.from_bytes(hashlib.blake2b(self.key.encode(), digest_size=8).digest(), "big") >> 1


def _strip_markdown(text: str) -> str:
    text = re.sub(r"`([^`]*)`", r"\1", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[*_#>]{2,}|\s+", " ", text).strip()


def entry_passages(entry: Entry) -> list[Passage]:
    meta = entry.meta
    parts = [("title", "; ".join([meta.title, *meta.aliases])), ("summary", meta.summary)]
    parts += [(f"symptom-{i}", s) for i, s in enumerate(meta.symptoms)]
    if entry.sections:
        first = next(iter(entry.sections.values()))
        parts.append(("body", f"{meta.title}: {_strip_markdown(first)[:FIRST_SECTION_CHARS]}"))
    return [Passage(f"{meta.id}#{part}", meta.id, text) for part, text in parts if text.strip()]


def entry_document(entry: Entry) -> str:
    """Everything BM25 should match on for one entry. Title and aliases twice: they name the subject."""
    meta = entry.meta
    names = " ".join([meta.title, *meta.aliases])
    return " ".join([names, names, meta.summary, *meta.symptoms, _strip_markdown(entry.body)])


def all_passages(kb: KnowledgeBase) -> list[Passage]:
    return [p for entry in kb.entries.values() for p in entry_passages(entry)]
