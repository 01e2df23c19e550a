"""The composition root: everything that answers questions, built once from the settings and handed to every entry
point (the CLI commands, the console, the Discord bot, health, the bench and eval scripts).

Nothing else in the project loads the catalog, the knowledge base or the search index on its own. The slow parts
(the embedding model and the index, the router's vocabulary) are built on first use, once, so that `willitrun size`
starts in a fraction of a second while the bot and `willitrun ask` share exactly the same router and retriever.

A Core never changes: `reload()` reads the knowledge folder and the catalogs again into a new Core (reusing the
loaded embedding model and language model), and the Discord bot swaps its reference to it in one assignment, so a
question in flight finishes on the core it started with.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from functools import cached_property

from bot.calc.image import ImageModels
from bot.calc.schema import PriceCatalog, load_image_catalog, load_prices
from bot.catalog.load import Catalog, load_catalog
from bot.catalog.tiers import Tiers, load_tiers
from bot.hub.client import HubClient
from bot.kb.load import KnowledgeBase, load_knowledge
from bot.llm.base import LLMBackend
from bot.llm.factory import make_backend
from bot.resolve.resolver import Resolver
from bot.retrieval.dense_index import BuildStats
from bot.retrieval.embed import Embedder
from bot.retrieval.search import Retriever
from bot.routing.classify import DomainVocabulary, Router, knowledge_phrases
from bot.settings import Settings
from bot.sizing.engine import SizingEngine

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Core:
    settings: Settings
    catalog: Catalog
    kb: KnowledgeBase
    kb_problems: tuple[str, ...] = ()
    backend: LLMBackend | None = None
    # given by reload() and by tests that share one loaded model; opened on first use otherwise
    embedder_given: Embedder | None = field(default=None, repr=False)
    retriever_given: Retriever | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @cached_property
    def resolver(self) -> Resolver:
        """Names as people type them -> catalog entries, for every entry point; a repo id the catalog lacks is read
        from Hugging Face (HF_HUB_OFFLINE=1: from the look-up cache only)."""
        return Resolver(self.catalog, hub=_HubModels(self.hub))

    @cached_property
    def engine(self) -> SizingEngine:
        return SizingEngine(self.catalog, self.resolver)

    @cached_property
    def tiers(self) -> Tiers:
        """Quality tiers of the catalog's models, for ranking what runs on some hardware."""
        return load_tiers(self.settings.knowledge_dir, {m.id for m in self.catalog.models})

    @cached_property
    def image_models(self) -> ImageModels:
        """Image and video models for the image calculator (knowledge/catalog/image_models.yaml)."""
        return ImageModels(load_image_catalog(self.settings.knowledge_dir))

    @cached_property
    def prices(self) -> PriceCatalog:
        """Dated hardware and API prices for the cost calculator and budget rankings (knowledge/catalog/prices.yaml)."""
        return load_prices(self.settings.knowledge_dir)

    @cached_property
    def hub(self) -> HubClient:
        """Hugging Face look-ups for models no catalog has (config.json, GGUF headers), cached in the data directory;
        HF_HUB_OFFLINE=1 answers from that cache alone."""
        return HubClient(self.settings, self.catalog)

    @cached_property
    def router(self) -> Router:
        """The one router: its vocabulary is this core's knowledge base, and it asks this core's retriever for a
        score where the rules need a tie broken (only then is the search index opened)."""
        vocabulary = DomainVocabulary.build(self.catalog, knowledge_phrases(self.kb))
        return Router(self.catalog, vocabulary, knowledge_score=self.knowledge_score)

    @property
    def retriever(self) -> Retriever:
        """The search index over this core's knowledge base, brought up to date on first use (a stale or corrupt
        index is rebuilt, with a log line)."""
        with self._lock:
            if "_retriever" not in self.__dict__:
                if self.retriever_given is not None:
                    self.__dict__["_retriever"] = self.retriever_given
                else:
                    self._open_index(force=False)
            return self.__dict__["_retriever"]

    def open_index(self, force: bool = False) -> BuildStats:
        """Bring the index up to date now (from scratch with `force`) and say what changed."""
        with self._lock:
            return self._open_index(force)

    def _open_index(self, force: bool) -> BuildStats:
        embedder = self.embedder_given or Embedder(self.settings.embedding_model,
                                                   threads=self.settings.embedding_threads)
        retriever, stats = Retriever.open(self.kb, self.settings.index_dir, embedder, force=force)
        self.__dict__["_retriever"] = retriever
        self.__dict__["_index_stats"] = stats
        return stats

    @property
    def index_stats(self) -> BuildStats | None:
        """How this core brought the index up to date (None when it was handed a retriever)."""
        _ = self.retriever
        return self.__dict__.get("_index_stats")

    def knowledge_score(self, text: str) -> float:
        """How well the knowledge base covers `text`, 0..1 (the retrieval's decision score)."""
        return self.retriever.coverage(self.retriever.search(text, k=1).evidence)

    def reload(self) -> Core:
        """A new core over the knowledge folder and catalogs as they are now. The embedding model and the language
        model are reused; the index is updated for what changed."""
        embedder = self.retriever.embedder if "_retriever" in self.__dict__ else self.embedder_given
        return open_core(self.settings, backend=self.backend, embedder=embedder)


class _HubModels:
    """The resolver's view of Hugging Face look-ups: the model a repo describes (a HubError says why not)."""

    def __init__(self, hub: HubClient):
        self.hub = hub

    def lookup(self, name: str, quant: str | None):
        result = self.hub.lookup(name, quant)
        return result.model if result is not None else None


_FROM_SETTINGS = object()


def open_core(settings: Settings, *, backend: LLMBackend | None | object = _FROM_SETTINGS,
              embedder: Embedder | None = None, retriever: Retriever | None = None) -> Core:
    """The core the settings describe. `backend` overrides the language model (None: answers come from the
    entries); `embedder` and `retriever` hand over parts already loaded (reload, tests)."""
    catalog = load_catalog(settings.knowledge_dir)
    if retriever is not None:
        kb, problems = retriever.kb, []
    else:
        kb, problems = load_knowledge(settings.knowledge_dir, required=None)
    for problem in problems:          # a bad file is skipped, named, and never hides the others
        log.warning("knowledge base: %s", problem)
    if backend is _FROM_SETTINGS:
        backend = make_backend(settings) if settings.llm_enabled else None
    return Core(settings, catalog, kb, tuple(problems), backend, embedder, retriever)
