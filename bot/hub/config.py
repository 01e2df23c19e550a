"""A repo's config.json (transformers' format) -> a catalog Model: the architecture fields the sizing engine reads.

Field names follow transformers' configuration classes (LlamaConfig, Qwen3MoeConfig, DeepseekV3Config,
Gemma3TextConfig, GptOssConfig, ...); `architecture` is llama.cpp's name for it, as in the catalog."""
from __future__ import annotations

import re

from pydantic import ValidationError

from bot.catalog.load import normalize
from bot.catalog.schema import MLA, Model, MoE, SlidingWindow
from bot.hub.errors import HubFileError
from bot.sizing.gguf_file import SWA_GLOBAL_EVERY
from bot.sizing.tensors import model_tensors

# transformers' model_type -> llama.cpp's architecture name, where dropping the underscores does not give it
ARCHITECTURE = {
    "mistral": "llama", "mixtral": "llama", "mistral3": "llama", "deepseek_v2": "deepseek2", "deepseek_v3": "deepseek2",
    "kimi_k2": "deepseek2", "gemma3_text": "gemma3", "gemma3n_text": "gemma3n", "gpt_oss": "gpt-oss",
    "cohere": "command-r", "phi": "phi2", "llama4_text": "llama4", "minimax_m2": "minimax-m2", "seed_oss": "seed_oss",
    "qwen2_5_vl": "qwen2vl", "qwen3_vl": "qwen3vl", "qwen3_vl_moe": "qwen3vlmoe",
}
FAMILY = {"gpt-oss": "gpt-oss", "command-r": "command-r", "cohere2": "command-r", "seed_oss": "seed-oss",
          "minimax-m2": "minimax"}
# the plain two-matrix MLP (no gate projection); every other architecture here is SwiGLU / GeGLU
PLAIN_MLP = {"falcon", "phi", "starcoder2", "nemotron", "gpt2", "gpt_neox", "gptj", "bloom", "mpt", "opt",
             "gpt_bigcode"}


def _first(c: dict, *keys, default=None):
    for key in keys:
        if c.get(key) is not None:
            return c[key]
    return default


def _moe(c: dict, layers: int) -> MoE | None:
    experts = _first(c, "num_experts", "num_local_experts", "n_routed_experts", "moe_num_experts")
    if not experts or int(experts) < 2:
        return None
    expert_ffn = int(_first(c, "moe_intermediate_size", "intermediate_size"))
    shared = _first(c, "n_shared_experts", "num_shared_experts", default=0)
    if not shared and c.get("shared_expert_intermediate_size"):
        shared = max(1, round(c["shared_expert_intermediate_size"] / expert_ffn))
    dense_first = int(c.get("first_k_dense_replace") or 0)
    step = int(c.get("decoder_sparse_step") or 1)
    dense_only = set(c.get("mlp_only_layers") or [])
    moe_layers = sum(1 for i in range(dense_first, layers) if i not in dense_only and (i + 1) % step == 0)
    return MoE(experts=int(experts), active=int(_first(c, "num_experts_per_tok", "experts_per_token", "moe_topk",
                                                        default=1)),
               shared=int(shared), expert_ffn=expert_ffn, moe_layers=moe_layers or None)


def _sliding_window(c: dict, arch: str) -> SlidingWindow | None:
    window = _first(c, "sliding_window", "attention_chunk_size")
    if not window or c.get("use_sliding_window") is False:
        return None
    kinds = c.get("layer_types") or []
    if "full_attention" in kinds and any(k != "full_attention" for k in kinds):
        return SlidingWindow(window=int(window), global_every=kinds.index("full_attention") + 1)
    if c.get("sliding_window_pattern"):
        return SlidingWindow(window=int(window), global_every=int(c["sliding_window_pattern"]))
    if arch in SWA_GLOBAL_EVERY:
        return SlidingWindow(window=int(window), global_every=SWA_GLOBAL_EVERY[arch])
    return None    # Mistral 7B v0.1 and Qwen2 name a window that llama.cpp does not apply


def model_from_config(config: dict, repo: str, endpoint: str, revision: str = "main",
                      params_total: int | None = None) -> Model:
    """The Model a config.json describes. `params_total` (the Hub's safetensors count) is used unless the weights
    are packed by a quantization (its count is then of packed integers); otherwise parameters are counted from the
    tensor shapes."""
    c = {**config, **(config.get("text_config") or {})}
    model_type = str(c.get("model_type") or "").lower()
    if not model_type:
        raise HubFileError(f"{repo}'s config.json has no model_type: it is not a transformers model config.")
    arch = ARCHITECTURE.get(model_type, model_type.replace("_", ""))
    try:
        hidden = int(_first(c, "hidden_size", "n_embd", "d_model"))
        layers = int(_first(c, "num_hidden_layers", "n_layer", "num_layers"))
        heads = int(_first(c, "num_attention_heads", "n_head", "num_heads"))
        kv_heads = int(_first(c, "num_key_value_heads", "num_kv_heads", "multi_query_group_num", "n_head_kv",
                              default=1 if c.get("multi_query") else heads))
        head_k = head_v = int(c.get("head_dim") or hidden // heads)
        mla = None
        if c.get("kv_lora_rank"):
            rope = int(c["qk_rope_head_dim"])
            mla = MLA(kv_lora_rank=int(c["kv_lora_rank"]), rope_dim=rope)
            head_k, head_v = int(c["qk_nope_head_dim"]) + rope, int(c["v_head_dim"])
        moe = _moe(c, layers)
        dense_layers = moe is not None and (moe.moe_layers or layers) < layers
        intermediate = c.get("intermediate_size") if moe is None or dense_layers else None
        if moe is None and not intermediate:
            intermediate = _first(c, "ffn_hidden_size", "n_inner", default=4 * hidden)
        name = repo.split("/", 1)[1]
        fields = dict(
            id=normalize_id(repo), name=name, family=FAMILY.get(arch) or re.match(r"[a-z]*", arch).group() or arch,
            architecture=arch, aliases=[repo], layers=layers, hidden_size=hidden,
            intermediate_size=int(intermediate) if intermediate else None, attention_heads=heads, kv_heads=kv_heads,
            head_dim_k=head_k, head_dim_v=head_v, vocab_size=int(c["vocab_size"]),
            context_length=int(_first(c, "max_position_embeddings", "seq_length", "n_positions", default=4096)),
            tied_embeddings=bool(c.get("tie_word_embeddings", True)),
            gated_ffn=model_type not in PLAIN_MLP and c.get("hidden_act") != "relu2",
            sliding_window=_sliding_window(c, arch), mla=mla, moe=moe,
            sources=[f"{endpoint}/{repo}/blob/{revision}/config.json", f"{endpoint}/{repo}"])
        draft = Model(params_b=1e-9, **fields)
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        raise HubFileError(f"{repo}'s config.json does not describe a model this bot can size "
                           f"({_reason(exc)}).") from None
    tensors = model_tensors(draft)
    counted = sum(t.n_elements for t in tensors)
    experts = sum(t.n_elements for t in tensors if t.expert)
    total = params_total if params_total and not c.get("quantization_config") else counted
    active = total - experts * (1 - moe.active / moe.experts) if moe else total
    return draft.model_copy(update={"params_b": round(total / 1e9, 3), "active_params_b": round(active / 1e9, 3)})


def normalize_id(repo: str) -> str:
    """A catalog id for a repo (owner included, so it never collides with a catalog entry)."""
    return re.sub(r"[^a-z0-9.]+", "-", repo.lower()).strip("-.") or normalize(repo)


def _reason(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"no {exc.args[0]}"
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:2])
    return str(exc) or type(exc).__name__
