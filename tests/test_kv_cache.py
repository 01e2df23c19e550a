"""KV cache sizes against worked examples derived from llama.cpp's allocation (src/llama-kv-cache.cpp)."""

from bot.sizing.kv_cache import kv_bytes_per_layer

MIB, GIB = 2**20, 2**30


def test_llama31_8b_f16_at_8k_is_exactly_one_gib(catalog):
    # 32 layers x 8192 cells x 8 KV heads x (128 + 128) x 2 bytes = 1 GiB
    kv = kv_bytes_per_layer(catalog.model("llama-3.1-8b"), 8192, 1, "f16", catalog)
    assert sum(kv) == GIB


def test_q8_0_cache_costs_34_of_64_bytes_of_f16(catalog):
    model = catalog.model("llama-3.1-8b")
    assert sum(kv_bytes_per_layer(model, 8192, 1, "q8_0", catalog)) == GIB * 34 // 64


def test_context_is_padded_to_256_cells(catalog):
    model = catalog.model("llama-3.1-8b")
    assert kv_bytes_per_layer(model, 4000, 1, "f16", catalog) == kv_bytes_per_layer(model, 4096, 1, "f16", catalog)


def test_sliding_window_layers_stop_growing_past_the_window(catalog):
    model = catalog.model("gemma-3-27b")
    window = model.sliding_window.window
    short = kv_bytes_per_layer(model, 32768, 1, "f16", catalog)
    long = kv_bytes_per_layer(model, 65536, 1, "f16", catalog)
    windowed = [i for i in range(model.layers) if model.sliding_window.is_windowed(i)]
    assert all(short[i] == long[i] for i in windowed)
    full = [i for i in range(model.layers) if not model.sliding_window.is_windowed(i)]
    assert all(long[i] == 2 * short[i] for i in full)
    assert window < 32768


def test_mla_caches_the_latent_only(catalog):
    model = catalog.model("deepseek-v3")
    kv = kv_bytes_per_layer(model, 4096, 1, "f16", catalog)
    assert kv[0] == 4096 * (model.mla.kv_lora_rank + model.mla.rope_dim) * 2


def test_parallel_sequences_multiply_cells(catalog):
    model = catalog.model("qwen2.5-7b")
    one = sum(kv_bytes_per_layer(model, 4096, 1, "f16", catalog))
    assert sum(kv_bytes_per_layer(model, 4096, 4, "f16", catalog)) == 4 * one
