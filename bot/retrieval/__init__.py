"""Retrieval: find the knowledge entries that answer a question (dense + BM25, fused), or decline. The core
(bot.core) opens the index; bot.retrieval.search holds the Retriever."""
