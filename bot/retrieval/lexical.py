"""The lexical side: BM25 (bm25s) over one document per entry, with our own tokenisation (see tokens.py).

Rebuilt from the entries at start-up instead of persisted: for a few hundred entries that takes milliseconds,
and it can never be stale.
"""
from __future__ import annotations

import logging
import math

import bm25s
import numpy as np

from bot.retrieval.tokens import tokenize

logging.getLogger("bm25s").setLevel(logging.WARNING)   # it logs every index build at DEBUG through its own handler


class LexicalIndex:
    def __init__(self, entry_ids: list[str], documents: list[str]):
        self.entry_ids = entry_ids
        tokens = [tokenize(d) for d in documents]
        self.vocabularies = [frozenset(t) for t in tokens]
        document_frequency: dict[str, int] = {}
        for vocabulary in self.vocabularies:
            for t in vocabulary:
                document_frequency[t] = document_frequency.get(t, 0) + 1
        n = len(documents)
        self._idf = {t: math.log((n + 1) / (df + 0.5)) for t, df in document_frequency.items()}
        self._unknown_idf = math.log((n + 1) / 0.5)     # a word no entry uses says the most about off-topic
        self._bm25 = bm25s.BM25()
        self._bm25.index(tokens, show_progress=False)

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        known = [t for t in query_tokens if t in self._bm25.vocab_dict]
        if not known:
            return np.zeros(len(self.entry_ids), dtype=np.float32)
        return self._bm25.get_scores(known)

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        scores = self.scores(tokenize(query))
        top = np.argsort(-scores)[:k]
        return [(self.entry_ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def _weights(self, query: str) -> dict[str, float]:
        return {t: self._idf.get(t, self._unknown_idf) for t in tokenize(query) if not t.isdigit()}

    def domain_share(self, query: str) -> float:
        """The share of the query's words (idf-weighted) that the knowledge base uses at all: "nginx 502 bad gateway
        with php-fpm" is mostly words no entry has."""
        weights = self._weights(query)
        total = sum(weights.values())
        return sum(w for t, w in weights.items() if t in self._idf) / total if total else 0.0

    def coverage(self, query: str, entry_index: int) -> float:
        """The share of the query's content words that occur in an entry, weighted by how telling each word is
        (inverse document frequency; words no entry uses weigh the most): an off-topic question shares few,
        and the ones it shares ("error", "slow") are common."""
        weights = self._weights(query)
        total = sum(weights.values())
        if not total:
            return 0.0
        vocabulary = self.vocabularies[entry_index]
        return sum(w for t, w in weights.items() if t in vocabulary) / total
