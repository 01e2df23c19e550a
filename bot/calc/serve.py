"""Serving capacity: how many KV-cache tokens a runtime allocates, how many sequences run at once at a context,
aggregate decode throughput at 1/4/16/64 sequences, and time to first token.

vLLM (../shared/reference/calculators.md §1, V1 unless `vllm_version="v0"`):
  kv_budget = total x gpu_memory_utilization - weights/TP - activation peak - non-torch - CUDA graphs
  num_blocks = floor(kv_budget / (block_size x kv_bytes_per_token_per_gpu)); tokens = num_blocks x block_size
  concurrency = num_blocks / ceil(context / block_size)
  vllm-project/vllm vllm/v1/worker/gpu_worker.py @35d5cda123ec28581759b6d34cde8052314fb1e6 (`requested_memory`,
  `determine_available_memory`); vllm/v1/core/kv_cache_utils.py @001cabc1be16a59a70d720ed61a13b678c060a18
  (`get_num_blocks`, `get_max_concurrency_for_kv_cache_config`). KV heads per GPU = max(1, H_kv // TP)
  (vllm/config/model.py `get_num_kv_heads`); MLA latents are not divided.
  The profiling peak is the larger of the forward over max_num_batched_tokens T_b tokens and the sampler pass
  with top-k/top-p over min(max_num_seqs, T_b) rows (calculators.md §1.5; `activation_peak`); V0 without
  chunked prefill profiles T_b = max(M, 2048) (vllm/config.py of v0.6.x `SchedulerConfig.__post_init__`) and turns
  chunked prefill on above 32K tokens. Non-torch memory and CUDA graphs follow the release (`non_torch_bytes`,
  CUDA_GRAPH_BYTES): graphs are outside the budget unless VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS=1.
llama-server / Ollama: the engine's llama.cpp sizing with `parallel` slots; KV cells = context x slots
  (calculators.md §1.7-1.8; bot/sizing/kv_cache.py).
Throughput (calculators.md §2): t_step = max(t_mem, t_cmp) + t_fix with t_mem = (weights read + Σ KV read) /
  (η_m·BW) and t_cmp = (2·P_act·B + 4·L·H_q·d_h·Σc) / (η_c·F); η and t_fix are the engine's own
  (bot/sizing/speed.py), MoE experts touched by B sequences ≈ E·(1 - (1 - k/E)^B).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from bot.calc.schema import Range, ServeResult, ThroughputPoint
from bot.catalog.schema import Model
from bot.errors import InvalidRequestError
from bot.sizing.devices import GIB
from bot.sizing.engine import SizingEngine
from bot.sizing.kv_cache import kv_cells, kv_values_per_token
from bot.sizing.schema import SizingRequest
from bot.sizing.speed import BANDWIDTH_EFFICIENCY, COMPUTE_EFFICIENCY, EARLY_DECODE_POSITION, GPU_TOKEN_LATENCY_S
from bot.sizing.vllm import DEFAULT_FORMAT

Runtime = Literal["vllm", "llama-server", "ollama"]
SEQUENCES = (1, 4, 16, 64)
BLOCK_SIZE = 16                      # CacheConfig.DEFAULT_BLOCK_SIZE (vllm/config/cache.py @002f10e0)
DEFAULT_UTILIZATION = 0.9            # CacheConfig default in most releases people run (0.92 in the newest)
DEFAULT_MAX_NUM_SEQS = 256           # SchedulerConfig default: sampler rows of the profiling run
LARGE_GPU_MAX_NUM_SEQS = 1024        # V1 on >= 70 GiB GPUs that are not A100 (EngineArgs.get_batch_defaults)
# Memory outside torch that the budget subtracts (vllm/utils/mem_utils.py `memory_profiling`: the rise of CUDA-used
# minus torch-reserved during profiling). Since v0.7 it is the increase over the start snapshot: 0.03-0.11 GiB on
# one GPU ("non_torch_memory takes 0.03GiB" RTX 4060, vllm#13882; 0.06 RTX 4080, vLLM 0.26.0,
# github.com/akiyax/kvcache-lab docs/phase1-baseline.md; 0.11 A100, github.com/ovg-project/kvcached/pull/448),
# plus NCCL and custom all-reduce buffers under tensor parallelism
# (0.25 GiB per GPU on 2x RTX 4090, vllm#13061; 0.20 on RTX 3090s, vllm#14447).
NON_TORCH_BYTES = round(0.05 * GIB)
NON_TORCH_TP_BYTES = round(0.2 * GIB)
# Before v0.7 the profile measured CUDA-used memory from zero, so the CUDA context counted too:
# "non_torch_memory=0.35GiB" on one RTX 3090 (vLLM 0.6.4 log, vllm#10517); v0.3-0.5 took total - free after the
# profile run (vllm/worker/worker.py `profile_num_available_blocks`), the same context included.
LEGACY_NON_TORCH_BYTES = round(0.35 * GIB)
LEGACY_BEFORE = (0, 7)
# CUDA graph memory is captured after the KV cache is allocated and is not in the budget by default:
# "Available KV cache memory" = requested - weights - peak activation - non-torch in a vLLM 0.26.0 log (RTX 4080,
# 14.39 - 5.29 - 1.04 - 0.06 = 8.0 GiB, graphs 0.48 GiB reported apart; github.com/akiyax/kvcache-lab
# docs/phase1-baseline.md), as in gpu_worker.py @35d5cda (`determine_available_memory`). PR #30515 added an
# estimate behind VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS=1; PR #21489 measured 0.65 GiB for gemma-3-4b.
CUDA_GRAPH_BYTES = round(0.65 * GIB)
# V0 turns chunked prefill on by itself above 32K tokens, and then batches 2048 tokens
# (vllm/engine/arg_utils.py `_set_default_args_v0`; vllm/config.py `SchedulerConfig`, v0.6-0.10)
V0_LONG_CONTEXT = 32768
V0_CHUNKED_BATCH = 2048
SAMPLER_BYTES = 24                   # per logit element in the profiling sampler pass, see activation_peak
# Ollama's default parallel requests (docs/faq.md: OLLAMA_NUM_PARALLEL default 1); llama-server -np auto = 4
DEFAULT_SLOTS = {"ollama": 1, "llama-server": 4, "vllm": 1}


@dataclass(frozen=True)
class ServeRequest:
    model: str
    gpu: str
    gpus: int = 1
    runtime: Runtime = "vllm"
    context: int | None = None                 # tokens per request (vLLM max_model_len)
    gpu_memory_utilization: float = DEFAULT_UTILIZATION
    kv_cache_dtype: str = "auto"               # auto (model dtype) | fp8
    quant: str | None = None                   # vLLM: safetensors-BF16, FP8, AWQ-4bit ...; GGUF type for llama.cpp
    block_size: int = BLOCK_SIZE
    max_num_batched_tokens: int | None = None
    max_num_seqs: int | None = None            # None: vLLM's default for the GPU (256, or 1024 on large GPUs)
    vllm_version: Literal["v0", "v1"] = "v1"
    cuda_graphs_in_budget: bool = False        # VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS=1 subtracts an estimate
    enforce_eager: bool = False
    total_gib: float | None = None             # memory CUDA reports (nvidia-smi total), when known
    parallel: int | None = None                # llama-server -np / OLLAMA_NUM_PARALLEL
    prompt_tokens: int = 1024
    vllm_release: str | None = None            # e.g. "0.6.4": picks the memory accounting of that release
    kv_cache_memory_bytes: int | None = None   # --kv-cache-memory-bytes: replaces the profiled budget


def kv_bytes_per_token_per_gpu(model: Model, tp: int, dtype_bytes: float) -> float:
    """KV bytes one token takes on each GPU under tensor parallelism: heads split (replicated past H_kv), MLA not."""
    total = 0.0
    for i in range(model.layers):
        values = kv_values_per_token(model, i)
        if model.mla is None:
            heads = model.kv_heads_at(i)
            values = values * max(1, heads // tp) / heads if heads else 0
        total += values
    return total * dtype_bytes


def default_batched_tokens(req: ServeRequest, context: int, total_bytes: int, gpu_name: str) -> int:
    if req.max_num_batched_tokens:
        return req.max_num_batched_tokens
    if req.vllm_version == "v0":
        if context > V0_LONG_CONTEXT and _release(req) >= (0, 6):
            return V0_CHUNKED_BATCH
        return max(context, 2048)                           # v0 SchedulerConfig without chunked prefill
    # V1 API server: 8192 on GPUs with >= 70 GiB that are not A100, else 2048 (vllm/engine/arg_utils.py EngineArgs)
    return 8192 if _large_gpu(total_bytes, gpu_name) else 2048


def _large_gpu(total_bytes: int, gpu_name: str) -> bool:
    """Where vLLM V1 raises its batch defaults (EngineArgs.get_batch_defaults: >= 70 GiB and no "a100" in the name,
    as PR #17885 found larger batches slower on A100)."""
    return total_bytes >= 70 * GIB and "A100" not in gpu_name


def default_max_num_seqs(req: ServeRequest, total_bytes: int, gpu_name: str) -> int:
    """Sequences the profiling sampler pass holds: V1 raises the default with the batched tokens on large GPUs
    (vllm/engine/arg_utils.py EngineArgs.get_batch_defaults: max_num_seqs 1024 for both the LLM class and the API
    server when device memory >= 70 GiB and the name has no "a100"; 256 otherwise)."""
    if req.max_num_seqs:
        return req.max_num_seqs
    if req.vllm_version == "v1" and _large_gpu(total_bytes, gpu_name):
        return LARGE_GPU_MAX_NUM_SEQS
    return DEFAULT_MAX_NUM_SEQS


def _release(req: ServeRequest) -> tuple[int, int]:
    """(major, minor) of the vLLM release; an unnamed release is taken as current."""
    if not req.vllm_release:
        return (99, 0)
    try:
        major, minor = req.vllm_release.split(".")[:2]
        return int(major), int(minor)
    except ValueError:
        raise InvalidRequestError(f"vllm_release must look like 0.6.4, not '{req.vllm_release}'.") from None


def non_torch_bytes(req: ServeRequest) -> int:
    if _release(req) < LEGACY_BEFORE:
        return LEGACY_NON_TORCH_BYTES
    return NON_TORCH_BYTES + (NON_TORCH_TP_BYTES if req.gpus > 1 else 0)


def activation_peak(model: Model, tokens: int, rows: int, tp: int) -> int:
    """Profiling peak (calculators.md §1.5): the larger of the forward over `tokens` tokens and the sampler pass
    over `rows` sequences, which run one after the other.
    Forward, at the MLP: residual, normed input, gate-up output (2f, split by TP), activated product (f) and the
    down projection's output being written (h), 16-bit each (derived). It reproduces the 0.6.4 logs of
    vllm#10517 (Llama 3.1 8B: "peak_torch_memory" minus weights = 2.07 GiB at 20,000 tokens, 2.99 GiB at 29,000).
    Sampler: the profile samples with top-k and top-p on (V1 vllm/v1/worker/gpu_model_runner.py
    `_dummy_sampler_run`: top_p 0.9, top_k vocab-1; V0 `profile_run`: SamplingParams(top_p=0.99, top_k=vocab-1)),
    so the PyTorch sampler sorts the fp32 logits (vllm/v1/sample/ops/topk_topp_sampler.py `apply_top_k_top_p`):
    logits 4 + sorted values 4 + int64 indices 8 + softmax 4 + cumsum 4 bytes per element."""
    h = model.hidden_size
    moe = model.moe
    f = moe.expert_ffn * (moe.active + moe.shared) if moe else (model.intermediate_size or 4 * h)
    forward = tokens * 2 * (3 * f / tp + 3 * h)
    sampler = rows * model.vocab_size * SAMPLER_BYTES
    return round(max(forward, sampler))


def weights_touched(layout, batch: int, model: Model) -> float:
    """Weight bytes one decode step of `batch` sequences reads: dense tensors fully, routed experts by the share
    that `batch` uniformly routed tokens touch (derived assumption, calculators.md §2)."""
    experts = sum(layout.layer_expert_bytes)
    share = 1.0
    if model.moe:
        k_over_e = model.moe.active / model.moe.experts
        share = 1 - (1 - k_over_e) ** batch
    return layout.file_bytes - layout.token_embd_bytes * (0 if layout.tied else 1) - experts + experts * share


def _throughput(model: Model, layout, kv_tok_total: float, gpu, tp: int, batch: int, context: int) -> ThroughputPoint:
    eff_m = BANDWIDTH_EFFICIENCY.get(gpu.primary_backend, (0.4, 0.6))
    bw = gpu.bandwidth_gbs * 1e9 * tp
    flops = (gpu.fp16_tflops or 0) * 1e12 * tp
    attn = 4 * model.layers * model.attention_heads * model.head_dim_k
    out, bound = [], "memory"
    for which, position in ((0, context), (1, min(EARLY_DECODE_POSITION, context))):
        t_mem = (weights_touched(layout, batch, model) + batch * position * kv_tok_total) / (eff_m[which] * bw)
        t_cmp = 0.0
        if flops:
            t_cmp = (2 * model.active_b * 1e9 * batch + attn * batch * position) / (COMPUTE_EFFICIENCY[which] * flops)
        if which == 0 and t_cmp > t_mem:
            bound = "compute"
        out.append(batch / (max(t_mem, t_cmp) + GPU_TOKEN_LATENCY_S))
    return ThroughputPoint(sequences=batch, low=round(out[0], 1), high=round(out[1], 1), bound=bound)


def _ttft(model: Model, layout, gpu, tp: int, n: int) -> Range | None:
    if not gpu.fp16_tflops:
        return None
    flops = 2 * model.active_b * 1e9 * n + 2 * model.layers * model.attention_heads * model.head_dim_k * n * n
    read = layout.file_bytes / (gpu.bandwidth_gbs * 1e9 * tp)
    slow, fast = (flops / (e * gpu.fp16_tflops * 1e12 * tp) + read for e in COMPUTE_EFFICIENCY)
    return Range(low=round(fast, 3), high=round(slow, 3))


def estimate(req: ServeRequest, engine: SizingEngine) -> ServeResult:
    catalog = engine.catalog
    model = catalog.model(req.model)
    gpu = catalog.gpu(req.gpu)
    if gpu.kind != "gpu" and req.runtime == "vllm":
        raise InvalidRequestError("vLLM needs discrete GPUs; size a Mac or CPU with llama-server or Ollama.")
    if not 1 <= req.gpus <= 16:
        raise InvalidRequestError("gpus must be between 1 and 16.")
    if not 0.05 <= req.gpu_memory_utilization <= 1.0:
        raise InvalidRequestError("gpu_memory_utilization must be between 0.05 and 1.0.")
    context = req.context or min(8192, model.context_length)
    if not 1 <= context <= 10_000_000:
        raise InvalidRequestError("context must be between 1 and 10,000,000 tokens.")
    if req.runtime == "vllm":
        return _vllm(req, engine, model, gpu, context)
    return _llama(req, engine, model, gpu, context)


def _vllm(req: ServeRequest, engine: SizingEngine, model: Model, gpu, context: int) -> ServeResult:
    tp = req.gpus
    sized = engine.sized_at(model, req.quant or model_default_vllm(model))
    if sized.quant.format == "gguf":
        raise InvalidRequestError("vLLM serves safetensors formats: "
                                  "pick safetensors-BF16, FP8, AWQ-4bit or GPTQ-4bit.")
    dtype_bytes = 1.0 if req.kv_cache_dtype.startswith("fp8") else 2.0
    kv_tok = kv_bytes_per_token_per_gpu(model, tp, dtype_bytes)
    total = round((req.total_gib or gpu.memory_gb) * GIB)
    requested = total * req.gpu_memory_utilization
    weights = sized.layout.file_bytes / tp
    t_b = default_batched_tokens(req, context, total, gpu.name)
    act = activation_peak(model, t_b, min(default_max_num_seqs(req, total, gpu.name), t_b), tp)
    in_budget = req.cuda_graphs_in_budget and req.vllm_version == "v1" and not req.enforce_eager
    graphs = CUDA_GRAPH_BYTES if in_budget else 0
    non_torch = non_torch_bytes(req)
    budget = requested - weights - act - non_torch - graphs
    if req.kv_cache_memory_bytes:
        budget = req.kv_cache_memory_bytes
    blocks = max(0, math.floor(budget / (req.block_size * kv_tok))) if kv_tok else 0
    tokens = blocks * req.block_size
    concurrency = blocks / math.ceil(context / req.block_size)
    kv_total = kv_bytes_per_token_per_gpu(model, 1, dtype_bytes)
    points = [_throughput(model, sized.layout, kv_total, gpu, tp, min(b, max(1, int(concurrency))), context)
              for b in SEQUENCES] if concurrency >= 1 else []
    for p, b in zip(points, SEQUENCES):
        p.sequences = b
    notes = [
        f"vLLM {req.vllm_version.upper()}: {req.gpu_memory_utilization:.0%} of {total / GIB:.1f} GiB per GPU, minus "
        f"weights {weights / GIB:.2f} GiB, profiling peak {act / GIB:.2f} GiB ({t_b:,} batched tokens), "
        f"non-torch {non_torch / GIB:.2f} GiB" + (f", CUDA graphs {graphs / GIB:.2f} GiB" if graphs else "")
        + f" = {max(budget, 0) / GIB:.2f} GiB of KV cache per GPU"
        + (" (set by kv_cache_memory_bytes)." if req.kv_cache_memory_bytes else ".")
        + ("" if graphs else " CUDA graphs are captured after the KV cache, in the headroom left by the "
           "utilization fraction (0.5-2 GiB)."),
        f"KV: {kv_tok / 1024:.0f} KiB per token per GPU ({'fp8' if dtype_bytes == 1 else '16-bit'}), "
        f"blocks of {req.block_size} tokens.",
        "Every layer is counted as full attention (sliding-window savings of the hybrid allocator not modelled).",
        "Throughput: low = pessimistic bandwidth share with every sequence at the full context, high = optimistic "
        f"share near token {EARLY_DECODE_POSITION}; sequences past the concurrency limit queue.",
    ]
    if concurrency < 1:
        notes.append(f"One {context:,}-token request does not fit: vLLM refuses to start (lower max_model_len).")
    return ServeResult(
        model=model.name, runtime="vllm", gpus=tp, hardware=gpu.name, context=context, kv_cache_tokens=tokens,
        kv_bytes_per_token=kv_tok, kv_cache_bytes=round(tokens * kv_tok),
        max_concurrent_sequences=round(concurrency, 2),
        throughput_tokens_per_s=points, ttft_s=_ttft(model, sized.layout, gpu, tp, req.prompt_tokens),
        prompt_tokens=req.prompt_tokens, assumptions=notes)


def model_default_vllm(model: Model) -> str:
    return DEFAULT_FORMAT


def _llama(req: ServeRequest, engine: SizingEngine, model: Model, gpu, context: int) -> ServeResult:
    slots = req.parallel or DEFAULT_SLOTS[req.runtime]
    report = engine.size(SizingRequest(model=req.model, gpu=req.gpu, gpus=req.gpus, quant=req.quant, context=context,
                                       parallel=slots, kv_cache_type="q8_0" if req.kv_cache_dtype == "q8_0" else "f16"))
    sized = engine.sized_model(SizingRequest(model=req.model, quant=req.quant))
    cells = kv_cells(context, slots)
    kv_tok = report.kv_cache_bytes / cells if cells else 0.0
    fits = report.verdict == "fits"
    concurrency = float(slots) if fits else 0.0
    points = ([_throughput(model, sized.layout, kv_tok, gpu, 1, min(b, slots), context) for b in SEQUENCES]
              if fits else [])
    for p, b in zip(points, SEQUENCES):
        p.sequences = b
    word = "OLLAMA_NUM_PARALLEL" if req.runtime == "ollama" else "-np"
    notes = [f"{word} {slots}: the KV cache holds {slots} x {context:,} tokens ({cells:,} cells); each slot gets "
             f"{context:,} tokens.", f"llama.cpp sizing: {report.verdict.replace('_', ' ')} on {report.hardware}.",
             "Layers split across GPUs take turns, so aggregate speed is computed for one GPU's bandwidth."]
    return ServeResult(
        model=model.name, runtime=req.runtime, gpus=req.gpus, hardware=report.hardware or gpu.name, context=context,
        kv_cache_tokens=cells, kv_bytes_per_token=kv_tok, kv_cache_bytes=report.kv_cache_bytes,
        max_concurrent_sequences=concurrency, throughput_tokens_per_s=points,
        ttft_s=_ttft(model, sized.layout, gpu, 1, req.prompt_tokens), prompt_tokens=req.prompt_tokens,
        assumptions=notes + report.assumptions[:2])
