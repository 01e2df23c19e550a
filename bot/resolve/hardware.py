"""Hardware as people write it ('2x 3090', 'mac studio m2 ultra 192gb', 'a100 80gb sxm', 'raspberry pi 5 8gb',
'my 12gb card') -> a catalog entry, the memory meant and how many. The router reads hardware out of whole messages
with the same rules (bot/routing/extract.py); a name alone is a message that says only that."""
from __future__ import annotations

from dataclasses import dataclass

from bot.catalog.schema import Hardware
from bot.errors import UnknownNameError
from bot.routing.extract import FieldExtractor


@dataclass(frozen=True)
class HardwareResolution:
    hardware: Hardware | None      # None: a card known only by its memory ("my 12gb card")
    memory_gb: float
    count: int
    text: str
    notes: tuple[str, ...] = ()


def resolve_hardware(text: str, extractor: FieldExtractor) -> HardwareResolution:
    fields = extractor.extract(text).fields
    gpu = fields.gpu
    if gpu is None or gpu.memory_gb is None:
        try:
            extractor.catalog.gpu(text)
        except UnknownNameError as exc:
            raise UnknownNameError("GPU or hardware", text.strip()[:80], exc.suggestions) from None
        raise UnknownNameError("GPU or hardware", text.strip()[:80], [])
    hw = extractor.catalog.gpu(gpu.id) if gpu.id else None
    notes: tuple[str, ...] = ()
    if hw is not None and hw.kind == "gpu" and gpu.memory_gb != hw.memory_gb:
        notes = (f"{hw.name} with {gpu.memory_gb:g} GB as stated (the stock card has {hw.memory_gb:g} GB)",)
    return HardwareResolution(hw, gpu.memory_gb, fields.gpus or 1, text, notes)
