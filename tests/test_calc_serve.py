"""Serving capacity: vLLM's KV blocks, llama-server / Ollama slots, batched decode."""
from bot.calc.serve import ServeRequest, activation_peak, estimate, kv_bytes_per_token_per_gpu
from bot.sizing.devices import GIB


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


def test_profile_peak_reproduces_the_logged_activation_of_llama_3_1_8b_at_20000_tokens(catalog):
    # vllm#10517 (0.6.4): peak_torch_memory 17.06 GiB minus 14.99 GiB of weights = 2.07 GiB
    peak = activation_peak(catalog.model("llama 3.1 8b"), 20000, 256, 1)
    assert abs(peak / GIB - 2.07) < 0.03


def test_sampler_pass_sets_the_peak_when_few_tokens_are_batched(catalog):
    m = catalog.model("qwen2.5-7b")
    assert activation_peak(m, 2048, 256, 1) == 256 * m.vocab_size * 24


def test_v0_long_context_profiles_a_chunked_batch(engine):
    short = estimate(ServeRequest("llama 3.1 8b", "a100 80gb sxm", vllm_version="v0", context=32768), engine)
    long = estimate(ServeRequest("llama 3.1 8b", "a100 80gb sxm", vllm_version="v0", context=32769), engine)
    assert long.kv_cache_tokens > short.kv_cache_tokens      # 2048 batched tokens instead of 32768


def test_cuda_graphs_are_outside_the_budget_unless_estimated(engine):
    plain = estimate(ServeRequest("llama 3.1 8b", "h100 sxm"), engine)
    estimated = estimate(ServeRequest("llama 3.1 8b", "h100 sxm", cuda_graphs_in_budget=True), engine)
    eager = estimate(ServeRequest("llama 3.1 8b", "h100 sxm", cuda_graphs_in_budget=True, enforce_eager=True), engine)
    assert estimated.kv_cache_tokens < plain.kv_cache_tokens == eager.kv_cache_tokens


def test_releases_before_0_7_count_the_cuda_context_as_non_torch_memory(engine):
    old = estimate(ServeRequest("llama 3.1 8b", "rtx 3090", vllm_version="v0", vllm_release="0.6.4"), engine)
    new = estimate(ServeRequest("llama 3.1 8b", "rtx 3090", vllm_version="v0", vllm_release="0.7.2"), engine)
    assert new.kv_cache_tokens > old.kv_cache_tokens


def test_kv_cache_memory_bytes_replaces_the_profiled_budget(engine):
    r = estimate(ServeRequest("qwen2.5-7b", "rtx 4080", kv_cache_memory_bytes=GIB // 2), engine)
    assert r.kv_cache_tokens == 9360          # akiyax/kvcache-lab phase 3: 0.5 GiB = 9,360 tokens at 56 KiB/token


def test_large_non_a100_gpus_profile_1024_sampler_rows():
    from bot.calc.serve import default_max_num_seqs
    req = ServeRequest(model="llama 3.1 8b", gpu="h100")
    # vllm/engine/arg_utils.py get_batch_defaults: >= 70 GiB and no "a100" in the name -> 1024, else 256
    assert default_max_num_seqs(req, 80 * GIB, "NVIDIA H100 SXM5 80GB") == 1024
    assert default_max_num_seqs(req, 80 * GIB, "NVIDIA A100 80GB") == 256
    assert default_max_num_seqs(req, 24 * GIB, "NVIDIA GeForce RTX 4090") == 256
    assert default_max_num_seqs(ServeRequest(model="x", gpu="h100", vllm_version="v0"), 80 * GIB, "H100") == 256
    assert default_max_num_seqs(ServeRequest(model="x", gpu="h100", max_num_seqs=64), 80 * GIB, "H100") == 64


def test_h100_budget_leaves_room_for_the_larger_sampler_pass(engine):
    # 1024 rows x 128,256 vocab x 24 bytes: the profile peak rises from the 8192-token forward to the sampler pass
    h100 = estimate(ServeRequest(model="llama 3.1 8b", gpu="h100", context=16000), engine)
    fewer = estimate(ServeRequest(model="llama 3.1 8b", gpu="h100", context=16000, max_num_seqs=256), engine)
    assert h100.kv_cache_tokens < fewer.kv_cache_tokens
