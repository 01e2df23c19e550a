"""what_can_i_run: hardware in, the best models that run well there out, ranked.

"Run well" means: entirely in GPU or unified memory (or, without a GPU, entirely in system RAM, said so), at the
asked context (8k by default), at the highest quantization that fits but never below Q3, at a decode speed of at
least 10 tokens/s by the engine's low estimate. Ranked by the quality tier the catalog records per model (each
tier cites a leaderboard, knowledge/catalog/model_tiers.yaml), then by speed. Every number comes from the engine.
"""
from __future__ import annotations

import time

from bot.answer.results import HardwareRef, ModelRef, RunOption, WhatCanIRun
from bot.answer.schema import Answer
from bot.catalog.schema import Hardware, Model
from bot.core import Core
from bot.errors import WillItRunError
from bot.format import what_can_i_run_text
from bot.kinds.timing import ms_since
from bot.routing.schema import GpuRef, Route, SizingFields, to_sizing_request
from bot.routing.schema import ModelRef as RoutedModel
from bot.sizing.devices import DEFAULT_RAM_GIB, build_setup
from bot.sizing.engine import DEFAULT_CONTEXT
from bot.sizing.llamacpp import QUANT_LADDER
from bot.sizing.schema import SizingReport, SizingRequest
from bot.sizing.typical_card import typical_card

MIN_DECODE_TOKENS_PER_S = 10.0
LOWEST_QUANT = "Q3_K_S"                      # "never below Q3 unless asked"
LADDER = QUANT_LADDER[:QUANT_LADDER.index(LOWEST_QUANT) + 1]
SHOWN = 8
MIN_OFFLOAD_TOKENS_PER_S = 3.0               # "bigger if you accept offload": still readable as it streams
RUNS_ENTIRELY = ("fits", "cpu_only")
UNTIERED = 99                                # models with no recorded tier rank last


def answer(intent: Route, core: Core) -> Answer:
    start = time.perf_counter()
    try:
        result = what_can_i_run(core, intent.sizing or SizingFields(), intent.use)
    except WillItRunError as exc:
        return Answer(kind="clarify", text=str(exc), request=intent.sizing, confidence=intent.confidence,
                      timings={"what_can_i_run": ms_since(start)})
    return Answer(kind="what_can_i_run", text=what_can_i_run_text(result), what_can_i_run=result,
                  request=intent.sizing, confidence=intent.confidence, timings={"what_can_i_run": ms_since(start)})


def for_hardware(core: Core, gpu: str | None, gpus: int | None = None, memory_gb: float | None = None,
                 ram_gb: float | None = None, use: str | None = "any", context: int | None = None) -> WhatCanIRun:
    """`willitrun whatcanirun` and /api/v1/whatcanirun: hardware as people name it (None = CPU only, with `ram_gb`);
    an unknown name raises UnknownNameError with the closest names."""
    hw = core.catalog.gpu(gpu) if gpu else None
    fields = SizingFields(gpu=GpuRef(id=hw.id, memory_gb=memory_gb) if hw else None, gpus=gpus, context=context,
                          ram_gb=ram_gb, cpu_only=hw is None)
    return what_can_i_run(core, fields, use)


def base_request(core: Core, fields: SizingFields) -> tuple[SizingRequest, list[str]]:
    """The hardware part of a sizing request for what the message states (a bare "12gb card" becomes a typical
    card of that size, said so)."""
    probe = SizingFields(model=None, gpu=fields.gpu, gpus=fields.gpus, context=fields.context,
                         ram_gb=fields.ram_gb, cpu_only=fields.cpu_only)
    if probe.gpu is None and probe.ram_gb is None and not probe.cpu_only:
        raise WillItRunError("Which hardware? Name the card, Mac or CPU and RAM, e.g. 'rtx 3060 12gb', 'm2 max 64gb' "
                             "or 'cpu only with 64gb ram'.")
    anchor = core.catalog.models[0]
    request = to_sizing_request(probe.model_copy(update={"model": RoutedModel(id=anchor.id, params_b=anchor.params_b)}),
                                core.catalog)
    notes = []
    if request.gpu is None and request.memory_gb is not None:
        request, note = typical_card(request, core.catalog)
        notes.append(note)
    return request.model_copy(update={"context": fields.context or DEFAULT_CONTEXT, "quant": None}), notes


def what_can_i_run(core: Core, fields: SizingFields, use: str | None) -> WhatCanIRun:
    request, notes = base_request(core, fields)
    setup = build_setup(request, core.catalog)
    devices = setup.gpus or [setup.host]
    usable = sum(d.usable_bytes for d in devices)
    bandwidth = max(d.bandwidth_gbs for d in devices)
    use = use or "any"
    bits = {q: _bits_per_weight(core, q) for m in core.catalog.models for q in _quants(m)}
    options, offload = [], []
    # best tier and largest first: once SHOWN options are found, no later model can outrank them
    for model in sorted(core.catalog.models, key=lambda m: (_tier_number(core, m), -m.params_b)):
        tier = core.tiers.of(model.id)
        tags = list(tier.uses) if tier else []
        if use != "any" and use not in tags:
            continue
        if len(options) >= SHOWN and (_tier_number(core, model), -model.params_b) > \
                (options[-1].tier or UNTIERED, -options[-1].model.params_b):
            break
        if _too_slow(model, bits[LOWEST_QUANT], bandwidth):
            continue
        report = _best_fit(core, model, request, usable, bits)
        if report is not None:
            options.append(_option(report, model, tags, tier))
        elif report is None and setup.gpus:
            offload.append(model)
    options.sort(key=_rank)
    shown = options[:SHOWN]
    bigger = _bigger_with_offload(core, request, offload, shown, tags_of=lambda m: core.tiers.of(m.id))
    hw = core.catalog.gpu(request.gpu) if request.gpu else None
    notes += [f"Runs well: entirely in {'GPU or unified memory' if setup.gpus else 'system RAM'} at "
              f"{request.context:,} tokens of context, at least {MIN_DECODE_TOKENS_PER_S:g} tokens/s by the engine's "
              f"low estimate, at the highest quantization that fits and never below {LOWEST_QUANT}.",
              "Ranked by the quality tier recorded per model (knowledge/catalog/model_tiers.yaml, each citing a "
              "public leaderboard), then by speed."]
    if not setup.gpus:
        notes.append("No GPU: every option runs in system RAM on the CPU.")
    return WhatCanIRun(
        # the count is a field of its own: "2x" is not part of the name (renderers write it)
        hardware=HardwareRef(id=hw.id if hw else "cpu",
                             name=hw.name if hw and request.gpus > 1 else setup.label or (hw.name if hw else "CPU"),
                             memory_gb=_memory_gb(hw, request), count=request.gpus),
        use=use, context=request.context, options=shown, bigger_with_offload=bigger, assumptions=notes)


def _memory_gb(hw: Hardware | None, request: SizingRequest) -> float:
    """Memory of one device as people name it: a card's VRAM, the chosen option of a Mac, else system RAM."""
    if hw is not None and hw.kind == "gpu":
        return hw.memory_gb
    if hw is not None and hw.kind == "unified":
        return request.memory_gb or hw.memory_gb
    return request.ram_gb or request.memory_gb or (hw.memory_gb if hw else DEFAULT_RAM_GIB)


def _quants(model: Model) -> tuple[str, ...]:
    """The ladder, best first; a model published in its own format (gpt-oss: MXFP4) is tried in it first."""
    native = (model.default_quant,) if model.default_quant and model.default_quant not in LADDER else ()
    return native + LADDER


def _bits_per_weight(core: Core, quant: str) -> float:
    ft = core.catalog.file_type(quant)
    return ft.linear_bpw or core.catalog.tensor_type(ft.default_type).bits_per_weight


def _too_slow(model: Model, lowest_bits: float, bandwidth_gbs: float) -> bool:
    """Even at the smallest quantization allowed and the full bandwidth of the fastest device, each token reads the
    active weights once: an upper bound on decode speed that the engine's estimate never exceeds."""
    return bandwidth_gbs * 1e9 / (model.active_b * 1e9 * lowest_bits / 8) < MIN_DECODE_TOKENS_PER_S


def _tier_number(core: Core, model: Model) -> int:
    tier = core.tiers.of(model.id)
    return tier.tier if tier else UNTIERED


def _best_fit(core: Core, model: Model, request: SizingRequest, usable: int, bits: dict[str, float]
              ) -> SizingReport | None:
    """The report at the best quantization that runs entirely and fast enough, or None. Two cheap tests come first: the
    parameters at the quantization's bits per weight (a lower bound, since llama.cpp keeps some tensors at higher
    types), then the real weights layout; only what passes both is sized."""
    for quant in _quants(model):
        if model.params_b * 1e9 * bits[quant] / 8 > usable:
            continue
        sized = core.engine.sized_at(model, quant)
        if sized.layout.file_bytes > usable:
            continue
        report = core.engine.size(request.model_copy(update={"model": model.id, "quant": quant}), sized=sized,
                                  extras=False)
        if report.verdict in RUNS_ENTIRELY and report.decode_tokens_per_s.low >= MIN_DECODE_TOKENS_PER_S:
            return report
        if report.verdict == "does_not_fit":
            return None
    return None


def _option(report: SizingReport, model: Model, tags: list[str], tier) -> RunOption:
    return RunOption(model=ModelRef(id=model.id, name=model.name, params_b=model.params_b,
                                    active_params_b=model.active_b),
                     quant=report.quant, context=report.context, verdict=report.verdict,
                     total_bytes=report.total_bytes, decode_tokens_per_s=report.decode_tokens_per_s, tags=tags,
                     tier=tier.tier if tier else None, tier_evidence=tier.evidence if tier else None)


def _rank(option: RunOption) -> tuple:
    """Best tier first (models with no recorded tier last), then the larger model, then the faster."""
    return (option.tier or UNTIERED, -option.model.params_b, -option.decode_tokens_per_s.low)


def _bigger_with_offload(core: Core, request: SizingRequest, too_big: list[Model], shown: list[RunOption],
                         tags_of) -> RunOption | None:
    """The best-tier model larger than every option shown that still streams at a readable speed with some
    layers in system RAM, at Q4_K_M."""
    floor = max((o.model.params_b for o in shown), default=0)
    candidates = sorted((m for m in too_big if m.params_b > floor),
                        key=lambda m: ((tags_of(m).tier if tags_of(m) else UNTIERED), -m.params_b))
    for model in candidates[:12]:
        try:
            report = core.engine.size(request.model_copy(update={"model": model.id, "quant": "Q4_K_M"}),
                                      extras=False)
        except WillItRunError:
            continue
        if report.verdict == "partial_offload" and report.decode_tokens_per_s.low >= MIN_OFFLOAD_TOKENS_PER_S:
            tier = tags_of(model)
            return _option(report, model, list(tier.uses) if tier else [], tier)
    return None
