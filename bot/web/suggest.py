"""Names for autocomplete: catalog models and hardware matching what someone has typed so far, best first.

A name that starts with what was typed ranks first (shortest first: "3090" -> RTX 3090 before RTX 3090 Ti), then
fuzzy matches by rapidfuzz's WRatio, the scorer the catalog's own suggestions use."""
from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field
from rapidfuzz import fuzz, process

from bot.catalog.load import Catalog, normalize

MAX_SUGGESTIONS = 20
MIN_SCORE = 60


class CatalogMatch(BaseModel):
    id: str = Field(description="catalog id: what the API and the page take as `model` or `gpu`")
    name: str
    detail: str = Field(description="a few words that tell similar names apart")


@dataclass(frozen=True)
class NameSuggester:
    matches: list[CatalogMatch]
    keys: list[str]           # normalized names, several per item
    owners: list[int]         # the item each key names

    @classmethod
    def build(cls, items: list[tuple[CatalogMatch, list[str]]]) -> NameSuggester:
        keys, owners = [], []
        for i, (_, names) in enumerate(items):
            for name in dict.fromkeys(normalize(n) for n in names):
                if name:
                    keys.append(name)
                    owners.append(i)
        return cls([m for m, _ in items], keys, owners)

    def suggest(self, typed: str, limit: int = 10) -> list[CatalogMatch]:
        limit = max(1, min(limit, MAX_SUGGESTIONS))
        key = normalize(typed)
        if not key:
            return self.matches[:limit]
        prefixed = sorted((len(k), self.owners[i]) for i, k in enumerate(self.keys) if k.startswith(key))
        chosen = list(dict.fromkeys(owner for _, owner in prefixed))
        if len(chosen) < limit:
            for _, score, i in process.extract(key, self.keys, scorer=fuzz.WRatio, limit=limit * 4):
                if score >= MIN_SCORE and self.owners[i] not in chosen:
                    chosen.append(self.owners[i])
        return [self.matches[i] for i in chosen[:limit]]


def model_suggester(catalog: Catalog) -> NameSuggester:
    return NameSuggester.build([
        (CatalogMatch(id=m.id, name=m.name, detail=f"{m.params_b:g}B parameters"), [m.id, m.name, *m.aliases])
        for m in catalog.models])


def hardware_suggester(catalog: Catalog) -> NameSuggester:
    def detail(h) -> str:
        memory = "/".join(f"{g:g}" for g in (h.memory_options_gb or [h.memory_gb]))
        return f"{memory} GB, {'unified memory' if h.kind == 'unified' else h.kind.upper()}"
    return NameSuggester.build([(CatalogMatch(id=h.id, name=h.name, detail=detail(h)), [h.id, h.name, *h.aliases])
                                for h in catalog.hardware])
