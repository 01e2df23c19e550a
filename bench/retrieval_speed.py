"""Retrieval speed (`make bench`): query latency, index build times and resident memory, measured on this machine.

- Real size: the knowledge base as it is; query latency is one whole `Retriever.search` (query embedding, FAISS,
  BM25, symptom match, fusion, decline decision) over the dev-set questions.
- Full build: every passage embedded into a fresh index in a temporary folder; incremental: one entry's summary
  changed, then the index brought up to date (load, compare hashes, remove, embed, atomic save), model loaded.
- 100,000 synthetic entries: texts sampled from the real vocabulary with the real passage count per entry; their
  vectors are random unit vectors (embedding 400k passages would take hours on 2 cores, and an exact flat scan
  costs the same whatever the vectors hold). The query is still embedded by the real model.
Targets: p95 <= 25 ms at real size, <= 60 ms at 100k; incremental rebuild of one entry <= 2 s.
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.retrieval_eval import load_questions
from bot.core import open_core
from bot.kb.load import KnowledgeBase
from bot.kb.schema import Entry, FrontMatter
from bot.retrieval.dense_index import DenseIndex, open_dense_index
from bot.retrieval.embed import Embedder
from bot.retrieval.passages import Passage, all_passages
from bot.retrieval.search import Retriever
from bot.retrieval.tokens import tokenize
from bot.settings import Settings


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def latency(retriever: Retriever, queries: list[str]) -> tuple[float, float]:
    for q in queries[:5]:                      # warm-up: first calls allocate
        retriever.search(q)
    times = []
    for q in queries:
        start = time.perf_counter()
        retriever.search(q)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def synthetic_kb(n: int, real: KnowledgeBase, rng: random.Random) -> KnowledgeBase:
    """n entries whose words follow the real knowledge base's word frequencies; like the real one, about a third
    are error entries with three pasted symptom strings each."""
    words = [t for e in real.entries.values() for t in tokenize(e.body) if t.isalpha()]
    today = dt.date(2026, 12, 1)
    entries = {}
    for i in range(n):
        text = " ".join(rng.choices(words, k=160))
        error = i % 3 == 0
        symptoms = [" ".join(rng.choices(words, k=8)) for _ in range(3)] if error else []
        meta = FrontMatter.model_construct(id=f"synthetic-{i}", title=" ".join(rng.choices(words, k=3)),
                                           aliases=[], category="concepts", summary=text[:280], related=[],
                                           sources=[], updated=today, symptoms=symptoms, sizing_claims=[])
        entries[meta.id] = Entry.model_construct(kind="errors" if error else "glossary", meta=meta,
                                                 sections={"Definition": text}, path=f"synthetic/{meta.id}.md")
    return KnowledgeBase(entries)


def synthetic_dense(kb: KnowledgeBase, passages_per_entry: float, dimensions: int, model: str,
                    rng: np.random.Generator) -> DenseIndex:
    index = DenseIndex.empty(model, dimensions)
    keys = [(entry_id, j) for entry_id in kb.entries for j in range(int(rng.poisson(passages_per_entry)) + 1)]
    for start in range(0, len(keys), 50_000):
        chunk = keys[start:start + 50_000]
        vectors = rng.standard_normal((len(chunk), dimensions)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        passages = [Passage(f"{e}#p{j}", e, "") for e, j in chunk]
        index.index.add_with_ids(vectors, np.array([p.faiss_id for p in passages], dtype=np.int64))
        for p in passages:
            index.passages[p.faiss_id] = {"key": p.key, "entry": p.entry_id, "hash": ""}
    return index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=int, default=100_000, help="entries in the large run (0 to skip)")
    args = parser.parse_args(argv)
    settings = Settings()
    questions, off_topic = load_questions()
    queries = [q.text for q in questions] + off_topic
    failed = []

    rss_start = rss_mib()
    start = time.perf_counter()
    embedder = Embedder(settings.embedding_model, threads=settings.embedding_threads)
    load_s = time.perf_counter() - start
    kb = open_core(settings, backend=None).kb
    passages = all_passages(kb)
    print(f"retrieval speed: {len(kb.entries)} entries, {len(passages)} passages, {len(queries)} queries; "
          f"embedding model loaded in {load_s:.1f} s")

    with tempfile.TemporaryDirectory() as tmp:
        _, full = open_dense_index(Path(tmp), passages, embedder, force=True)
        entry = next(iter(kb.entries.values()))
        changed = [Passage(p.key, p.entry_id, p.text + " (edited)") if p.key == f"{entry.id}#summary" else p
                   for p in passages]
        _, incremental = open_dense_index(Path(tmp), changed, embedder)
    print(f"  full build: {full.total} passages in {full.seconds:.2f} s; "
          f"incremental (one entry changed, {incremental.embedded} passage re-embedded): {incremental.seconds:.3f} s "
          f"(target <= 2 s)")
    failed += [] if incremental.seconds <= 2 else ["incremental build"]

    retriever, _ = Retriever.open(kb, settings.index_dir, embedder)
    p50, p95 = latency(retriever, queries)
    print(f"  real size: query p50 {p50:.1f} ms, p95 {p95:.1f} ms (target p95 <= 25 ms); "
          f"resident memory {rss_mib():.0f} MiB ({rss_mib() - rss_start:.0f} MiB for model and index)")
    failed += [] if p95 <= 25 else ["p95 at real size"]

    if args.synthetic:
        start = time.perf_counter()
        big_kb = synthetic_kb(args.synthetic, kb, random.Random(0))
        dense = synthetic_dense(big_kb, len(passages) / len(kb.entries) - 1, embedder.dimensions, embedder.name,
                                np.random.default_rng(0))
        big = Retriever(big_kb, embedder, dense)
        setup_s = time.perf_counter() - start
        p50, p95 = latency(big, queries)
        print(f"  {args.synthetic:,} synthetic entries ({dense.index.ntotal:,} vectors, set up in {setup_s:.0f} s): "
              f"query p50 {p50:.1f} ms, p95 {p95:.1f} ms (target p95 <= 60 ms); "
              f"resident memory {rss_mib():.0f} MiB")
        failed += [] if p95 <= 60 else ["p95 at 100k"]
    print("all retrieval speed targets met" if not failed else f"targets missed: {', '.join(failed)}")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
