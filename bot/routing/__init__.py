"""The deterministic router: sizing, knowledge or none for every message, with the sizing fields it states."""
from __future__ import annotations

from bot.routing.classify import LISTEN_THRESHOLD, DomainVocabulary, Router
from bot.routing.schema import GpuRef, ModelRef, Route, SizingFields, to_sizing_request

__all__ = ["LISTEN_THRESHOLD", "DomainVocabulary", "GpuRef", "ModelRef", "Route", "Router", "SizingFields",
           "to_sizing_request"]
