"""A card known only by its memory ("my 12gb card"): sized as the catalog's slowest NVIDIA card of that size. The
fit is the same for any card of that size, and the speed estimate errs low."""
from __future__ import annotations

from bot.catalog.load import Catalog
from bot.errors import WillItRunError
from bot.sizing.schema import SizingRequest


def typical_card(request: SizingRequest, catalog: Catalog) -> tuple[SizingRequest, str]:
    """`request` with its bare memory size replaced by a catalog card, and the note that says so."""
    gb = request.memory_gb
    cards = [h for h in catalog.hardware if h.kind == "gpu" and h.vendor == "nvidia" and h.memory_gb == gb]
    cards = cards or [h for h in catalog.hardware if h.kind == "gpu" and h.memory_gb == gb]
    if not cards:
        raise WillItRunError(f"I know no {gb:g} GB card to size with; name the card, e.g. 'rtx 3060 12gb'.")
    card = min(cards, key=lambda h: h.bandwidth_gbs or 0)
    note = f"Sized as a {gb:g} GB {card.name}: any {gb:g} GB card fits the same; its speed is that card's estimate."
    return request.model_copy(update={"gpu": card.id, "memory_gb": None}), note
