"""What a knowledge entry is: front matter validated by pydantic, and a body with the required sections."""
from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

SUMMARY_LIMIT = 300
GLOSSARY_CATEGORIES = ("concepts", "quantization", "hardware", "software")
ERROR_CATEGORIES = ("memory", "gpu-setup", "drivers", "loading", "output-quality", "performance", "downloads",
                    "networking", "containers")
SECTIONS = {
    "glossary": ("Definition", "Deeper dive", "Practical example", "Workflow example"),
    "errors": ("Symptoms", "Causes", "Fixes", "Verify"),
}


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1)
    url: HttpUrl


class SizingClaim(BaseModel):
    """A figure about a model's memory that an entry states; tests recompute it with the sizing engine."""

    model_config = ConfigDict(extra="forbid")
    model: str
    quant: str
    context: int = Field(gt=0)
    field: Literal["weights_gb", "kv_cache_gb", "total_gb"]
    value: float = Field(gt=0)


class FrontMatter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = Field(min_length=1)
    aliases: list[str] = []
    category: str
    summary: str = Field(min_length=1, max_length=SUMMARY_LIMIT)
    related: list[str] = []
    sources: list[Source] = Field(min_length=1)
    updated: dt.date
    # when the entry's commands and messages were last checked against upstream, and against which release
    verified: dt.date | None = None
    checked_against: str | None = None
    symptoms: list[str] = []
    sizing_claims: list[SizingClaim] = []


class Entry(BaseModel):
    """A validated entry: front matter plus the body split into its sections."""

    kind: Literal["glossary", "errors"]
    meta: FrontMatter
    sections: dict[str, str]
    path: str

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def title(self) -> str:
        return self.meta.title

    @property
    def body(self) -> str:
        return "\n\n".join(f"## {name}\n{text}" for name, text in self.sections.items())
