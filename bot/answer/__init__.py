"""Answering: question in, Answer out (routing, sizing, retrieval, an optional model, the guard)."""
from __future__ import annotations

from bot.settings import Settings


def build_answerer(settings: Settings | None = None, use_llm: bool = True):
    """Everything an Answerer needs, from the settings: catalog, retriever (index brought up to date), and the
    LLM backend unless `use_llm` is off or LLM_ENABLED=false (then answers come from the entries)."""
    from bot.answer.pipeline import Answerer
    from bot.catalog.load import load_catalog
    from bot.llm.factory import make_backend
    from bot.retrieval import open_retriever

    settings = settings or Settings()
    retriever, _ = open_retriever(settings)
    backend = make_backend(settings) if use_llm and settings.llm_enabled else None
    return Answerer(load_catalog(settings.knowledge_dir), retriever, backend,
                    prompt_sources=settings.llm_prompt_sources)
