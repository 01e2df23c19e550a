"""The sizing engine's behaviour: verdicts, offload, multi-GPU, Macs, MoE, vLLM, and the properties any memory
model must keep (hypothesis)."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import InvalidRequestError, UnknownNameError
from bot.sizing.schema import SizingRequest

GIB = 2**30


def size(engine, **kw):
    return engine.size(SizingRequest(**kw))


def test_an_8b_model_fits_a_12gb_card(engine):
    r = size(engine, model="llama 3.1 8b", gpu="rtx 3060", context=8192)
    assert r.verdict == "fits"
    assert r.gpu_layers == r.total_layers == 33
    assert r.devices[0].need_bytes <= r.devices[0].usable_bytes


def test_a_70b_model_is_partially_offloaded_on_one_24gb_card(engine):
    r = size(engine, model="llama 3.3 70b", gpu="3090", ram_gb=64)
    assert r.verdict == "partial_offload"
    assert 0 < r.gpu_layers < r.total_layers
    assert r.devices[-1].layers > 0  # the rest sits in RAM


def test_two_3090s_hold_a_70b_at_q4_k_m_split_across_both(engine):
    r = size(engine, model="llama 3.3 70b", gpu="3090", gpus=2, context=8192)
    assert r.verdict == "fits"
    gpu_layers = [d.layers for d in r.devices if d.kind == "gpu"]
    assert len(gpu_layers) == 2 and all(n > 30 for n in gpu_layers)


def test_unequal_cards_get_layers_in_proportion(engine):
    r = size(engine, model="qwen2.5 32b", gpu="rtx 3090+rtx 3060", context=4096)
    big, small = [d for d in r.devices if d.kind == "gpu"]
    assert big.layers > small.layers


def test_without_ram_for_the_rest_it_does_not_fit(engine):
    r = size(engine, model="llama 3.1 405b", gpu="rtx 4090", ram_gb=32)
    assert r.verdict == "does_not_fit"


def test_cpu_only_when_no_gpu_is_given(engine):
    r = size(engine, model="qwen2.5 7b", ram_gb=32)
    assert r.verdict == "cpu_only"
    assert r.gpu_layers == 0 and r.decode_tokens_per_s is not None


def test_mac_usable_memory_is_the_metal_working_set(engine, catalog):
    mac = next(h for h in catalog.hardware if h.vendor == "apple" and 16 in h.memory_options_gb)
    r = size(engine, model="llama 3.1 8b", gpu=mac.id, memory_gb=16)
    assert r.devices[0].kind == "unified"
    assert r.devices[0].usable_bytes == 16 * GIB * 2 // 3


def test_moe_decode_reads_only_active_experts(engine):
    moe = size(engine, model="qwen3 30b a3b", gpu="rtx 4090", context=4096)
    dense = size(engine, model="qwen3 32b", gpu="rtx 4090", context=4096)
    assert moe.decode_tokens_per_s.high > 3 * dense.decode_tokens_per_s.high


def test_experts_in_ram_frees_gpu_memory(engine):
    normal = size(engine, model="qwen3 235b a22b", gpu="rtx 3090", ram_gb=192)
    experts = size(engine, model="qwen3 235b a22b", gpu="rtx 3090", ram_gb=192, experts_in_ram=True)
    assert experts.gpu_layers == experts.total_layers > normal.gpu_layers
    assert experts.verdict == "partial_offload"


def test_flash_attention_off_grows_the_compute_buffer_with_context(engine):
    on = size(engine, model="llama 3.1 8b", gpu="rtx 4090", context=32768)
    off = size(engine, model="llama 3.1 8b", gpu="rtx 4090", context=32768, flash_attention=False)
    assert off.compute_bytes > 4 * on.compute_bytes


def test_quantized_kv_cache_raises_the_largest_context(engine):
    f16 = size(engine, model="qwen2.5 14b", gpu="rtx 4070 ti super", context=8192)
    q8 = size(engine, model="qwen2.5 14b", gpu="rtx 4070 ti super", context=8192, kv_cache_type="q8_0")
    assert q8.max_context > f16.max_context


def test_largest_context_really_is_the_largest(engine):
    r = size(engine, model="llama 3.1 8b", gpu="rtx 3060", context=8192)
    assert size(engine, model="llama 3.1 8b", gpu="rtx 3060", context=r.max_context).verdict == "fits"
    assert size(engine, model="llama 3.1 8b", gpu="rtx 3060", context=r.max_context + 256).verdict != "fits"


def test_best_quant_is_the_most_faithful_that_fits(engine):
    r = size(engine, model="qwen2.5 32b", gpu="rtx 3090", context=8192)
    assert r.best_quant is not None
    assert size(engine, model="qwen2.5 32b", gpu="rtx 3090", context=8192, quant=r.best_quant).verdict == "fits"
    assert r.best_quant not in ("Q8_0", "Q6_K")  # 32B at 6+ bits is over 24 GB


def test_vllm_preallocates_and_derives_the_max_context(engine):
    r = size(engine, model="llama 3.1 8b", gpu="rtx 4090", runtime="vllm", context=8192)
    assert r.verdict == "fits" and r.max_context > 8192
    too_big = size(engine, model="llama 3.1 70b", gpu="rtx 4090", runtime="vllm", quant="AWQ-4bit")
    assert too_big.verdict == "does_not_fit"


def test_json_keeps_the_public_keys(engine):
    data = size(engine, model="llama 3.1 8b", gpu="rtx 3060").model_dump()
    for key in ("model", "quant", "context", "verdict", "weights_bytes", "kv_cache_bytes", "total_bytes", "devices",
                "gpu_layers", "total_layers", "decode_tokens_per_s", "max_context", "best_quant", "assumptions"):
        assert key in data
    assert set(data["model"]) >= {"id", "name", "params_b", "active_params_b"}
    assert set(data["devices"][0]) >= {"name", "kind", "usable_bytes", "weights_bytes", "kv_cache_bytes",
                                       "compute_bytes", "overhead_bytes", "layers"}
    assert set(data["decode_tokens_per_s"]) == {"low", "high"}


# --- bad input -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kw,match", [
    (dict(context=0), "Context must be between"),
    (dict(context=10**9), "Context must be between"),
    (dict(gpus=0), "gpus must be between"),
    (dict(gpus=1000), "gpus must be between"),
    (dict(kv_cache_type="q4_0", flash_attention=False), "needs flash attention"),
    (dict(experts_in_ram=True), "dense model"),
    (dict(quant="AWQ-4bit", runtime="llama.cpp"), "not a GGUF quantization"),
    (dict(runtime="vllm", quant="Q4_K_M"), "GGUF type"),
    (dict(kv_cache_type="q3_k"), "not one llama.cpp offers"),
    (dict(ram_gb=-4), "ram_gb must be"),
])
def test_bad_options_are_clear_errors(engine, kw, match):
    with pytest.raises(InvalidRequestError, match=match):
        size(engine, **{"model": "llama 3.1 8b", "gpu": "rtx 3060", **kw})


def test_unknown_gpu_suggests_the_closest_names(engine):
    with pytest.raises(UnknownNameError) as err:
        size(engine, model="llama 3.1 8b", gpu="rtx 3090 tii")
    assert "rtx-3090-ti" in err.value.suggestions or "rtx-3090" in err.value.suggestions


def test_unknown_model_suggests_the_closest_names(engine):
    with pytest.raises(UnknownNameError) as err:
        size(engine, model="lama 3.1 8b", gpu="rtx 3060")
    assert "llama-3.1-8b" in err.value.suggestions


def test_names_are_matched_as_people_type_them(catalog):
    assert catalog.gpu("RTX3090").id == catalog.gpu("rtx 3090").id == catalog.gpu("3090").id
    assert catalog.model("Llama3.1:8b").id == "llama-3.1-8b"


# --- properties ------------------------------------------------------------------------------------------------
MODELS = ["llama-3.1-8b", "qwen2.5-14b", "gemma-3-27b", "mixtral-8x7b", "deepseek-r1-distill-qwen-32b"]
QUANTS = ["Q2_K", "Q3_K_M", "Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0"]


@settings(max_examples=40, deadline=None)
@given(model=st.sampled_from(MODELS), a=st.integers(1, 256), b=st.integers(1, 256))
def test_memory_grows_with_context(engine, model, a, b):
    lo, hi = sorted((a * 512, b * 512))
    r_lo = size(engine, model=model, gpu="h100 sxm", context=lo)
    r_hi = size(engine, model=model, gpu="h100 sxm", context=hi)
    assert r_hi.kv_cache_bytes >= r_lo.kv_cache_bytes and r_hi.total_bytes >= r_lo.total_bytes


@settings(max_examples=40, deadline=None)
@given(model=st.sampled_from(MODELS), i=st.integers(0, len(QUANTS) - 2))
def test_memory_grows_with_bits_per_weight(engine, model, i):
    low = size(engine, model=model, quant=QUANTS[i], ram_gb=512)
    high = size(engine, model=model, quant=QUANTS[i + 1], ram_gb=512)
    assert high.weights_bytes > low.weights_bytes


@settings(max_examples=40, deadline=None)
@given(model=st.sampled_from(MODELS), a=st.integers(4, 200), b=st.integers(4, 200), ctx=st.integers(1, 64))
def test_more_memory_never_turns_fits_into_does_not_fit(engine, model, a, b, ctx):
    small, big = sorted((a, b))
    order = ["does_not_fit", "cpu_only", "partial_offload", "fits"]
    r_small = size(engine, model=model, gpu="rtx 3090", memory_gb=small, ram_gb=64, context=ctx * 512)
    r_big = size(engine, model=model, gpu="rtx 3090", memory_gb=big, ram_gb=64, context=ctx * 512)
    assert order.index(r_big.verdict) >= order.index(r_small.verdict)
    assert r_big.gpu_layers >= r_small.gpu_layers


@settings(max_examples=30, deadline=None)
@given(model=st.sampled_from(MODELS), k=st.integers(1, 64))
def test_kv_cache_is_linear_in_context(engine, model, k):
    one = size(engine, model=model, gpu="h100 sxm", context=256 * k).kv_cache_bytes
    two = size(engine, model=model, gpu="h100 sxm", context=512 * k).kv_cache_bytes
    sw = engine.catalog.model(model).sliding_window
    if sw is None:
        assert two == 2 * one
    else:
        assert one < two <= 2 * one
