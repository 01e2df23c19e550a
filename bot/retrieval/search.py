"""Hybrid search over the knowledge base: dense (FAISS) and lexical (BM25) rankings fused by reciprocal rank
fusion, a boost for pasted error strings, and a calibrated "no good match" decision.

RRF: score(e) = sum over rankings of w / (K + rank), K = 60 (Cormack, Clarke & Buettcher, SIGIR 2009). It needs no
score calibration between the two sides, which is why it is the usual default for hybrid search.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from bot.kb.load import KnowledgeBase
from bot.retrieval.dense_index import BuildStats, DenseIndex, open_dense_index
from bot.retrieval.embed import Embedder
from bot.retrieval.lexical import LexicalIndex
from bot.retrieval.names import NameMatcher
from bot.retrieval.passages import all_passages, entry_document
from bot.retrieval.symptoms import SymptomMatcher

log = logging.getLogger(__name__)
RRF_K = 60
CANDIDATES = 30           # taken from each side before fusing
EXACT_WEIGHT = 2.0        # a pasted symptom outranks an entry both sides merely like
NAME_WEIGHT = 1.0         # a question that names an entry counts like one more side ranking it first


@dataclass(frozen=True)
class Thresholds:
    """When the best match is good enough to answer from: a pasted symptom always is; otherwise a weighted sum of
    the top hit's cosine, the share of the query's words it holds and the share the knowledge base knows at all
    must reach `minimum`. Calibrated on tests/eval/questions.yaml with `python -m bench.retrieval_eval
    --calibrate` (most off-topic questions declined while at most 3 % of in-scope ones are)."""
    word_weight: float = 0.1
    domain_weight: float = 0.15
    minimum: float = 0.44

    def score(self, evidence: Evidence) -> float:
        return evidence.cosine + self.word_weight * evidence.words + self.domain_weight * evidence.domain

    def accepts(self, evidence: Evidence) -> bool:
        return evidence.exact or evidence.named or self.score(evidence) >= self.minimum


class Evidence(BaseModel):
    """What the decline decision sees about the top hit."""
    exact: bool         # the query contains one of its symptom strings
    named: bool = False  # the query names it (its title or an alias covers most of the query)
    cosine: float       # its best passage's cosine similarity to the query
    words: float        # share of the query's words (idf-weighted) that occur in it
    domain: float       # share of the query's words (idf-weighted) that occur anywhere in the knowledge base


class SearchHit(BaseModel):
    id: str
    kind: Literal["glossary", "error"]
    title: str
    score: float                      # fused score (higher is better)
    sides: list[Literal["dense", "bm25", "exact", "name"]]
    dense: float | None = None        # best passage cosine similarity
    bm25: float | None = None


class SearchResult(BaseModel):
    query: str
    declined: bool                    # true when nothing is a good enough match to answer from
    results: list[SearchHit]
    evidence: Evidence | None = None  # about the top hit
    timings_ms: dict[str, float] = {}


class Retriever:
    def __init__(self, kb: KnowledgeBase, embedder: Embedder, dense: DenseIndex,
                 thresholds: Thresholds = Thresholds()):
        self.kb = kb
        self.embedder = embedder
        self.dense = dense
        self.thresholds = thresholds
        ids = list(kb.entries)
        self.lexical = LexicalIndex(ids, [entry_document(kb.entries[i]) for i in ids])
        self._position = {entry_id: i for i, entry_id in enumerate(ids)}
        self.symptoms = SymptomMatcher(kb)
        self.names = NameMatcher(kb)

    @classmethod
    def open(cls, kb: KnowledgeBase, index_dir: Path, embedder: Embedder, force: bool = False
             ) -> tuple[Retriever, BuildStats]:
        dense, stats = open_dense_index(index_dir, all_passages(kb), embedder, force=force)
        return cls(kb, embedder, dense), stats

    # ---------------------------------------------------------------- the three rankings
    def coverage(self, evidence: Evidence | None) -> float:
        """How well the knowledge base covers a query, 0..1: 1 for a pasted error string of an entry, else the
        decision score clamped (the router breaks ties with it; answers report it as confidence)."""
        if evidence is None:
            return 0.0
        return 1.0 if evidence.exact else max(0.0, min(1.0, self.thresholds.score(evidence)))

    def bm25_ranking(self, query: str, k: int = CANDIDATES) -> list[tuple[str, float]]:
        return self.lexical.search(query, k)

    def search(self, query: str, k: int = 5, mode: Literal["hybrid", "dense", "bm25"] = "hybrid") -> SearchResult:
        t0 = time.perf_counter()
        vector = self.embedder.embed_query(query)
        dense = self.dense.search_entries(vector, CANDIDATES) if mode != "bm25" else []
        t1 = time.perf_counter()
        bm25 = self.bm25_ranking(query) if mode != "dense" else []
        exact = self.symptoms.match(query) if mode == "hybrid" else []
        named = self.names.match(query) if mode == "hybrid" else []
        fused = fuse([(dense, 1.0), (bm25, 1.0), (exact, EXACT_WEIGHT), (named, NAME_WEIGHT)])
        t2 = time.perf_counter()

        dense_scores, bm25_scores = dict(dense), dict(bm25)
        exact_ids, named_ids = {e for e, _ in exact}, {e for e, _ in named}
        hits = []
        for entry_id, score in fused[:k]:
            entry = self.kb.entries[entry_id]
            sides = [name for name, found in (("dense", dense_scores), ("bm25", bm25_scores), ("exact", exact_ids),
                                              ("name", named_ids)) if entry_id in found]
            hits.append(SearchHit(id=entry_id, kind="error" if entry.kind == "errors" else "glossary",
                                  title=entry.title, score=round(score, 5), sides=sides,
                                  dense=_round(dense_scores.get(entry_id)), bm25=_round(bm25_scores.get(entry_id))))
        evidence = self._evidence(query, vector, hits[0], exact_ids, named_ids) if hits else None
        if evidence is None:
            declined = True
        else:
            declined = not self.thresholds.accepts(evidence)
        timings = {"embed_and_dense": (t1 - t0) * 1000, "bm25_and_fusion": (t2 - t1) * 1000,
                   "total": (time.perf_counter() - t0) * 1000}
        return SearchResult(query=query, declined=declined, results=hits, evidence=evidence,
                            timings_ms={name: round(ms, 2) for name, ms in timings.items()})

    def _evidence(self, query: str, vector, top: SearchHit, exact_ids: set[str], named_ids: set[str]) -> Evidence:
        # found by BM25 alone: its cosine from its own passages' vectors
        cosine = top.dense if top.dense is not None else self.dense.entry_cosine(vector, top.id)
        return Evidence(exact=top.id in exact_ids, named=top.id in named_ids, cosine=round(cosine, 4),
                        words=round(self.lexical.coverage(query, self._position[top.id]), 4),
                        domain=round(self.lexical.domain_share(query), 4))


def fuse(rankings: list[tuple[list[tuple[str, float]], float]]) -> list[tuple[str, float]]:
    """Reciprocal rank fusion of (ranking, weight) pairs; each ranking is best first."""
    scores: dict[str, float] = {}
    for ranking, weight in rankings:
        for rank, (entry_id, _) in enumerate(ranking, start=1):
            scores[entry_id] = scores.get(entry_id, 0.0) + weight / (RRF_K + rank)
    return sorted(scores.items(), key=lambda kv: -kv[1])


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
