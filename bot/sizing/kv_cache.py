"""KV cache bytes, as llama.cpp allocates them (src/llama-kv-cache.cpp).

Per layer: cells x n_head_kv x (head_dim_k x bytes_k + head_dim_v x bytes_v), where the byte size of a quantized
cache type is its ggml row size (q8_0 = 34/32 bytes per value). Cells are the context padded up to 256. Sliding-
window layers keep only min(cells, pad(window x sequences + n_ubatch, 256)); MLA layers cache the compressed latent
(kv_lora_rank + rope_dim values per token, no separate V).
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


def kv_bytes_per_layer(model: Model, context: int, parallel: int, kv_type: str, catalog: Catalog) -> list[int]:
    t = catalog.tensor_type(kv_type)
    per_value = t.bytes_per_block / t.block_size
    cells = kv_cells(context, parallel)
    out = []
    for i in range(model.layers):
        n = layer_cells(model, i, cells, parallel)
        if model.mla is not None:
            values = model.mla.kv_lora_rank + model.mla.rope_dim
        else:
            values = model.kv_heads_at(i) * (model.head_dim_k + model.head_dim_v)
        out.append(round(n * values * per_value))
    return out
