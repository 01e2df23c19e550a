"""Catalogs of facts (hardware, models, quantization types) read from knowledge/catalog/."""
from bot.catalog.load import Catalog, load_catalog

__all__ = ["Catalog", "load_catalog"]
