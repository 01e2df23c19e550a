"""Weights sized tensor by tensor with llama.cpp's type rules agree with the sizes llama.cpp publishes.

Worked example: Llama-3-8B file sizes per file type, as printed by llama.cpp's quantize tool
(tools/quantize/quantize.cpp, the "G" there is GiB).
"""
import pytest

from bot.sizing.weights import catalog_layout

GIB = 2**30
LLAMA3_8B_GIB = {
    "Q2_K": 2.96, "Q3_K_S": 3.41, "Q3_K_M": 3.74, "Q3_K_L": 4.03, "Q4_0": 4.34, "Q4_1": 4.78,
    "Q4_K_S": 4.37, "Q4_K_M": 4.58, "Q5_0": 5.21, "Q5_1": 5.65, "Q5_K_S": 5.21, "Q5_K_M": 5.33,
    "Q6_K": 6.14, "Q8_0": 7.96,
}


@pytest.mark.parametrize("quant,published", sorted(LLAMA3_8B_GIB.items()))
def test_llama3_8b_file_sizes_match_llama_cpp_quantize(catalog, quant, published):
    layout = catalog_layout(catalog.model("llama-3-8b"), catalog.file_type(quant), catalog)
    assert layout.file_bytes / GIB == pytest.approx(published, rel=0.03)


def test_q4_k_m_keeps_half_the_attn_v_and_ffn_down_at_q6_k(catalog):
    layout = catalog_layout(catalog.model("llama-3-8b"), catalog.file_type("Q4_K_M"), catalog)
    assert set(layout.bytes_by_type) == {"Q4_K", "Q6_K", "F32"}


def test_rows_not_divisible_by_256_fall_back_like_llama_cpp(catalog):
    # Qwen2.5-72B's ffn_down rows are 29568 long, not a multiple of 256: Q4_K falls back to Q5_0 (llama-quant.cpp)
    layout = catalog_layout(catalog.model("qwen2.5-72b"), catalog.file_type("Q4_K_M"), catalog)
    assert layout.bytes_by_type.get("Q5_0", 0) > 0


def test_mxfp4_moe_puts_experts_in_mxfp4_and_the_rest_in_q8_0(catalog):
    layout = catalog_layout(catalog.model("gpt-oss-20b"), catalog.file_type("MXFP4_MOE"), catalog)
    assert {"MXFP4", "Q8_0"} <= set(layout.bytes_by_type)
    assert layout.bytes_by_type["MXFP4"] > layout.bytes_by_type["Q8_0"]
