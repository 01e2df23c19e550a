"""Which ggml tensor type llama.cpp gives each tensor of a file type, and what that costs in bytes.

A port of the rules in `llama_tensor_get_type`
(llama.cpp src/llama-quant.cpp @ 8784689fee07c6daabf3487d24e1535534ef6e6b;
later versions split it into `llama_tensor_get_type_impl` and `tensor_type_fallback`) for the file types people
download; checked against the sizes llama.cpp's quantize tool publishes for Llama-3-8B (tests/test_quant_mix.py).
"""
from __future__ import annotations

from bot.catalog.schema import FileType, Model
from bot.sizing.quant_mix_ik import IK_FILE_TYPES, ik_tensor_type
from bot.sizing.tensors import TensorSpec, is_quantized

_IQ2_LIKE = {"IQ2_XXS", "IQ2_XS", "IQ1_S", "IQ2_S", "IQ2_M", "IQ1_M"}
# llama.cpp falls back to these when a row length is not a multiple of the type's block size, and to F16 when the
# fallback does not divide it either (the `convert_incompatible_tensor` switch, same file and commit)
_FALLBACK = {
    "IQ1_S": "IQ4_NL", "IQ1_M": "IQ4_NL", "IQ2_XXS": "IQ4_NL", "IQ2_XS": "IQ4_NL", "IQ2_S": "IQ4_NL",
    "IQ3_XXS": "IQ4_NL", "IQ3_S": "IQ4_NL", "IQ4_XS": "IQ4_NL",
    "Q2_K": "Q4_0", "Q3_K": "Q4_0", "TQ1_0": "Q4_0", "TQ2_0": "Q4_0",
    "Q4_K": "Q5_0", "Q5_K": "Q5_1", "Q6_K": "Q8_0",
}


def _use_more_bits(i: int, n: int) -> bool:
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


class MixContext:
    """The model-level facts the rules look at (GQA ratio, expert count, 70B size class)."""

    def __init__(self, model: Model, n_attn_v: int, n_ffn_down: int):
        kv = model.kv_heads if isinstance(model.kv_heads, int) else max(model.kv_heads)
        self.n_gqa = model.attention_heads // kv if kv else 1
        self.n_expert = model.moe.experts if model.moe else 0
        self.is_70b = model.architecture == "llama" and model.layers == 80
        self.n_layer = model.layers
        # a tied model's single embedding matrix is quantized like the output head
        self.tied = model.tied_embeddings
        self.n_attn_v = n_attn_v
        self.n_ffn_down = n_ffn_down


def tensor_type(ft: FileType, t: TensorSpec, ctx: MixContext, i_attn_v: int, i_ffn_down: int, block_size) -> str:
    """The ggml type of tensor `t` in a file of type `ft` (llama.cpp rules, unquantized tensors kept at F32)."""
    if t.category == "norm":
        return "F32"
    name, base = ft.name, ft.default_type
    if not is_quantized(base):
        return base
    if name in IK_FILE_TYPES:                  # ik_llama.cpp's own file types follow that fork's rules
        return ik_tensor_type(name, t, ctx)
    new = base
    cat = t.category
    if name == "MXFP4_MOE":
        new = "MXFP4" if t.expert else "Q8_0"
        if cat in ("output", "token_embd"):
            new = "Q8_0"
    elif cat == "output" or (cat == "token_embd" and ctx.tied):
        if t.row_length % block_size(base) != 0:
            new = "Q8_0"
        elif name in {"IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ2_S", "IQ2_M", "IQ1_M"}:
            new = "Q5_K"
        elif base != "Q8_0":
            new = "Q6_K"
    elif cat == "token_embd":
        if name in {"IQ2_XXS", "IQ2_XS", "IQ1_S", "IQ1_M"}:
            new = "Q2_K"
        elif name in {"IQ2_S", "IQ2_M", "IQ3_XXS"}:
            new = "IQ3_S"
    elif name in _IQ2_LIKE:
        if cat == "attn_v":
            new = "Q4_K" if (ctx.n_gqa >= 4 or ctx.n_expert >= 4) else (
                "IQ3_S" if name in {"IQ2_S", "IQ2_M"} else "Q2_K")
        elif ctx.n_expert == 8 and cat == "attn_k":
            new = "Q4_K"
        elif cat == "ffn_down" and i_ffn_down < ctx.n_ffn_down // 8:
            new = "IQ3_S" if name in {"IQ2_S", "IQ2_M"} else "Q2_K"
        elif cat == "attn_output":
            if ctx.n_expert == 8:
                new = "Q5_K"
            elif name in {"IQ1_S", "IQ1_M"}:
                new = "IQ2_XXS"
            elif name in {"IQ2_S", "IQ2_M"}:
                new = "IQ3_S"
    elif cat == "attn_v":
        new = _attn_v_type(name, base, ctx, i_attn_v)
    elif cat == "attn_k" and ctx.n_expert == 8:
        new = "Q8_0"
    elif cat in ("attn_k", "attn_q") and name in ("IQ3_XS", "IQ3_XXS"):
        new = "IQ3_XXS" if name == "IQ3_XS" else "IQ2_S"
    elif cat == "ffn_down":
        new = _ffn_down_type(name, base, t.layer or 0, ctx)
    elif cat == "attn_output":
        if ctx.n_expert == 8:
            if name in {"Q2_K", "IQ3_XS", "IQ3_XXS", "Q3_K_S", "Q3_K_M", "IQ4_NL", "Q4_K_S", "Q4_K_M",
                        "IQ3_S", "IQ3_M", "IQ4_XS"}:
                new = "Q5_K"
        else:
            new = {"Q2_K": "Q3_K", "IQ3_XXS": "IQ3_S", "Q3_K_M": "Q4_K", "Q3_K_L": "Q5_K",
                   "IQ3_M": "Q4_K"}.get(name, base)
    elif cat in ("ffn_gate", "ffn_up") and name == "IQ3_XS":
        i = t.layer or 0
        if ctx.n_layer // 8 <= i < 7 * ctx.n_layer // 8:
            new = "IQ3_XXS"

    if t.row_length % block_size(new) != 0:
        new = _FALLBACK.get(new, new)
        if t.row_length % block_size(new) != 0:
            new = "F16"
    return new


def _attn_v_type(name: str, base: str, ctx: MixContext, i: int) -> str:
    new = base
    if name == "Q2_K":
        new = "Q4_K" if ctx.n_gqa >= 4 else "Q3_K"
    elif name == "IQ3_XXS":
        new = "Q4_K" if ctx.n_gqa >= 4 else "IQ3_S"  # without an imatrix, as most community files are made
    elif name in ("IQ3_XS", "IQ3_S") and ctx.n_gqa >= 4:
        new = "Q4_K"
    elif name == "IQ3_M":
        new = "Q4_K"
    elif name == "Q3_K_M":
        new = "Q5_K" if i < 2 else "Q4_K"
    elif name == "Q3_K_L":
        new = "Q5_K"
    elif name in ("IQ4_NL", "IQ4_XS") and ctx.n_gqa >= 4:
        new = "Q5_K"
    elif name in ("Q4_K_M", "Q5_K_M") and _use_more_bits(i, ctx.n_attn_v):
        new = "Q6_K"
    elif name == "Q4_K_S" and i < 4:
        new = "Q5_K"
    if ctx.is_70b and new in ("Q3_K", "Q4_K"):
        new = "Q5_K"
    if ctx.n_expert == 8:
        new = "Q8_0"
    return new


def _ffn_down_type(name: str, base: str, i: int, ctx: MixContext) -> str:
    n = ctx.n_layer
    if name == "Q2_K":
        return "Q3_K"
    if name == "IQ3_XXS":
        return "Q4_K" if i < n // 8 else "Q3_K"
    if name == "Q3_K_M":
        return "Q5_K" if i < n // 16 else "Q4_K"
    if name == "IQ3_M" and (i < n // 8 or (ctx.n_expert == 8 and _use_more_bits(i, n))):
        return "Q4_K"
    if name == "Q3_K_L":
        return "Q5_K"
    if name == "Q4_K_M":
        return "Q6_K" if _use_more_bits(i, n) else base
    if name in ("IQ4_NL", "IQ4_XS") and i < n // 8:
        return "Q5_K"
    if name == "Q5_K_M" and _use_more_bits(i, n):
        return "Q6_K"
    if name == "Q4_K_S" and i < n // 8:
        return "Q5_K"
    return base
