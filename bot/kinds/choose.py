"""choose: a model and no hardware, answered with the hardware that runs it (bot.sizing.choose)."""
from __future__ import annotations

import time

from bot.answer.schema import Answer
from bot.core import Core
from bot.errors import WillItRunError
from bot.format import choose_text
from bot.kinds.timing import ms_since
from bot.routing.schema import Route, to_sizing_request
from bot.sizing.choose import choose


def answer(intent: Route, core: Core) -> Answer:
    start = time.perf_counter()
    fields = intent.sizing
    try:
        request = to_sizing_request(fields, core.catalog)
        rec = choose(core.engine, request.model, quant=request.quant, context=request.context)
    except WillItRunError as exc:
        return Answer(kind="clarify", text=str(exc), request=fields, confidence=intent.confidence,
                      timings={"sizing": ms_since(start)})
    text = choose_text(rec)
    if fields.model is not None and fields.model.note:
        text = f"{text}\n\nAssumed: {fields.model.note}."
    return Answer(kind="choose", text=text, recommendation=rec.model_dump(mode="json"),
                  request=fields, confidence=intent.confidence, timings={"sizing": ms_since(start)})
