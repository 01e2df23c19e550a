"""`willitrun serve MODEL --gpu X`: KV-cache tokens, concurrent sequences and throughput of a serving runtime."""
from __future__ import annotations

import argparse

from bot.calc.serve import ServeRequest, estimate
from bot.core import Core


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serving capacity: KV tokens, concurrency, throughput, TTFT")
    p.add_argument("model")
    p.add_argument("--gpu", required=True)
    p.add_argument("--gpus", type=int, default=1, help="GPUs (tensor parallel for vLLM)")
    p.add_argument("--runtime", choices=["vllm", "llama-server", "ollama"], default="vllm")
    p.add_argument("--context", type=int, help="tokens per request (vLLM max_model_len)")
    p.add_argument("--gpu-memory-utilization", type=float, default=0.9)
    p.add_argument("--kv-cache-dtype", default="auto", help="auto or fp8 (vLLM); f16 or q8_0 (llama.cpp)")
    p.add_argument("--quant", help="vLLM: safetensors-BF16, FP8, AWQ-4bit...; llama.cpp: Q4_K_M...")
    p.add_argument("--parallel", type=int, help="llama-server -np / OLLAMA_NUM_PARALLEL")
    p.add_argument("--max-num-batched-tokens", type=int)
    p.add_argument("--enforce-eager", action="store_true")
    p.add_argument("--vllm-release", help="vLLM release, e.g. 0.6.4: its memory accounting (default: the current one)")
    p.add_argument("--kv-cache-memory-bytes", type=int, help="vLLM --kv-cache-memory-bytes: a fixed KV budget per GPU")
    p.add_argument("--prompt-tokens", type=int, default=1024, help="prompt length for time to first token")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run, uses_core=True)


def run(args: argparse.Namespace, core: Core) -> int:
    r = estimate(ServeRequest(model=args.model, gpu=args.gpu, gpus=args.gpus, runtime=args.runtime,
                              context=args.context, gpu_memory_utilization=args.gpu_memory_utilization,
                              kv_cache_dtype=args.kv_cache_dtype, quant=args.quant, parallel=args.parallel,
                              max_num_batched_tokens=args.max_num_batched_tokens, enforce_eager=args.enforce_eager,
                              prompt_tokens=args.prompt_tokens, vllm_release=args.vllm_release,
                              kv_cache_memory_bytes=args.kv_cache_memory_bytes), core.engine)
    if args.json:
        print(r.model_dump_json(indent=2))
        return 0
    print(f"{r.model} on {r.gpus}x {r.hardware} with {r.runtime}, {r.context:,} tokens per request")
    print(f"KV cache: {r.kv_cache_tokens:,} tokens; maximum concurrency {r.max_concurrent_sequences:.2f}x")
    for p in r.throughput_tokens_per_s:
        print(f"  {p.sequences:>3} sequences: {p.low:,.0f} - {p.high:,.0f} tokens/s ({p.bound}-bound)")
    if r.ttft_s:
        print(f"Time to first token for {r.prompt_tokens:,} prompt tokens: {r.ttft_s.low:.2f} - {r.ttft_s.high:.2f} s")
    for note in r.assumptions:
        print(f"- {note}")
    return 0
