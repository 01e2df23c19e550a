"""The dense side: a FAISS index of passage vectors in `index/`, with a manifest that makes it incremental and safe.

Exact search (`IndexIDMap2(IndexFlatIP)` over normalised vectors = cosine): at a few thousand vectors a flat scan
takes about a millisecond, and approximate indexes only pay off from ~10^5 vectors (FAISS wiki, "Guidelines to
choose an index"). IDMap2 keeps stable ids so one changed entry is `remove_ids` + `add_with_ids`.

The manifest records the embedding model, the dimensions, each passage's content hash and the SHA-256 of the index
file. Both files are written to a temporary name and renamed, so a crash leaves the old pair or the new file with a
manifest that no longer matches it; a mismatch, a stale model or a corrupt file is detected on load and rebuilt.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np

from bot.retrieval.passages import Passage

log = logging.getLogger(__name__)
INDEX_FILE = "dense.faiss"
MANIFEST_FILE = "manifest.json"
MANIFEST_FORMAT = 1

# One thread: on 2 cores a flat scan of a few thousand vectors is faster without OpenMP's start-up cost.
faiss.omp_set_num_threads(1)


@dataclass
class BuildStats:
    reason: str                 # why the index was (re)built: "up to date", "changed entries", "no index", ...
    embedded: int = 0           # passages embedded in this build
    removed: int = 0            # passages dropped (changed or deleted)
    total: int = 0              # passages in the index afterwards
    seconds: float = 0.0
    changed_entries: list[str] = field(default_factory=list)


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class DenseIndex:
    def __init__(self, index: faiss.Index, passages: dict[int, dict], model: str, dimensions: int):
        self.index = index
        self.passages = passages          # faiss id -> {"key", "entry", "hash"}
        self._by_entry: dict[str, list[int]] | None = None    # entry id -> faiss ids, built when first needed
        self.model = model
        self.dimensions = dimensions

    @classmethod
    def empty(cls, model: str, dimensions: int) -> DenseIndex:
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimensions)), {}, model, dimensions)

    # ---------------------------------------------------------------- persistence
    @classmethod
    def load(cls, folder: Path, model: str, dimensions: int) -> tuple[DenseIndex | None, str]:
        """The saved index, or None and the reason it cannot be used as it is."""
        index_path, manifest_path = folder / INDEX_FILE, folder / MANIFEST_FILE
        if not index_path.exists() or not manifest_path.exists():
            return None, "no index"
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            data = index_path.read_bytes()
            if manifest.get("format") != MANIFEST_FORMAT:
                return None, f"manifest format {manifest.get('format')} is not {MANIFEST_FORMAT}"
            if manifest["model"] != model or manifest["dimensions"] != dimensions:
                return None, (f"built with {manifest['model']} ({manifest['dimensions']} dimensions), "
                              f"configured {model} ({dimensions})")
            if hashlib.sha256(data).hexdigest() != manifest["index_sha256"]:
                return None, f"{INDEX_FILE} does not match its manifest (interrupted write or edited file)"
            index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
            passages = {int(k): v for k, v in manifest["passages"].items()}
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            return None, f"unreadable index ({type(exc).__name__}: {exc})"
        if index.ntotal != len(passages) or index.d != dimensions:
            return None, f"index holds {index.ntotal} vectors, manifest lists {len(passages)}"
        return cls(index, passages, model, dimensions), "loaded"

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        data = faiss.serialize_index(self.index).tobytes()
        manifest = {"format": MANIFEST_FORMAT, "model": self.model, "dimensions": self.dimensions,
                    "normalized": True, "index_sha256": hashlib.sha256(data).hexdigest(),
                    "passages": {str(k): v for k, v in sorted(self.passages.items())}}
        _write_atomic(folder / INDEX_FILE, data)
        _write_atomic(folder / MANIFEST_FILE, json.dumps(manifest, indent=1).encode("utf-8"))

    # ---------------------------------------------------------------- updates
    def update(self, wanted: list[Passage], embed) -> tuple[int, int, list[str]]:
        """Make the index hold exactly `wanted`, embedding only new or changed passages.
        Returns (embedded, removed, ids of the entries that changed)."""
        self._by_entry = None
        want = {p.faiss_id: p for p in wanted}
        stale = [fid for fid, meta in self.passages.items()
                 if fid not in want or want[fid].content_hash != meta["hash"]]
        if stale:
            self.index.remove_ids(np.array(stale, dtype=np.int64))
        changed = {self.passages[fid]["entry"] for fid in stale}
        for fid in stale:
            del self.passages[fid]
        new = [p for fid, p in want.items() if fid not in self.passages]
        if new:
            vectors = embed([p.text for p in new])
            self.index.add_with_ids(vectors, np.array([p.faiss_id for p in new], dtype=np.int64))
            for p in new:
                self.passages[p.faiss_id] = {"key": p.key, "entry": p.entry_id, "hash": p.content_hash}
                changed.add(p.entry_id)
        return len(new), len(stale), sorted(changed)

    # ---------------------------------------------------------------- search
    def entry_cosine(self, vector: np.ndarray, entry_id: str) -> float:
        """The best cosine of one entry's passages to `vector` (0 when it has none in the index)."""
        if self._by_entry is None:
            self._by_entry = {}
            for fid, meta in self.passages.items():
                self._by_entry.setdefault(meta["entry"], []).append(fid)
        ids = self._by_entry.get(entry_id)
        if not ids:
            return 0.0
        vectors = np.stack([self.index.reconstruct(int(fid)) for fid in ids])
        return float((vectors @ vector).max())

    def search_entries(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Entries ranked by their best passage's cosine similarity to the query."""
        if self.index.ntotal == 0:
            return []
        n = min(self.index.ntotal, max(4 * k, 50))
        scores, ids = self.index.search(vector.reshape(1, -1), n)
        best: dict[str, float] = {}
        for score, fid in zip(scores[0], ids[0]):
            if fid < 0:
                continue
            entry = self.passages[int(fid)]["entry"]
            if entry not in best:
                best[entry] = float(score)
        return sorted(best.items(), key=lambda kv: -kv[1])[:k]


def open_dense_index(folder: Path, passages: list[Passage], embedder, force: bool = False
                     ) -> tuple[DenseIndex, BuildStats]:
    """Load the index in `folder`, bring it up to date with `passages`, and save it if anything changed."""
    start = time.perf_counter()
    index, reason = (None, "--force") if force else DenseIndex.load(folder, embedder.name, embedder.dimensions)
    if index is None:
        if reason not in ("no index", "--force"):
            log.warning("index in %s cannot be used (%s): rebuilding it", folder, reason)
        index = DenseIndex.empty(embedder.name, embedder.dimensions)
    embedded, removed, changed = index.update(passages, embedder.embed)
    if embedded or removed or reason != "loaded":
        index.save(folder)
        if reason == "loaded":
            reason = "changed entries"
    else:
        reason = "up to date"
    stats = BuildStats(reason, embedded, removed, index.index.ntotal, time.perf_counter() - start, changed)
    log.info("dense index: %s; %d embedded, %d removed, %d passages, %.2f s",
             stats.reason, embedded, removed, stats.total, stats.seconds)
    return index, stats
