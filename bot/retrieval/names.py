"""Questions that name an entry: "what is the kv cache?" is about the entry titled "KV cache", whatever else ranks
well. An entry's title or one of its aliases, found whole in the query and covering most of what the query asks
about, puts that entry in a ranking of its own for the fusion."""
from __future__ import annotations

import re

from bot.kb.load import KnowledgeBase
from bot.retrieval.tokens import tokenize

MIN_SHARE = 0.5     # the name must cover more than this share of the query's content words


def _names(title: str, aliases: list[str]) -> list[str]:
    # "CUDA out of memory / torch.OutOfMemoryError" and "K-quants (Q4_K_M, ...)" name the entry by each part
    parts = [p for name in [title, *aliases] for p in re.split(r"\s+/\s+|\s*\(.*?\)\s*", name)]
    return [p for p in parts if p.strip()]


class NameMatcher:
    def __init__(self, kb: KnowledgeBase):
        self._names: list[tuple[str, tuple[str, ...]]] = []
        for entry in kb.entries.values():
            for name in _names(entry.meta.title, entry.meta.aliases):
                words = tuple(t for t in tokenize(name) if "." not in t and "_" not in t and "-" not in t) \
                    or tuple(tokenize(name))
                if words:
                    self._names.append((entry.id, words))

    def match(self, query: str) -> list[tuple[str, float]]:
        """Entries named in the query, best covered first, with the share of the query's words their name covers."""
        words = [t for t in tokenize(query) if "." not in t and "_" not in t and "-" not in t]
        if not words:
            return []
        text = " " + " ".join(words) + " "
        best: dict[str, float] = {}
        for entry_id, name in self._names:
            if f" {' '.join(name)} " in text:
                share = len(name) / len(words)
                if share > MIN_SHARE and share > best.get(entry_id, 0.0):
                    best[entry_id] = share
        return sorted(best.items(), key=lambda kv: -kv[1])
