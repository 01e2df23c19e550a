"""Scratch memory for the compute graph (llama.cpp's "compute buffer"), per device that runs layers.

Fitted to llama.cpp's own reservation on the bundled SmolLM2 (tests/test_gguf_exact.py) and of the same form as
Ollama's llama estimate (`fs/ggml/ggml.go GraphSize`): the logits of one ubatch, or without flash attention the
f32 attention scores of one ubatch against the whole cache, whichever is larger.
"""
from __future__ import annotations

from bot.sizing.kv_cache import N_UBATCH


def compute_buffer_bytes(hidden: int, vocab: int, heads: int, ffn: int, cells: int, flash_attention: bool) -> int:
    b = min(N_UBATCH, cells)
    logits = 4 * b * (vocab + 3 * hidden)
    ffn_part = 4 * b * (2 * ffn + hidden)
    need = max(logits, ffn_part)
    if not flash_attention:
        scores = 4 * b * (cells * (heads + 1) + 6 * hidden)
        need = max(need, scores)
    return need
