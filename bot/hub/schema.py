"""What a Hugging Face look-up answers (HubResult), and what the cache keeps of it (HubRecord: the raw facts, so
that a cached look-up is sized by today's code)."""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

from bot.catalog.schema import Model
from bot.sizing.weights import SizedModel


class HubResult(BaseModel):
    """A model found on the Hub. `sized` is exact (from a GGUF header) when the repo has GGUF files; otherwise None,
    and the model is sized from its architecture like a catalog entry."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    model: Model
    sized: SizedModel | None = None
    source_note: str             # "from the model's config.json on Hugging Face, fetched 2026-12-04"
    url: str                     # the repo page
    repo: str
    revision: str = "main"
    file: str | None = None      # the GGUF file read (the first shard of a split model)
    quant: str | None = None     # its file type, e.g. Q4_K_M
    fetched: date
    stale: bool = False          # served from a cache entry older than hf_cache_days (a refresh is under way)


class HubRecord(BaseModel):
    """One look-up as fetched: a config.json (with the API's parameter count) or a GGUF header."""

    kind: Literal["config", "gguf"]
    repo: str
    revision: str = "main"
    fetched: date
    config: dict | None = None
    params_total: int | None = None     # safetensors.total from /api/models/{repo}
    file: str | None = None
    header: dict | None = None          # GGUFHeader.to_json()
