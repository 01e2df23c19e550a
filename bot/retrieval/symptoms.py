"""Exact matching of known error strings: a pasted log that contains an entry's symptom deserves that entry.

Logs vary (paths, sizes, device numbers, extra lines), so a symptom matches when nearly all of its words occur in the
query, or when the query contains one of its distinctive identifiers (`CUDA_ERROR_OUT_OF_MEMORY`,
`hipErrorNoBinaryForGpu`) that no other entry shares.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from bot.kb.load import KnowledgeBase
from bot.retrieval.tokens import tokenize

MIN_WORDS = 3              # shorter symptoms ("Killed") are too common to count as a match on their own
MIN_COVERAGE = 0.8         # share of a symptom's words that must occur in the query
# Each alternative may start only where its first run of characters starts (the lookbehinds): a match found from
# inside a run is also found from its start, and trying every position of a long run made the search quadratic
# (half a second for 6,000 pasted characters).
_IDENTIFIER = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]+(?:_[A-Za-z0-9]+){2,}|(?<![a-z])[a-z]+(?:[A-Z][a-z0-9]+){2,}")


@dataclass(frozen=True)
class _Symptom:
    entry_id: str
    words: frozenset[str]


class SymptomMatcher:
    def __init__(self, kb: KnowledgeBase):
        self._symptoms: list[_Symptom] = []
        owners: dict[str, set[str]] = {}
        for entry in kb.entries.values():
            for text in entry.meta.symptoms:
                words = frozenset(t for t in tokenize(text) if not t.isdigit())
                if len(words) >= MIN_WORDS:
                    self._symptoms.append(_Symptom(entry.id, words))
                for ident in _IDENTIFIER.findall(text):
                    owners.setdefault(ident.lower(), set()).add(entry.id)
        # an identifier points to an entry only when it belongs to that entry alone
        self._identifiers = {ident: next(iter(ids)) for ident, ids in owners.items() if len(ids) == 1}
        self._by_prefix = self._prefix_index()

    def _prefix_index(self) -> dict[str, list[int]]:
        """Prefix filtering (Chaudhuri, Ganti & Kaushik, ICDE 2006): a query holding MIN_COVERAGE of a symptom's n
        words must hold one of its n - ceil(MIN_COVERAGE * n) + 1 rarest words, so only those are indexed. A query
        then meets few candidates, however large the knowledge base, and each is checked exactly."""
        frequency = Counter(word for s in self._symptoms for word in s.words)
        index: dict[str, list[int]] = {}
        for i, s in enumerate(self._symptoms):
            n = len(s.words)
            prefix = n - math.ceil(MIN_COVERAGE * n - 1e-9) + 1
            for word in sorted(s.words, key=lambda w: (frequency[w], w))[:prefix]:
                index.setdefault(word, []).append(i)
        return index

    def match(self, query: str) -> list[tuple[str, float]]:
        """Entries whose symptoms the query contains, with the best coverage (identifier hits count as 1.0)."""
        words = set(tokenize(query))
        best: Counter[str] = Counter()
        for ident in _IDENTIFIER.findall(query):
            entry_id = self._identifiers.get(ident.lower())
            if entry_id:
                best[entry_id] = 1.0
        candidates = {i for word in words for i in self._by_prefix.get(word, ())}
        for i in sorted(candidates):      # knowledge-base order, so ties rank the same every time
            s = self._symptoms[i]
            coverage = len(s.words & words) / len(s.words)
            if coverage >= MIN_COVERAGE and coverage > best[s.entry_id]:
                best[s.entry_id] = coverage
        return best.most_common()
