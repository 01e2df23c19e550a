"""Which tensor type ik_llama.cpp's quantize gives each tensor of its own file types (IQ2_K ... IQ6_K, IQ4_KS,
IQ4_KSS): the counterpart of quant_mix.py for a fork whose rules differ from llama.cpp's.

A port of `llama_tensor_get_type` and `change_type_if_necessary` in ik_llama.cpp's src/llama-quantize.cpp
(ikawrakow/ik_llama.cpp @ 8337e4cd3861406fc04e0854b1409cd1b027fbc9), without an imatrix, as most community files
are made. Not ported: the IQ5_K attn_v / attn_q swaps that only apply to Llama-3 8B and 70B vocabularies (about
20 MB either way on an 8B, and they partly cancel).
"""
from __future__ import annotations

from bot.sizing.tensors import TensorSpec

IK_FILE_TYPES = frozenset({"IQ2_K", "IQ3_K", "IQ4_K", "IQ4_KS", "IQ4_KSS", "IQ5_K", "IQ6_K"})
QK_K = 256
# change_type_if_necessary: a row that is not a multiple of 256 falls back to a 32-block type
_FALLBACK = {"IQ2_K": "IQ4_NL", "IQ3_K": "IQ4_NL", "IQ4_KS": "IQ4_NL", "IQ4_KSS": "IQ4_NL", "IQ4_K": "Q5_0",
             "IQ5_K": "Q6_0", "IQ6_K": "Q8_0", "Q4_K": "Q5_0", "Q5_K": "Q6_0", "Q6_K": "Q8_0"}


def ik_tensor_type(name: str, t: TensorSpec, ctx) -> str:
    """The ggml type of tensor `t` in an ik_llama.cpp file of type `name` (`ctx`: quant_mix.MixContext)."""
    new = _rule(name, t, ctx)
    if new in _FALLBACK and t.row_length % QK_K != 0:
        new = _FALLBACK[new]
    return new


def _rule(name: str, t: TensorSpec, ctx) -> str:
    cat = t.category
    if cat == "output" or (cat == "token_embd" and ctx.tied):
        if t.row_length % QK_K != 0:
            return "Q8_0"
        if name in ("IQ2_K", "IQ3_K"):
            return "IQ4_K" if ctx.tied else "Q5_K"
        if name in ("IQ4_KS", "IQ4_KSS") and ctx.tied:
            return "IQ5_K"
        return name if name == "IQ6_K" else "Q6_K"
    if cat == "attn_v":
        return _attn_v(name, ctx)
    if cat == "attn_k" and ctx.n_expert >= 4:
        return "Q8_0"
    if cat == "ffn_down" and name in ("IQ4_KS", "IQ4_KSS") and (t.layer or 0) < ctx.n_layer // 8:
        return "Q5_K"
    if cat == "attn_output":
        if ctx.n_expert >= 4:
            return "Q5_K" if name in ("IQ2_K", "IQ3_K", "IQ4_K", "IQ4_KS", "IQ4_KSS") else name
        return "IQ3_K" if name == "IQ2_K" else name
    return name


def _attn_v(name: str, ctx) -> str:
    # one else-if chain in the source: the first condition that holds decides, even when it changes nothing
    if ctx.n_expert >= 4:
        return "Q8_0"
    if ctx.is_70b:
        return "IQ5_K" if name == "IQ3_K" else name
    if name == "IQ2_K":
        return "IQ4_K" if ctx.n_gqa >= 2 else "IQ3_K"
    if name == "IQ3_K":
        return "IQ4_K" if ctx.n_gqa >= 2 else name
    if name in ("IQ4_K", "IQ4_KS", "IQ4_KSS"):
        return "IQ5_K" if ctx.n_gqa >= 2 else name
    return name
