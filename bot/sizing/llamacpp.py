"""llama.cpp's memory model: weights per device as it offloads them, KV cache and compute buffer per device that runs
layers, the most layers `-ngl` / `--fit` would offload, and decode speed from what each device reads per token.

The formulas live in the modules named after them (weights.py, kv_cache.py, compute_buffer.py, placement.py,
speed.py), each citing the llama.cpp source it follows; this module puts them together into a report.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.catalog.load import Catalog
from bot.catalog.schema import Model
from bot.sizing.compute_buffer import compute_buffer_bytes
from bot.sizing.devices import Setup
from bot.sizing.kv_cache import kv_bytes_per_layer, kv_cells, layer_cells
from bot.sizing.placement import Placement, place, place_all
from bot.sizing.quant_mix_ik import IK_FILE_TYPES
from bot.sizing.schema import ModelInfo, SizingReport, SizingRequest
from bot.sizing.speed import decode_speed, prompt_speed
from bot.sizing.weights import SizedAt, SizedModel

DEFAULT_QUANT = "Q4_K_M"
# what people actually download, best first: the candidates for "best quantization that fits"
QUANT_LADDER = ("Q8_0", "Q6_K", "Q5_K_M", "Q5_K_S", "Q4_K_M", "Q4_K_S", "IQ4_XS", "Q3_K_L", "Q3_K_M", "IQ3_M",
                "Q3_K_S", "IQ3_XXS", "Q2_K", "IQ2_M", "IQ2_XS", "IQ2_XXS", "IQ1_M")

# KV cache bytes per layer and the compute buffer of a model at a context: the inputs of every placement
Memory = tuple[tuple[int, ...], int]
MemoryOf = Callable[[SizedModel, int, SizingRequest], Memory]


@dataclass(frozen=True)
class _Outcome:
    placement: Placement
    kv: tuple[int, ...]
    verdict: str


def kv_and_compute(sized: SizedModel, context: int, req: SizingRequest, catalog: Catalog) -> Memory:
    """KV cache bytes per layer and the compute buffer for `context` tokens. A tuple: callers may share the result."""
    model = sized.model
    kv = kv_bytes_per_layer(model, context, req.parallel, req.kv_cache_type, catalog)
    ffn = model.intermediate_size or (model.moe.expert_ffn * (model.moe.active + model.moe.shared) if model.moe else 0)
    compute = compute_buffer_bytes(model.hidden_size, model.vocab_size, model.attention_heads, ffn,
                                   kv_cells(context, req.parallel), req.flash_attention)
    return tuple(kv), compute


def size(req: SizingRequest, sized: SizedModel, setup: Setup, context: int, notes: list[str],
         sized_at: SizedAt, memory: MemoryOf, extras: bool) -> SizingReport:
    """The report for `req` on llama.cpp. `sized_at` gives the model at another quantization and `memory` its KV
    cache and compute buffer (both remembered by the engine); `extras=False` skips the largest context and the best
    quantization that fit, which search over many placements."""
    model, ft = sized.model, sized.quant
    outcome = _outcome(sized, setup, context, req, memory)
    p, kv = outcome.placement, outcome.kv
    kv_per_cell, cells = _kv_profile(model, context, req, kv)
    speed = decode_speed(sized.layout, p, setup, kv_per_cell, cells, context, req.experts_in_ram)
    notes += _notes(req, sized, context, outcome)
    devices = p.devices if setup.gpus else p.devices[-1:]
    total = sum(d.need_bytes for d in devices)
    headroom = min(d.usable_bytes - d.need_bytes for d in devices if d.layers or d.kind != "cpu")
    return SizingReport(
        model=ModelInfo(id=model.id, name=model.name, params_b=model.params_b, active_params_b=model.active_b),
        quant=ft.name, context=context, parallel=req.parallel, kv_cache_type=req.kv_cache_type,
        flash_attention=req.flash_attention, runtime=req.runtime, hardware=setup.label, verdict=outcome.verdict,
        weights_bytes=sized.layout.file_bytes, kv_cache_bytes=sum(kv),
        compute_bytes=sum(d.compute_bytes for d in devices), overhead_bytes=sum(d.overhead_bytes for d in devices),
        total_bytes=total, headroom_bytes=headroom, devices=devices, gpu_layers=p.offloaded,
        total_layers=model.layers + 1,
        decode_tokens_per_s=speed if outcome.verdict != "does_not_fit" else None,
        prompt_tokens_per_s=prompt_speed(model.active_b * 1e9, p, setup) if outcome.verdict == "fits" else None,
        max_context=max_context(sized, setup, req, memory) if extras else None,
        best_quant=best_quant(model, setup, context, req, sized_at, memory) if extras and ft.format == "gguf" else None,
        assumptions=notes,
    )


def max_context(sized: SizedModel, setup: Setup, req: SizingRequest, memory: MemoryOf) -> int | None:
    """The largest context (a multiple of 256, up to the model's trained maximum) that runs entirely on the
    GPUs, or entirely in RAM when no GPU is given; None when not even 256 tokens do."""
    limit = sized.model.context_length
    if not _fits_entirely(sized, setup, 256, req, memory):
        return None
    if _fits_entirely(sized, setup, limit, req, memory):
        return limit
    lo, hi = 1, limit // 256  # in units of 256 tokens: lo fits, hi does not
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _fits_entirely(sized, setup, mid * 256, req, memory):
            lo = mid
        else:
            hi = mid
    return lo * 256


def best_quant(model: Model, setup: Setup, context: int, req: SizingRequest, sized_at: SizedAt,
               memory: MemoryOf) -> str | None:
    """The most faithful common GGUF quantization that runs entirely on the GPUs (or in RAM) at this context."""
    for name in QUANT_LADDER:
        if _fits_entirely(sized_at(model, name), setup, context, req, memory):
            return name
    return None


def _outcome(sized: SizedModel, setup: Setup, context: int, req: SizingRequest, memory: MemoryOf) -> _Outcome:
    kv, compute = memory(sized, context, req)
    p = place(sized.layout, kv, compute, setup, req.experts_in_ram)
    return _Outcome(p, kv, _verdict(p, setup, sized.layout.n_layers, req.experts_in_ram))


def _fits_entirely(sized: SizedModel, setup: Setup, context: int, req: SizingRequest, memory: MemoryOf) -> bool:
    kv, compute = memory(sized, context, req)
    p = place_all(sized.layout, kv, compute, setup, req.experts_in_ram)
    return p.gpus_fit and p.host_fits


def _kv_profile(model: Model, context: int, req: SizingRequest, kv: tuple[int, ...]) -> tuple[list[float], list[int]]:
    """Bytes per cached token and cells, per layer: decode reads min(position, cells) tokens of each."""
    cells = [layer_cells(model, i, kv_cells(context, req.parallel), req.parallel) for i in range(model.layers)]
    return [k / c if c else 0.0 for k, c in zip(kv, cells)], cells


def _verdict(p: Placement, setup: Setup, n_layers: int, experts_in_ram: bool) -> str:
    if not p.host_fits:
        return "does_not_fit"
    if not setup.gpus or p.offloaded == 0:
        return "cpu_only"
    if p.offloaded == n_layers + 1 and not experts_in_ram:
        return "fits"
    return "partial_offload"


def _notes(req: SizingRequest, sized: SizedModel, context: int, outcome: _Outcome) -> list[str]:
    model, layout = sized.model, sized.layout
    ik = sized.quant.name in IK_FILE_TYPES     # a type of the ik_llama.cpp fork, which mainline cannot load
    origin = (f"read from {req.gguf}'s tensors" if req.gguf else
              f"{sized.quant.name} as {'ik_' if ik else ''}llama.cpp's quantize lays it out, tensor by tensor"
              + ("; only ik_llama.cpp loads this type" if ik else ""))
    notes = [f"Weights: {origin} ({layout.file_bytes * 8 / (model.params_b * 1e9):.2f} bits per weight overall)."]
    if req.context is None:
        notes.append(f"Context assumed {context:,} tokens (give context to change it).")
    if context > model.context_length:
        notes.append(f"{context:,} tokens is beyond the {model.context_length:,} the model was trained for; "
                     "answers degrade without RoPE scaling.")
    cells = kv_cells(context, req.parallel)
    if cells != context * req.parallel:
        notes.append(f"llama.cpp pads the KV cache to a multiple of 256: {cells:,} cells.")
    if req.parallel > 1:
        notes.append(f"{req.parallel} parallel sequences of {context:,} tokens each share one KV cache.")
    if model.sliding_window:
        notes.append(f"Sliding-window layers keep only the last {model.sliding_window.window:,} tokens "
                     f"(every {model.sliding_window.global_every}th layer attends to everything).")
    if model.mla:
        notes.append("Multi-head latent attention: the cache holds the compressed latent, not full keys and values.")
    if model.moe:
        notes.append(f"Mixture of experts: {model.moe.active} of {model.moe.experts} experts are read per token, so "
                     f"decoding reads about {model.active_b:g}B of the {model.params_b:g}B parameters.")
    if req.experts_in_ram:
        notes.append("Routed experts stay in system RAM (llama.cpp --cpu-moe); attention, shared weights and the "
                     "KV cache go to the GPU.")
    notes.append("Flash attention on: the compute buffer stays small at long context." if req.flash_attention else
                 "Flash attention off: the compute buffer grows with context (attention scores in f32).")
    if outcome.verdict == "partial_offload" and not req.experts_in_ram:
        notes.append(f"Partial offload: llama.cpp -ngl {outcome.placement.offloaded}; the layers left in RAM "
                     "set the speed.")
    notes.append("Decode speed: low = context full and pessimistic bandwidth use, high = a short context and "
                 "optimistic bandwidth use.")
    return notes
