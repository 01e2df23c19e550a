"""vLLM's memory model: it pre-allocates `gpu_memory_utilization` of every GPU, loads the weights split by tensor
parallelism, and turns what is left after a profiling run into KV-cache blocks. A context fits when the blocks
hold it (vLLM refuses to start otherwise: "max_model_len ... is greater than the derived maximum")."""
from __future__ import annotations

from typing import TYPE_CHECKING

from bot.errors import InvalidRequestError
from bot.sizing.devices import GIB, MIB, Setup
from bot.sizing.schema import DeviceUsage, ModelInfo, Range, SizingReport, SizingRequest
from bot.sizing.speed import BANDWIDTH_EFFICIENCY

if TYPE_CHECKING:
    from bot.sizing.engine import SizedModel, SizingEngine

DEFAULT_FORMAT = "safetensors-BF16"
BLOCK_TOKENS = 16
# the profiling run's activation peak and CUDA graphs: about 1 GiB and 0.5 GiB per GPU for mid-size models
ACTIVATION_BYTES = 1 * GIB
CUDA_GRAPH_BYTES = 512 * MIB
VLLM_LADDER = ("safetensors-BF16", "FP8", "AWQ-4bit", "GPTQ-4bit")


def kv_bytes_per_token(sized: "SizedModel", dtype_bytes: float) -> float:
    m = sized.model
    if m.mla:
        return m.layers * (m.mla.kv_lora_rank + m.mla.rope_dim) * dtype_bytes
    return sum(m.kv_heads_at(i) * (m.head_dim_k + m.head_dim_v) for i in range(m.layers)) * dtype_bytes


def _budget(sized: "SizedModel", setup: Setup, req: SizingRequest) -> tuple[int, int, int]:
    """(weights per GPU, KV bytes available on all GPUs together, pre-allocated bytes per GPU)."""
    tp = len(setup.gpus)
    weights = -(-sized.layout.file_bytes // tp)
    allocated = min(round(g.total_bytes * req.gpu_memory_utilization) for g in setup.gpus)
    kv_space = (allocated - weights - ACTIVATION_BYTES - CUDA_GRAPH_BYTES) * tp
    return weights, kv_space, allocated


def size(req: SizingRequest, sized: "SizedModel", setup: Setup, context: int, notes: list[str],
         engine: "SizingEngine") -> SizingReport:
    if not 0.05 <= req.gpu_memory_utilization <= 1.0:
        raise InvalidRequestError("gpu_memory_utilization must be between 0.05 and 1.0.")
    tp = len(setup.gpus)
    dtype_bytes = 1.0 if req.kv_cache_type.startswith("q8") else 2.0
    per_token = kv_bytes_per_token(sized, dtype_bytes)
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
        for which, position in ((0, context), (1, min(512, context))):
            seconds = (read + per_token * position / tp) / (BANDWIDTH_EFFICIENCY["cuda"][which] * g.bandwidth_gbs * 1e9)
            out.append(round(1 / seconds, 1))
        speed = Range(low=out[0], high=out[1])
    notes += [
        f"vLLM pre-allocates {req.gpu_memory_utilization:.0%} of each GPU ({allocated / GIB:.1f} GB) and fills what the "
        "weights, activations (about 1 GB) and CUDA graphs (about 0.5 GB) leave with KV-cache blocks.",
        f"Tensor parallelism over {tp} GPU(s) splits the weights evenly." if tp > 1 else
        "One GPU: no tensor parallelism.",
        f"KV cache: {per_token / 1024:.0f} KiB per token; room for {max_tokens:,} tokens in all.",
    ]
    best = None
    for name in VLLM_LADDER:
        ft = engine.catalog.file_type(name)
        candidate = type(sized)(sized.model, ft, engine.layout(sized.model, ft))
        w, space, _ = _budget(candidate, setup, req)
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
