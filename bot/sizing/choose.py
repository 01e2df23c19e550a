"""The question asked backwards: which catalog hardware runs a model entirely in GPU or unified memory, and what
would let it run on less. Every number comes from the sizing engine; this module only asks it the right questions.

The JSON of Recommendation is a public interface: keep `model`, `min_memory_bytes`, `options` (with `hardware`,
`count`, `verdict`, `decode_tokens_per_s`) and `suggestions` stable, add freely.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from bot.catalog.schema import Hardware
from bot.sizing.devices import GIB, build_setup, gb
from bot.sizing.engine import SizingEngine
from bot.sizing.llamacpp import QUANT_LADDER
from bot.sizing.placement import place_all
from bot.sizing.schema import DeviceUsage, Range, SizingReport, SizingRequest, Verdict
from bot.sizing.tensors import is_quantized

# llama.cpp splits layers over any number of cards; 2 and 4 are the builds people actually put together
GPU_COUNTS = (1, 2, 4)
MAX_OPTIONS = 15
QUANTIZED_KV_TYPES = ("q8_0", "q4_0")
# the shorter context suggested when no context makes the model fit the smaller card
SUGGESTED_SHORT_CONTEXT = 4096


class HardwareOption(BaseModel):
    hardware: str = Field(description="catalog id of one device")
    name: str
    kind: Literal["gpu", "unified"] = Field(description="a discrete card, or a chip whose GPU shares system memory "
                                                        "(Apple silicon, AMD Strix Halo)")
    count: int
    memory_gb: float = Field(description="memory of one device as sold, binary GB")
    usable_bytes: int = Field(description="what the devices may use together")
    need_bytes: int = Field(description="what the model needs on them")
    release_year: int | None = None
    verdict: Verdict
    decode_tokens_per_s: Range


class SmallerCard(BaseModel):
    hardware: str
    name: str
    memory_gb: float


class Recommendation(BaseModel):
    model: str
    model_name: str
    quant: str
    context: int
    kv_cache_type: str
    min_memory_bytes: int = Field(description="GPU memory one CUDA card needs to hold every layer")
    options: list[HardwareOption]
    options_found: int = Field(description="cards and chips that run it (smallest setup of each), before the list "
                               "was cut to one per kind of setup and a readable length")
    smaller_card: SmallerCard | None = Field(default=None, description="the card the suggestions aim at")
    suggestions: list[str]


def full_offload_devices(engine: SizingEngine, request: SizingRequest, context: int) -> list[DeviceUsage]:
    """Memory per device with every layer offloaded at `context` tokens (the placement the engine's 'fits' and
    max_context tests use), sized whether or not it fits: the GPUs in llama.cpp order, then system RAM."""
    sized = engine.sized_model(request)
    setup = build_setup(request, engine.catalog)
    # the engine's KV-cache and compute-buffer model; reused, not copied, so the figures cannot drift apart
    kv, compute = engine.memory(sized, context, request)
    return place_all(sized.layout, kv, compute, setup, request.experts_in_ram).devices


def gpu_need_bytes(engine: SizingEngine, request: SizingRequest, context: int) -> int:
    """Memory the request's GPUs (or, without a GPU, system RAM) need to hold the whole model."""
    devices = full_offload_devices(engine, request, context)
    counted = devices[:-1] if request.gpu else devices[-1:]
    return sum(d.need_bytes for d in counted)


def choose(engine: SizingEngine, model: str, quant: str | None = None, context: int | None = None,
           kv_cache_type: str = "f16") -> Recommendation:
    """The hardware that runs `model` entirely in GPU or unified memory, best first, and what would fit less.

    Candidates: every discrete card alone, then 2x and 4x of it when fewer do not fit; every unified-memory chip at
    the smallest memory option that fits. Of the setups with the same number of devices, kind and memory per device
    only the fastest is listed (one line per thing to buy). Best first means the smallest setup that runs it: fewest
    devices, then least memory per device, then the highest decode speed with the context full (the engine's low
    estimate). The list is cut to MAX_OPTIONS but always keeps the single card with the least memory, the fastest
    setup and the smallest unified-memory machine, when they exist.
    """
    catalog = engine.catalog
    reference = _reference_card(catalog.hardware)
    base = SizingRequest(model=model, gpu=reference.id, quant=quant, context=context, kv_cache_type=kv_cache_type)
    # one real sizing validates the request and resolves the defaults (quantization, context) the way `size` does
    report = engine.size(base)
    base = base.model_copy(update={"model": report.model.id, "quant": report.quant, "context": report.context})
    min_memory = gpu_need_bytes(engine, base, report.context)

    found = _fitting_options(engine, base, min_memory)
    target = _smaller_card(catalog.hardware, min_memory)
    return Recommendation(
        model=report.model.id, model_name=report.model.name, quant=report.quant, context=report.context,
        kv_cache_type=report.kv_cache_type, min_memory_bytes=min_memory, options=_shortlist(found),
        options_found=len(found),
        smaller_card=SmallerCard(hardware=target.id, name=target.name, memory_gb=target.memory_gb) if target else None,
        suggestions=_suggestions(engine, base, report, target) if target else [],
    )


# -- options ------------------------------------------------------------------------------------------------------
def _reference_card(hardware: list[Hardware]) -> Hardware:
    """A CUDA card to state the minimum on: the driver overhead is backend-specific, the card's size is not used."""
    return next(h for h in hardware if h.kind == "gpu" and h.primary_backend == "cuda")


def _candidates(hardware: list[Hardware]):
    """(card, count, memory option) in the order to try: for each card or chip, fewer devices and less memory first."""
    for h in hardware:
        if h.kind == "gpu":
            yield [(h, n, h.memory_gb) for n in GPU_COUNTS]
        elif h.kind == "unified":
            yield [(h, 1, gb) for gb in sorted(h.memory_options_gb or [h.memory_gb])]


def _fitting_options(engine: SizingEngine, base: SizingRequest, min_memory: int) -> list[HardwareOption]:
    options = []
    for ladder in _candidates(engine.catalog.hardware):
        for h, count, memory_gb in ladder:
            # a setup with less memory in all than one card would need cannot hold it: skip the engine call
            if count * memory_gb * GIB < min_memory:
                continue
            request = base.model_copy(update={"gpu": h.id, "gpus": count,
                                              "memory_gb": memory_gb if h.kind == "unified" else None})
            report = engine.size(request, extras=False)
            if report.verdict == "fits":
                options.append(_option(h, count, memory_gb, report))
                break  # the smallest setup of this card or chip that fits is the one worth listing
    return options


def _option(h: Hardware, count: int, memory_gb: float, report: SizingReport) -> HardwareOption:
    on_gpus = [d for d in report.devices if d.kind != "cpu"]
    return HardwareOption(hardware=h.id, name=h.name, kind=h.kind, count=count, memory_gb=memory_gb,
                          release_year=h.release_year,
                          usable_bytes=sum(d.usable_bytes for d in on_gpus),
                          need_bytes=sum(d.need_bytes for d in on_gpus),
                          verdict=report.verdict, decode_tokens_per_s=report.decode_tokens_per_s)


def _rank(option: HardwareOption):
    speed = option.decode_tokens_per_s
    return option.count, option.memory_gb, -speed.low, -speed.high, option.name


def _speed(option: HardwareOption) -> tuple[float, float]:
    return option.decode_tokens_per_s.low, option.decode_tokens_per_s.high


def _shortlist(found: list[HardwareOption]) -> list[HardwareOption]:
    tiers: dict[tuple[int, str, float], HardwareOption] = {}
    for o in found:
        key = (o.count, o.kind, o.memory_gb)
        # equal speed: the newer card, the one still sold
        if key not in tiers or (_speed(o), o.release_year or 0) > (_speed(tiers[key]), tiers[key].release_year or 0):
            tiers[key] = o
    ranked = sorted(tiers.values(), key=_rank)
    singles = [o for o in ranked if o.count == 1 and o.kind == "gpu"]
    unified = [o for o in ranked if o.kind == "unified"]
    keep = [o for o in (singles[0] if singles else None,
                        max(ranked, key=_speed) if ranked else None,
                        unified[0] if unified else None) if o is not None]
    shown = ranked[:MAX_OPTIONS]
    for o in keep:
        if o not in shown:
            shown.remove(next(x for x in reversed(shown) if x not in keep))
            shown.append(o)
    return sorted(shown, key=_rank)


# -- suggestions --------------------------------------------------------------------------------------------------
def _smaller_card(hardware: list[Hardware], min_memory: int) -> Hardware | None:
    """The largest discrete card with less memory than the model needs (a CUDA one where there is a choice): the
    'smaller hardware' the suggestions try to reach. None when the model already fits the smallest card."""
    smaller = [h for h in hardware if h.kind == "gpu" and h.memory_gb * GIB < min_memory]
    if not smaller:
        return None
    return max(smaller, key=lambda h: (h.memory_gb, h.primary_backend == "cuda", h.bandwidth_gbs))


def _suggestions(engine: SizingEngine, base: SizingRequest, report: SizingReport, target: Hardware) -> list[str]:
    on_target = base.model_copy(update={"gpu": target.id, "gpus": 1, "memory_gb": None})
    sized = engine.sized_model(on_target)
    setup = build_setup(on_target, engine.catalog)
    usable = setup.gpus[0].usable_bytes
    card = f"a {target.memory_gb:g} GB card"
    context = report.context

    def need(**change) -> int:
        changed = on_target.model_copy(update=change)
        return gpu_need_bytes(engine, changed, change.get("context", context))

    def fit(n: int) -> str:
        return f"fits {card}" if n <= usable else f"more than {card} holds"

    out = []
    best = engine.best_quant(sized.model, setup, context, on_target)
    if best and best != report.quant:
        out.append(f"Quantization {best} instead of {report.quant}: needs {gb(need(quant=best))}, fits {card}.")
    elif best is None:
        lowest = QUANT_LADDER[-1]
        out.append(f"No common quantization fits {card} at {context:,} tokens: even {lowest} needs "
                   f"{gb(need(quant=lowest))}.")

    longest = engine.max_context(sized, setup, on_target)
    if longest is not None and longest < context:
        out.append(f"Context {longest:,} tokens instead of {context:,}: needs {gb(need(context=longest))}, "
                   f"fits {card}.")
    elif longest is None and context > SUGGESTED_SHORT_CONTEXT:
        n = need(context=SUGGESTED_SHORT_CONTEXT)
        out.append(f"Context {SUGGESTED_SHORT_CONTEXT:,} tokens instead of {context:,}: needs {gb(n)}, {fit(n)}.")

    if not is_quantized(report.kv_cache_type):
        parts = [f"{kv_type} needs {gb(n)} ({fit(n)})"
                 for kv_type, n in ((t, need(kv_cache_type=t)) for t in QUANTIZED_KV_TYPES)]
        out.append(f"KV cache quantized (llama.cpp -ctk/-ctv, flash attention on): {', '.join(parts)}.")

    if sized.model.moe is not None:
        devices = full_offload_devices(engine, on_target.model_copy(update={"experts_in_ram": True}), context)
        gpu, ram = devices[0].need_bytes, devices[-1].need_bytes
        out.append(f"Routed experts in system RAM (llama.cpp --cpu-moe): the GPU needs {gb(gpu)} ({fit(gpu)}) and "
                   f"system RAM holds {gb(ram)}; decoding slows to what RAM bandwidth allows.")
    return out
