"""The one resolver: every entry point (router, CLI size/choose, engine, Discord options and autocomplete) turns
names into catalog entries here.

`hub` is an optional look-up for names the catalog does not hold (a Hugging Face config or GGUF header, cached on
disk): any object with `lookup(name, quant) -> Model | None`. Without it the resolver answers from the catalog
alone, and an unknown name gets the three closest real names.
"""
from __future__ import annotations

from functools import cached_property
from typing import Protocol

from rapidfuzz import fuzz, process

from bot.catalog.load import Catalog, normalize
from bot.catalog.schema import Model
from bot.resolve.hardware import HardwareResolution, resolve_hardware
from bot.resolve.models import ModelNames, ModelResolution, resolve_model
from bot.resolve.quants import QuantResolution, resolve_quant
from bot.routing.extract import FieldExtractor


class Hub(Protocol):
    def lookup(self, name: str, quant: str | None) -> Model | None: ...


class Resolver:
    def __init__(self, catalog: Catalog, hub: Hub | None = None):
        self.catalog = catalog
        self.hub = hub

    @cached_property
    def model_names(self) -> ModelNames:
        return ModelNames.of(self.catalog)

    @cached_property
    def extractor(self) -> FieldExtractor:
        return FieldExtractor(self.catalog)

    def model(self, name: str) -> ModelResolution:
        """The model `name` means (its quantization too when the name carries one); UnknownNameError otherwise."""
        return resolve_model(name, self.catalog, self.model_names, self.hub)

    def hardware(self, text: str) -> HardwareResolution:
        return resolve_hardware(text, self.extractor)

    def quant(self, label: str) -> QuantResolution:
        return resolve_quant(label, self.catalog)

    def complete_models(self, typed: str, limit: int = 25) -> list[tuple[str, str]]:
        """(label, value) choices for what someone has typed so far: the model it resolves to first (so a pasted
        repo id or Ollama tag autocompletes to its base), then the closest names."""
        out: list[tuple[str, str]] = []
        if typed.strip():
            try:
                r = self.model(typed)
                out.append((r.model.name if r.how in ("exact", "stripped") else f"{r.model.name} (from {typed})",
                            r.model.id))
            except Exception:   # noqa: BLE001 - autocomplete never fails, it only suggests less
                pass
        names = self.model_names
        choices = [(m.name, m.id) for m in self.catalog.models]
        if not typed.strip():
            return choices[:limit]
        query = normalize(typed)
        for key, _, _ in process.extract(query, names.keys, scorer=fuzz.WRatio, limit=limit * 3):
            m = names.exact[key]
            if (m.name, m.id) not in out:
                out.append((m.name, m.id))
            if len(out) == limit:
                break
        return out

    def complete_hardware(self, typed: str, limit: int = 25) -> list[tuple[str, str]]:
        options = [(f"{h.name} ({h.memory_gb:g} GB)", h.id) for h in self.catalog.hardware]
        if not typed.strip():
            return options[:limit]
        out: list[tuple[str, str]] = []
        try:
            r = self.hardware(typed)
            if r.hardware is not None:
                out.append((f"{r.hardware.name} ({r.memory_gb:g} GB)", r.hardware.id))
        except Exception:   # noqa: BLE001
            pass
        query = normalize(typed)
        keys = [normalize(label) + " " + normalize(value) for label, value in options]
        for _, _, i in process.extract(query, keys, scorer=fuzz.WRatio, limit=limit):
            if options[i] not in out:
                out.append(options[i])
        return out[:limit]
