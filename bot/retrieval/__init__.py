"""Retrieval: find the knowledge entries that answer a question (dense + BM25, fused), or decline."""
from __future__ import annotations

import logging

from bot.settings import Settings

log = logging.getLogger(__name__)


def open_retriever(settings: Settings | None = None, force: bool = False):
    """Load the knowledge base and the embedding model, bring the index up to date, and return
    (Retriever, BuildStats). Slow the first time (the model loads in a few seconds); reuse the result."""
    from bot.kb.load import load_knowledge
    from bot.retrieval.embed import Embedder
    from bot.retrieval.search import Retriever

    settings = settings or Settings()
    kb, problems = load_knowledge(settings.knowledge_dir, required=None)
    for problem in problems:          # a bad file is skipped, named, and never hides the others
        log.warning("knowledge base: %s", problem)
    embedder = Embedder(settings.embedding_model, threads=settings.embedding_threads)
    return Retriever.open(kb, settings.index_dir, embedder, force=force)
