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


def _words(text: str) -> list[str]:
    """Plain words: compounds ("q4_k_m", "llama.cpp") are matched through their parts."""
    return [t for t in tokenize(text) if "." not in t and "_" not in t and "-" not in t]


class NameMatcher:
    def __init__(self, kb: KnowledgeBase):
        # names by their first word, so a query is matched in time proportional to its length, not to the KB's
        self._by_first: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        for entry in kb.entries.values():
            for name in _names(entry.meta.title, entry.meta.aliases):
                words = tuple(_words(name))
                if words:
                    self._by_first.setdefault(words[0], []).append((entry.id, words))

    def match(self, query: str) -> list[tuple[str, float]]:
        """Entries named in the query, best covered first, with the share of the query's words their name covers."""
        words = _words(query)
        best: dict[str, float] = {}
        for i, word in enumerate(words):
            for entry_id, name in self._by_first.get(word, ()):
                share = len(name) / len(words)
                if tuple(words[i:i + len(name)]) == name and share > MIN_SHARE and share > best.get(entry_id, 0.0):
                    best[entry_id] = share
        return sorted(best.items(), key=lambda kv: -kv[1])
