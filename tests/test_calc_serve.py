"""Serving capacity: vLLM's KV blocks, llama-server / Ollama slots, batched decode."""
from bot.calc.serve import ServeRequest, estimate, kv_bytes_per_token_per_gpu


def test_llama_3_1_8b_kv_is_128_kib_per_token_and_halves_with_tp2(catalog):
    m = catalog.model("llama 3.1 8b")
    assert kv_bytes_per_token_per_gpu(m, 1, 2.0) == 131_072        # calculators.md §1.2 worked example
    assert kv_bytes_per_token_per_gpu(m, 2, 2.0) == 65_536


def test_vllm_tokens_are_whole_blocks_and_concurrency_is_blocks_over_request(engine):
    r = estimate(ServeRequest("llama 3.1 8b", "h100 sxm", context=8192), engine)
    assert r.kv_cache_tokens % 16 == 0
    assert abs(r.max_concurrent_sequences - r.kv_cache_tokens / 8192) < 0.01


def test_fp8_kv_cache_doubles_tokens(engine):
    auto = estimate(ServeRequest("llama 3.1 8b", "h100 sxm"), engine)
    fp8 = estimate(ServeRequest("llama 3.1 8b", "h100 sxm", kv_cache_dtype="fp8"), engine)
    assert 1.95 < fp8.kv_cache_tokens / auto.kv_cache_tokens < 2.05


def test_aggregate_throughput_grows_with_sequences(engine):
    r = estimate(ServeRequest("llama 3.1 8b", "h100 sxm"), engine)
    lows = [p.low for p in r.throughput_tokens_per_s]
    assert [p.sequences for p in r.throughput_tokens_per_s] == [1, 4, 16, 64]
    assert lows == sorted(lows) and lows[-1] > 5 * lows[0]


def test_ollama_parallel_multiplies_the_context(engine):
    r = estimate(ServeRequest("llama 3.1 8b", "rtx 3090", runtime="ollama", context=4096, parallel=4), engine)
    assert r.kv_cache_tokens == 4 * 4096 and r.max_concurrent_sequences == 4


def test_stable_json_keys(engine):
    data = estimate(ServeRequest("llama 3.1 8b", "rtx 4090"), engine).model_dump()
    assert {"model", "runtime", "gpus", "context", "kv_cache_tokens", "max_concurrent_sequences",
            "throughput_tokens_per_s"} <= data.keys()
