"""What the calculator kinds (finetune, serve, image, cost) share: the hardware a message states as a catalog id, the
answer around a calculator's result, and the clarify answer when something needed is missing. Their catalogs (image
models, dated prices) are the core's (Core.image_models, Core.prices)."""
from __future__ import annotations

from collections.abc import Callable

from bot.answer.schema import Answer
from bot.core import Core
from bot.errors import WillItRunError
from bot.kinds.timing import ms_since
from bot.routing.schema import CalcFields, Route, SizingFields
from bot.sizing.schema import SizingRequest
from bot.sizing.typical_card import typical_card


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


def calculated(intent: Route, kind: str, start: float, compute: Callable[[], object], text_of: Callable[[object], str],
               fields: SizingFields, key: str | None = None) -> Answer:
    """The calculator's answer under its kind's key (`key`: another result key, as a budget ranking's "budget"), or,
    when the calculator refuses the request, its message as a clarify answer."""
    try:
        result = compute()
    except WillItRunError as exc:
        return clarify(intent, str(exc), kind, ms_since(start))
    return Answer(kind=kind, text=text_of(result), request=fields, confidence=intent.confidence,
                  timings={kind: ms_since(start)}, **{key or kind: result})
