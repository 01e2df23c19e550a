"""What the calculator kinds (finetune, serve, image, cost) share: their catalogs (image models, dated prices) read
once per core, the hardware a message states as a catalog id, and the clarify answer when something needed is
missing."""
from __future__ import annotations

from weakref import WeakKeyDictionary

from bot.answer.schema import Answer
from bot.calc.image import ImageModels
from bot.calc.schema import PriceCatalog, load_image_catalog, load_prices
from bot.core import Core
from bot.routing.schema import CalcFields, Route, SizingFields
from bot.sizing.schema import SizingRequest
from bot.sizing.typical_card import typical_card

# A core never changes and reload() builds a new one, so each core's catalogs are read once and go with it; reading
# the YAML again costs about 17 ms, most of a calculator's 20 ms budget.
_IMAGE_MODELS: WeakKeyDictionary[Core, ImageModels] = WeakKeyDictionary()
_PRICES: WeakKeyDictionary[Core, PriceCatalog] = WeakKeyDictionary()


def image_models(core: Core) -> ImageModels:
    if core not in _IMAGE_MODELS:
        _IMAGE_MODELS[core] = ImageModels(load_image_catalog(core.settings.knowledge_dir))
    return _IMAGE_MODELS[core]


def prices(core: Core) -> PriceCatalog:
    if core not in _PRICES:
        _PRICES[core] = load_prices(core.settings.knowledge_dir)
    return _PRICES[core]


def fields_of(intent: Route) -> tuple[SizingFields, CalcFields]:
    fields = intent.sizing or SizingFields()
    return fields, fields.calc or CalcFields()


def hardware_of(core: Core, fields: SizingFields) -> tuple[str | None, int, list[str]]:
    """(catalog id or None, how many, notes): a card named by its memory alone ("my 12gb card") is the catalog's
    typical card of that size, said so."""
    gpu, count = fields.gpu, fields.gpus or 1
    if gpu is None:
        return None, count, []
    if gpu.id is not None:
        return gpu.id, count, []
    # typical_card reads only the memory; any model fills the request
    request, note = typical_card(SizingRequest(model=core.catalog.models[0].id, memory_gb=gpu.memory_gb),
                                 core.catalog)
    return request.gpu, count, [note]


def clarify(intent: Route, text: str, timing: str, ms: float = 0.0) -> Answer:
    """What to add to the question, never another kind's answer."""
    return Answer(kind="clarify", text=text, request=intent.sizing, confidence=intent.confidence,
                  timings={timing: ms})
