"""sizing: a model on stated hardware, answered by the sizing engine alone."""
from __future__ import annotations

import time

from bot.answer.schema import Answer
from bot.core import Core
from bot.errors import WillItRunError
from bot.format import sizing_text
from bot.kinds.timing import ms_since
from bot.routing.schema import Route, to_sizing_request
from bot.sizing.typical_card import typical_card


def answer(intent: Route, core: Core) -> Answer:
    start = time.perf_counter()
    fields = intent.sizing
    try:
        request = to_sizing_request(fields, core.catalog)
        note = None
        if request.gpu is None and request.memory_gb is not None:
            request, note = typical_card(request, core.catalog)
        report = core.engine.size(request)
    except WillItRunError as exc:
        return Answer(kind="clarify", text=str(exc), request=fields, confidence=intent.confidence,
                      timings={"sizing": ms_since(start)})
    if note:
        report.assumptions.insert(0, note)
    if fields.model is not None and fields.model.note:
        report.assumptions.insert(0, fields.model.note)
    return Answer(kind="sizing", text=sizing_text(report), sizing=report, request=fields,
                  confidence=intent.confidence, timings={"sizing": ms_since(start)})
