"""compare: two or three setups side by side (a card, several cards, a Mac, CPU and RAM). For the model named, or
a representative 8B / 32B / 70B set: verdict, largest context and decode speed on each side; memory, bandwidth,
power and the best models each runs; and a summary of where each side wins, computed from those rows."""
from __future__ import annotations

import time

from bot.answer.results import CompareRow, CompareSideResult, Comparison, HardwareRef, ModelRef
from bot.answer.schema import Answer
from bot.core import Core
from bot.errors import InvalidRequestError, WillItRunError
from bot.format import compare_text
from bot.kinds.timing import ms_since
from bot.kinds.what_can_i_run import what_can_i_run
from bot.routing.schema import CompareSide, GpuRef, Route, SizingFields
from bot.routing.schema import ModelRef as RoutedModel
from bot.sizing.engine import DEFAULT_CONTEXT, DEFAULT_QUANT
from bot.sizing.schema import Range, SizingReport, SizingRequest

# the sizes people ask about most, as the catalog's representative models of each
REPRESENTATIVE = ("llama-3.1-8b", "qwen2.5-32b", "llama-3.3-70b")
MAX_SIDES = 3
LARGEST_SHOWN = 3


def answer(intent: Route, core: Core) -> Answer:
    start = time.perf_counter()
    try:
        result = compare(core, intent.sides[:MAX_SIDES], intent.sizing or SizingFields(), intent.use)
    except WillItRunError as exc:
        return Answer(kind="clarify", text=str(exc), request=intent.sizing, confidence=intent.confidence,
                      timings={"compare": ms_since(start)})
    return Answer(kind="compare", text=compare_text(result), compare=result, request=intent.sizing,
                  confidence=intent.confidence, timings={"compare": ms_since(start)})


def compare(core: Core, sides: list[CompareSide], fields: SizingFields, use: str | None) -> Comparison:
    if len(sides) < 2:
        raise InvalidRequestError("Compare what with what? Name two setups, e.g. '3090 vs 4060 ti 16gb' or "
                                  "'m2 ultra 192gb vs 2x 3090'.")
    models = [core.catalog.model(fields.model.id)] if fields.model else \
        [core.catalog.model(i) for i in REPRESENTATIVE]
    context = fields.context or DEFAULT_CONTEXT
    quant = fields.quant or DEFAULT_QUANT
    reports = [[_size(core, side, model.id, quant, context) for side in sides] for model in models]
    rows = [CompareRow(model=_model_ref(model), quant=quant,
                       verdicts=[r.verdict for r in row], max_context=[r.max_context for r in row],
                       decode_tokens_per_s=[r.decode_tokens_per_s for r in row])
            for model, row in zip(models, reports, strict=True)]
    results = [_side(core, side, use) for side in sides]
    return Comparison(sides=results, models=[_model_ref(m) for m in models], rows=rows,
                      summary=summary(results, rows),
                      assumptions=[f"Each model at {quant} with {context:,} tokens of context on llama.cpp; speeds "
                                   "are the engine's range (low = context full).",
                                   "Power is the catalog's board power (TDP) times the number of cards."])


def side_of(core: Core, text: str) -> CompareSide:
    """A setup as typed ("2x 3090", "m2 ultra 192gb") through the router's own reading of hardware."""
    side = core.router.side_of(text)
    if side is not None:
        return side
    hardware = core.catalog.gpu(text)          # an unknown name raises UnknownNameError with the closest names
    return CompareSide(id=hardware.id)


def compare_named(core: Core, hardware: list[str], model: str | None = None, quant: str | None = None,
                  context: int | None = None) -> Comparison:
    """`willitrun compare` and /api/v1/compare: setups and the model as people type them (at most MAX_SIDES
    setups are compared; the model defaults to a representative 8B, 32B and 70B)."""
    sides = [side_of(core, text) for text in hardware[:MAX_SIDES]]
    found = core.catalog.model(model) if model else None
    fields = SizingFields(model=RoutedModel(id=found.id, params_b=found.params_b) if found else None,
                          quant=quant, context=context)
    return compare(core, sides, fields, None)


def _model_ref(model) -> ModelRef:
    return ModelRef(id=model.id, name=model.name, params_b=model.params_b, active_params_b=model.active_b)


def _request(side: CompareSide, model: str, quant: str | None, context: int) -> SizingRequest:
    return SizingRequest(model=model, gpu=side.id, gpus=side.count, memory_gb=side.memory_gb, quant=quant,
                         context=context)


def _size(core: Core, side: CompareSide, model: str, quant: str, context: int) -> SizingReport:
    return core.engine.size(_request(side, model, quant, context))


def _side(core: Core, side: CompareSide, use: str | None) -> CompareSideResult:
    hw = core.catalog.gpu(side.id)
    per_device = side.memory_gb or hw.memory_gb
    fields = SizingFields(gpu=GpuRef(id=side.id, memory_gb=side.memory_gb), gpus=side.count)
    runs = what_can_i_run(core, fields, use)
    return CompareSideResult(
        hardware=HardwareRef(id=hw.id, name=hw.name, memory_gb=per_device, count=side.count), count=side.count,
        memory_gb=per_device * side.count, bandwidth_gbs=hw.bandwidth_gbs,
        tdp_w=hw.tdp_w * side.count if hw.tdp_w else None,
        largest_models=[f"{o.model.name} {o.quant}" for o in runs.options[:LARGEST_SHOWN]])


def _low(speed: Range | None) -> float:
    return speed.low if speed is not None else 0.0


def summary(sides: list[CompareSideResult], rows: list[CompareRow]) -> list[str]:
    """Where each side wins, from the numbers above: memory, each model's fit and speed, power."""
    names = [f"{s.count}x {s.hardware.name}" if s.count > 1 else s.hardware.name for s in sides]
    out = []
    most = max(range(len(sides)), key=lambda i: sides[i].memory_gb)
    if sum(s.memory_gb == sides[most].memory_gb for s in sides) == 1:
        out.append(f"Most memory: {names[most]} ({sides[most].memory_gb:g} GB).")
    for row in rows:
        fits = [i for i, v in enumerate(row.verdicts) if v in ("fits", "cpu_only")]
        if fits and len(fits) < len(sides):
            out.append(f"{row.model.name} runs entirely only on: {', '.join(names[i] for i in fits)}.")
        if fits:
            fastest = max(fits, key=lambda i: _low(row.decode_tokens_per_s[i]))
            if len(fits) > 1:
                out.append(f"Fastest on {row.model.name}: {names[fastest]} "
                           f"(at least {_low(row.decode_tokens_per_s[fastest]):.0f} tokens/s).")
        else:
            out.append(f"{row.model.name} runs entirely on none of them.")
    powered = [i for i, s in enumerate(sides) if s.tdp_w]
    if len(powered) == len(sides):
        least = min(powered, key=lambda i: sides[i].tdp_w)
        out.append(f"Least power: {names[least]} ({sides[least].tdp_w:g} W).")
    return out
