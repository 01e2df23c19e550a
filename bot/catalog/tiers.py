"""Quality tiers of catalog models (knowledge/catalog/model_tiers.yaml): how "what can I run" ranks the models that
fit. Each tier cites the public leaderboard or benchmark it rests on; 1 is the best tier."""
from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.errors import CatalogError

Use = str    # coding | chat | reasoning | vision | roleplay
TIERS_FILE = Path("catalog") / "model_tiers.yaml"


class Tier(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    tier: int = Field(ge=1, le=9)
    uses: list[Use] = []
    evidence: str = Field(min_length=1)
    source: str = Field(min_length=1)


class Tiers(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    models: dict[str, Tier] = {}

    def of(self, model_id: str) -> Tier | None:
        return self.models.get(model_id)


def load_tiers(knowledge_dir: Path, model_ids: set[str]) -> Tiers:
    """The tiers file of `knowledge_dir` (empty tiers when there is none); an id the catalog lacks is an error
    that names the file and the id."""
    path = Path(knowledge_dir) / TIERS_FILE
    if not path.exists():
        return Tiers()
    try:
        tiers = Tiers.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except (yaml.YAMLError, ValidationError) as exc:
        raise CatalogError([f"{path}: {exc}"]) from None
    unknown = sorted(set(tiers.models) - model_ids)
    if unknown:
        raise CatalogError([f"{path}: models: '{i}' is not a catalog model id" for i in unknown])
    return tiers
