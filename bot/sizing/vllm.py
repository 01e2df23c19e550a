"""vLLM's memory model: it pre-allocates `gpu_memory_utilization` of every GPU, loads the weights split by tensor
parallelism, and turns what is left after a profiling run into KV-cache blocks. A context fits when the blocks
hold it (vLLM refuses to start otherwise: "max_model_len ... is greater than the derived maximum").

A block of BLOCK_TOKENS tokens holds, per layer, block_size x num_kv_heads x (head_size + head_size_v) x dtype bytes,
or for MLA block_size x (kv_lora_rank + rope_dim) x dtype bytes (vllm/v1/kv_cache_interface.py
@ bc8282e61df21719b12b391c3a976b1c900dfbb4, `FullAttentionSpec.real_page_size_bytes` and
`MLAAttentionSpec.real_page_size_bytes`): the same values per token as llama.cpp's cache (kv_cache.py).
"""
from __future__ import annotations

from collections.abc import Callable

from bot.catalog.schema import Model
from bot.errors import InvalidRequestError
from bot.sizing.devices import GIB, MIB, Setup
from bot.sizing.kv_cache import kv_values_per_token
from bot.sizing.schema import DeviceUsage, ModelInfo, Range, SizingReport, SizingRequest
from bot.sizing.speed import BANDWIDTH_EFFICIENCY, EARLY_DECODE_POSITION
from bot.sizing.weights import SizedAt, SizedModel

DEFAULT_FORMAT = "safetensors-BF16"
BLOCK_TOKENS = 16
# the profiling run's activation peak and CUDA graphs: about 1 GiB and 0.5 GiB per GPU for mid-size models
ACTIVATION_BYTES = 1 * GIB
CUDA_GRAPH_BYTES = 512 * MIB
VLLM_LADDER = ("safetensors-BF16", "FP8", "AWQ-4bit", "GPTQ-4bit")


def kv_bytes_per_token(model: Model, dtype_bytes: float) -> float:
    return sum(kv_values_per_token(model, i) for i in range(model.layers)) * dtype_bytes


def _budget(sized: SizedModel, setup: Setup, req: SizingRequest) -> tuple[int, int, int]:
    """(weights per GPU, KV bytes available on all GPUs together, pre-allocated bytes per GPU)."""
    tp = len(setup.gpus)
    weights = -(-sized.layout.file_bytes // tp)
    allocated = min(round(g.total_bytes * req.gpu_memory_utilization) for g in setup.gpus)
    kv_space = (allocated - weights - ACTIVATION_BYTES - CUDA_GRAPH_BYTES) * tp
    return weights, kv_space, allocated


def size(req: SizingRequest, sized: SizedModel, setup: Setup, context: int, notes: list[str],
         sized_at: SizedAt, memory: Callable[..., object], extras: bool) -> SizingReport:
    """The report for `req` on vLLM. The runtimes share one signature (bot/sizing/engine.py dispatches on it);
    vLLM sizes its own KV blocks, so it has no use for llama.cpp's `memory`, and its best format is cheap enough to
    give whatever `extras` says."""
    if not 0.05 <= req.gpu_memory_utilization <= 1.0:
        raise InvalidRequestError("gpu_memory_utilization must be between 0.05 and 1.0.")
    tp = len(setup.gpus)
    dtype_bytes = 1.0 if req.kv_cache_type.startswith("q8") else 2.0
    per_token = kv_bytes_per_token(sized.model, dtype_bytes)
    weights, kv_space, allocated = _budget(sized, setup, req)
    max_tokens = int(kv_space // per_token) if kv_space > 0 else 0
    max_context = min(max_tokens // req.parallel // BLOCK_TOKENS * BLOCK_TOKENS, sized.model.context_length) or None
    fits = kv_space > 0 and max_tokens >= context * req.parallel
    kv_per_gpu = max(kv_space // tp, 0)
    devices = [DeviceUsage(name=g.name, kind="gpu", usable_bytes=allocated, weights_bytes=weights,
                           kv_cache_bytes=kv_per_gpu, compute_bytes=ACTIVATION_BYTES, overhead_bytes=CUDA_GRAPH_BYTES,
                           layers=sized.model.layers) for g in setup.gpus]
    speed = None
    if fits:
        g = setup.gpus[0]
        read = sized.layout.bytes_read_per_token(range(sized.layout.n_layers), include_output=True) / tp
        out = []
        for which, position in ((0, context), (1, min(EARLY_DECODE_POSITION, context))):
            seconds = (read + per_token * position / tp) / (BANDWIDTH_EFFICIENCY["cuda"][which] * g.bandwidth_gbs * 1e9)
            out.append(round(1 / seconds, 1))
        speed = Range(low=out[0], high=out[1])
    notes += [
        f"vLLM pre-allocates {req.gpu_memory_utilization:.0%} of each GPU ({allocated / GIB:.1f} GB) "
        "and fills what the "
        "weights, activations (about 1 GB) and CUDA graphs (about 0.5 GB) leave with KV-cache blocks.",
        f"Tensor parallelism over {tp} GPU(s) splits the weights evenly." if tp > 1 else
        "One GPU: no tensor parallelism.",
        f"KV cache: {per_token / 1024:.0f} KiB per token; room for {max_tokens:,} tokens in all.",
    ]
    best = None
    for name in VLLM_LADDER:
        _, space, _ = _budget(sized_at(sized.model, name), setup, req)
        if space > 0 and space // per_token >= context * req.parallel:
            best = name
            break
    return SizingReport(
        model=ModelInfo(id=sized.model.id, name=sized.model.name, params_b=sized.model.params_b,
                        active_params_b=sized.model.active_b),
        quant=sized.quant.name, context=context, parallel=req.parallel, kv_cache_type=req.kv_cache_type,
        flash_attention=True, runtime="vllm", hardware=setup.label, verdict="fits" if fits else "does_not_fit",
        weights_bytes=sized.layout.file_bytes, kv_cache_bytes=round(per_token * context * req.parallel),
        compute_bytes=ACTIVATION_BYTES * tp, overhead_bytes=CUDA_GRAPH_BYTES * tp, total_bytes=allocated * tp,
        headroom_bytes=(kv_space - round(per_token * context * req.parallel)) if kv_space > 0 else kv_space,
        devices=devices, gpu_layers=sized.model.layers + 1 if fits else 0, total_layers=sized.model.layers + 1,
        decode_tokens_per_s=speed, prompt_tokens_per_s=None, max_context=max_context if kv_space > 0 else None,
        best_quant=best, assumptions=notes)
