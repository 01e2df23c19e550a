"""Decode and prompt-processing speed estimates.

Decoding one token reads every weight it uses once, plus the KV cache so far, so a device's time per token is the
bytes it reads over its achievable bandwidth. Layers split across devices run one after another, so the times add.
Achievable bandwidth is a share (efficiency) of the peak, per backend, fitted to published llama-bench runs
(tests/data/reference_measurements.yaml; `make bench` prints the error). Prompt processing is compute-bound:
2 FLOPs per active parameter per token at a share of the card's peak FP16 throughput.
"""
from __future__ import annotations

from bot.sizing.devices import Setup
from bot.sizing.placement import Placement
from bot.sizing.schema import Range
from bot.sizing.weights import WeightLayout

# (pessimistic, optimistic) share of peak memory bandwidth a decode step achieves
BANDWIDTH_EFFICIENCY = {
    "cuda": (0.55, 0.80),
    "rocm": (0.45, 0.70),
    "metal": (0.55, 0.80),
    "vulkan": (0.45, 0.70),
    "sycl": (0.35, 0.60),
    "cpu": (0.45, 0.75),
}
# fixed time per generated token on a GPU backend (kernel launches, synchronisation): it is what keeps small models
# on fast cards below their bandwidth bound; fitted to the llama-bench rows of the reference table
GPU_TOKEN_LATENCY_S = 0.0005
# (pessimistic, optimistic) share of peak FP16 throughput during prompt processing
COMPUTE_EFFICIENCY = (0.25, 0.55)
# the token position the optimistic (high) decode estimate reads the KV cache at: near the start of a conversation
EARLY_DECODE_POSITION = 512


def _kv_read(kv_per_cell: list[float], cells: list[int], layers, position: int) -> float:
    return sum(kv_per_cell[i] * min(position, cells[i]) for i in layers)


def decode_speed(layout: WeightLayout, placement: Placement, setup: Setup, kv_per_cell: list[float],
                 cells: list[int], context: int, experts_in_ram: bool) -> Range:
    """Tokens per second: low = pessimistic efficiency with the context full, high = optimistic near the start."""
    out = []
    for which, position in ((0, context), (1, min(EARLY_DECODE_POSITION, context))):
        seconds = GPU_TOKEN_LATENCY_S if any(placement.layers_by_gpu) else 0.0
        for g, r in zip(setup.gpus, placement.layers_by_gpu):
            if not r:
                continue
            read = layout.bytes_read_per_token(r, include_output=False)
            if experts_in_ram:
                read -= sum(layout.layer_expert_bytes[i] for i in r) * layout.active_expert_fraction
            read += _kv_read(kv_per_cell, cells, r, position)
            if placement.output_on_gpu and g is setup.gpus[-1]:
                read += layout.output_bytes
            seconds += read / (BANDWIDTH_EFFICIENCY.get(g.backend, (0.4, 0.6))[which] * g.bandwidth_gbs * 1e9)
        host_read = layout.bytes_read_per_token(placement.host_layers, include_output=not placement.output_on_gpu)
        host_read += _kv_read(kv_per_cell, cells, placement.host_layers, position)
        if experts_in_ram:
            host_read += (sum(layout.layer_expert_bytes[i] for r in placement.layers_by_gpu for i in r)
                          * layout.active_expert_fraction)
        if host_read > 0 and (placement.host_layers or experts_in_ram or not placement.output_on_gpu):
            seconds += host_read / (BANDWIDTH_EFFICIENCY["cpu"][which] * setup.host.bandwidth_gbs * 1e9)
        out.append(1.0 / seconds if seconds > 0 else 0.0)
    return Range(low=round(out[0], 1), high=round(out[1], 1))


def prompt_speed(active_params: float, placement: Placement, setup: Setup) -> Range | None:
    """Prompt tokens per second when everything runs on GPUs whose FP16 throughput is known, else None."""
    if not setup.gpus or placement.host_layers or not placement.output_on_gpu:
        return None
    used = [(g, len(r)) for g, r in zip(setup.gpus, placement.layers_by_gpu) if r]
    if any(g.fp16_tflops is None for g, _ in used):
        return None
    total_layers = sum(n for _, n in used)
    out = []
    for eff in COMPUTE_EFFICIENCY:
        seconds = sum(2 * active_params * n / total_layers / (g.fp16_tflops * 1e12 * eff) for g, n in used)
        out.append(round(1.0 / seconds))
    return Range(low=out[0], high=out[1])
