"""The weight tensors of a model, as llama.cpp names and shapes them, derived from the catalog's architecture.

Counting tensors (rather than `params x bits`) matters because llama.cpp quantizes them differently: embeddings,
attention V and FFN down projections get other types than the bulk, and a row length that does not divide the block
size falls back to another type. A GGUF file gives the real list instead (bot/sizing/gguf_file.py).
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.catalog.schema import Model

# ggml types that store plain floats, one value per element; every other type is a quantization (ggml.h ggml_type)
UNQUANTIZED_TYPES = frozenset({"F32", "F16", "BF16"})


def is_quantized(type_name: str) -> bool:
    """Whether a ggml type (a tensor's, or a KV cache's as llama.cpp's -ctk/-ctv spell it: "q8_0") is quantized."""
    return type_name.upper() not in UNQUANTIZED_TYPES


@dataclass(frozen=True)
class TensorSpec:
    name: str            # llama.cpp name: token_embd, output, blk.{i}.attn_v, blk.{i}.ffn_down_exps ...
    # token_embd | output | attn_q | attn_k | attn_v | attn_output | ffn_gate | ffn_up | ffn_down | other | norm
    category: str
    layer: int | None    # block index, None outside the blocks
    n_elements: int
    row_length: int      # ne[0]: what the quantization block must divide
    expert: bool = False # a 3-D tensor of routed experts (can live in system RAM with --cpu-moe)


def model_tensors(model: Model) -> list[TensorSpec]:
    """Every weight tensor of `model`; parameters the architecture fields do not explain become one `other`
    tensor per block, so the total always matches the published parameter count."""
    h = model.hidden_size
    tensors = [TensorSpec("token_embd", "token_embd", None, model.vocab_size * h, h)]
    if not model.tied_embeddings:
        tensors.append(TensorSpec("output", "output", None, model.vocab_size * h, h))
    tensors.append(TensorSpec("output_norm", "norm", None, h, h))

    moe = model.moe
    moe_layers = (moe.moe_layers or model.layers) if moe else 0
    first_moe_layer = model.layers - moe_layers
    blocks: list[TensorSpec] = []
    for i in range(model.layers):
        blk = f"blk.{i}."
        blocks.append(TensorSpec(blk + "attn_norm", "norm", i, h, h))
        blocks.append(TensorSpec(blk + "ffn_norm", "norm", i, h, h))
        if model.mla is None:
            q = model.attention_heads * model.head_dim_k
            kv = model.kv_heads_at(i)
            blocks += [
                TensorSpec(blk + "attn_q", "attn_q", i, h * q, h),
                TensorSpec(blk + "attn_k", "attn_k", i, h * kv * model.head_dim_k, h),
                TensorSpec(blk + "attn_v", "attn_v", i, h * kv * model.head_dim_v, h),
                TensorSpec(blk + "attn_output", "attn_output", i, model.attention_heads * model.head_dim_v * h,
                           model.attention_heads * model.head_dim_v),
            ]
        if moe and i >= first_moe_layer:
            ff, n = moe.expert_ffn, moe.experts
            blocks += [
                TensorSpec(blk + "ffn_gate_exps", "ffn_gate", i, h * ff * n, h, expert=True),
                TensorSpec(blk + "ffn_up_exps", "ffn_up", i, h * ff * n, h, expert=True),
                TensorSpec(blk + "ffn_down_exps", "ffn_down", i, ff * h * n, ff, expert=True),
                TensorSpec(blk + "ffn_gate_inp", "norm", i, h * n, h),  # the router stays F32
            ]
            if moe.shared:
                sff = ff * moe.shared
                blocks += [
                    TensorSpec(blk + "ffn_gate_shexp", "ffn_gate", i, h * sff, h),
                    TensorSpec(blk + "ffn_up_shexp", "ffn_up", i, h * sff, h),
                    TensorSpec(blk + "ffn_down_shexp", "ffn_down", i, sff * h, sff),
                ]
        elif model.intermediate_size:
            ff = model.intermediate_size
            if model.gated_ffn:
                blocks.append(TensorSpec(blk + "ffn_gate", "ffn_gate", i, h * ff, h))
            blocks += [
                TensorSpec(blk + "ffn_up", "ffn_up", i, h * ff, h),
                TensorSpec(blk + "ffn_down", "ffn_down", i, ff * h, ff),
            ]
    tensors += blocks

    counted = sum(t.n_elements for t in tensors)
    unexplained = round(model.params_b * 1e9) - counted
    # MLA projections, biases, extra norms and vision towers are not described field by field in the catalog;
    # spread what the published parameter count leaves over the blocks, quantized like the bulk of the layer.
    if unexplained > 0.002 * counted:
        per_layer = unexplained // model.layers
        tensors += [TensorSpec(f"blk.{i}.other", "other", i, per_layer, h) for i in range(model.layers)]
    return tensors
