"""KV cache bytes, as llama.cpp allocates them.

Per layer: cells x n_head_kv x (head_dim_k x bytes_k + head_dim_v x bytes_v), where the byte size of a quantized
cache type is its ggml row size (q8_0 = 34/32 bytes per value). Cells are the context padded up to 256. Sliding-
window layers keep only min(cells, pad(window x sequences + n_ubatch, 256)); MLA layers cache the compressed latent
(kv_lora_rank + rope_dim values per token, no separate V).

Sources (llama.cpp, pinned):
- src/llama-kv-cache.cpp @ 3514e9f6e795d3b3cd88d6614f6c07e7ce6f916f, `llama_kv_cache::llama_kv_cache`: per layer
  `k = ggml_new_tensor_3d(ctx, type_k, n_embd_k_gqa, kv_size, n_stream)` and the same for v with n_embd_v_gqa;
  `GGML_ASSERT(kv_size % n_pad == 0)`.
- src/llama-hparams.cpp @ 8b1d44b90c2a985c6eee4583cc10e6897a9ff8b8: `n_embd_k_gqa(il) = n_embd_head_k * n_head_kv(il)`
  and `n_embd_v_gqa(il) = n_embd_head_v * n_head_kv(il)`: head dims from attention.key_length / value_length,
  KV heads per layer.
- src/llama-kv-cache-iswa.cpp @ 2aef9767d982beb7ab61b3ae359366f627eb74dd: `size_swa = GGML_PAD(std::min(size_base,
  hparams.n_swa*(unified ? n_seq_max : 1) + n_ubatch), 256)` ("the SWA cache is always padded to 256").
"""
from __future__ import annotations

from bot.catalog.load import Catalog
from bot.catalog.schema import Model

KV_PAD = 256
N_UBATCH = 512
KV_CACHE_TYPES = ("f16", "bf16", "f32", "q8_0", "q5_1", "q5_0", "q4_1", "q4_0", "iq4_nl")


def pad(n: int, to: int = KV_PAD) -> int:
    return -(-n // to) * to


def kv_cells(context: int, parallel: int) -> int:
    """Cells for `parallel` sequences of `context` tokens each."""
    return pad(context * parallel)


def layer_cells(model: Model, layer: int, cells: int, parallel: int) -> int:
    sw = model.sliding_window
    if sw is not None and sw.is_windowed(layer):
        return min(cells, pad(sw.window * parallel + N_UBATCH))
    return cells


def kv_values_per_token(model: Model, layer: int) -> int:
    """Values one token adds to the cache of `layer`: n_embd_k_gqa + n_embd_v_gqa, or the MLA latent. The one KV
    formula: llama.cpp's cache (here) and vLLM's blocks (bot/sizing/vllm.py) both count from it."""
    if model.mla is not None:
        return model.mla.kv_lora_rank + model.mla.rope_dim
    return model.kv_heads_at(layer) * (model.head_dim_k + model.head_dim_v)


def kv_bytes_per_layer(model: Model, context: int, parallel: int, kv_type: str, catalog: Catalog) -> list[int]:
    t = catalog.tensor_type(kv_type)
    per_value = t.bytes_per_block / t.block_size
    cells = kv_cells(context, parallel)
    return [round(layer_cells(model, i, cells, parallel) * kv_values_per_token(model, i) * per_value)
            for i in range(model.layers)]
