"""Fine-tuning memory per GPU: full (mixed precision, ZeRO/FSDP stages), LoRA and QLoRA.

M_gpu = weights + adapters + gradients + optimizer + activations + logits + overhead
(../shared/reference/calculators.md §3). Every term is counted from the catalog's shapes through the sizing
engine's tensor list (bot/sizing/tensors.py `model_tensors`), so LoRA adapters follow each linear layer's real
in/out sizes. Each term is a range: the low side takes the ZeRO paper's byte accounting, logits kept as one fp32
copy and 1 GB of CUDA context; the high side takes Hugging Face's "anatomy" accounting, three logits copies and
2 GB. Sources, by the keys of calculators.md §6:
- [zero] Rajbhandari et al., arXiv:1910.02054: 2 + 2 + K bytes per parameter, K = 12 for AdamW (fp32 master,
  m, v), partitioned by stage over N GPUs.
- [anatomy] huggingface/transformers docs/source/en/model_memory_anatomy.md @7d5e65fe8a39e4a2c272f194d753dcfca5782b22:
  6 bytes weights (fp32 + 16-bit copy), 4 gradients, 8 AdamW, 2 with 8-bit AdamW, 4 SGD with momentum;
  CUDA kernels take "1-2GB".
- [lora] Hu et al., arXiv:2106.09685 and huggingface/peft src/peft/tuners/lora/layer.py `update_layer`:
  A (d_in x r) and B (r x d_out) per adapted linear; peft_model.py `autocast_adapter_dtype` keeps them fp32.
- [qlora] Dettmers et al., arXiv:2305.14314 §3: NF4 with double quantization is 4.127 bits per parameter;
  transformers' bitsandbytes integration `get_keys_to_not_convert` leaves embeddings and lm_head 16-bit.
- [bnb] bitsandbytes optimizer docs: 8-bit states are 1 byte each, paged optimizers spill to CPU RAM.
- [kor] Korthikanti et al., arXiv:2205.05198: activations per layer are the tensors saved for backward; with
  full recompute only each layer's input (2·s·b·h bytes) is kept, plus one layer while it is recomputed.
- [flash] Dao et al., arXiv:2205.14135: fused attention keeps no s x s matrix.
- [tf-loss] transformers src/transformers/loss/loss_utils.py `ForCausalLMLoss`: logits upcast to fp32.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.calc.schema import FinetuneResult, FitVerdict, MemoryParts, Range
from bot.catalog.load import Catalog
from bot.catalog.schema import Model
from bot.errors import InvalidRequestError
from bot.sizing.devices import GIB
from bot.sizing.tensors import TensorSpec, model_tensors

Method = Literal["full", "lora", "qlora"]
LINEAR = ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down", "other")
# how people name LoRA target modules (PEFT / Unsloth spelling) -> the engine's tensor categories
TARGETS = {"q": "attn_q", "k": "attn_k", "v": "attn_v", "o": "attn_output",
           "gate": "ffn_gate", "up": "ffn_up", "down": "ffn_down"}
ALL_TARGETS = ("q", "k", "v", "o", "gate", "up", "down")
OPTIMIZERS = ("adamw", "adamw8bit", "paged_adamw8bit", "sgd")
# optimizer state bytes per trainable parameter besides weights and gradients: [zero] K (fp32 master + m + v);
# [anatomy] without the master copy (counted in its 6-byte weights). 8-bit states are 1 byte each [bnb].
OPT_BYTES_ZERO = {"adamw": 12, "adamw8bit": 6, "paged_adamw8bit": 6, "sgd": 8}
OPT_BYTES_ANATOMY = {"adamw": 8, "adamw8bit": 2, "paged_adamw8bit": 2, "sgd": 4}
# adapters: fp32 weight 4 + fp32 gradient 4 + optimizer states (2 x 4 AdamW, 2 x 1 in 8 bits, 4 SGD momentum)
ADAPTER_OPT_BYTES = {"adamw": 8, "adamw8bit": 2, "paged_adamw8bit": 2, "sgd": 4}
NF4_DQ_BITS = 4.127                          # [qlora] NF4 + double quantization
LOGITS_BYTES = (4, 10)                       # per logit element: one fp32 copy .. fp32 + grad + 16-bit [tf-loss]
OVERHEAD = (1 * GIB, 2 * GIB)                # CUDA context and kernels, "1-2GB" [anatomy]
TIGHT_MARGIN = 0.95                          # "tight": the high estimate passes 95 % of the card


@dataclass(frozen=True)
class FinetuneRequest:
    model: str
    method: Method = "qlora"
    seq_len: int = 2048
    batch_size: int = 1
    gradient_checkpointing: bool = True
    lora_rank: int = 16
    lora_targets: tuple[str, ...] = ALL_TARGETS
    optimizer: str | None = None             # default: paged_adamw8bit for QLoRA, adamw otherwise
    gpus: int = 1
    zero_stage: int = 0                      # full fine-tuning only: 0 (DDP) .. 3 (FSDP FULL_SHARD)
    frozen_layers: int = 0                   # full fine-tuning: the first N blocks get no gradients
    gpu: str | None = None


def _check(req: FinetuneRequest, model: Model) -> str:
    if req.method not in ("full", "lora", "qlora"):
        raise InvalidRequestError("method must be full, lora or qlora.")
    if not 1 <= req.seq_len <= 1_048_576:
        raise InvalidRequestError("seq_len must be between 1 and 1,048,576 tokens.")
    if not 1 <= req.batch_size <= 4096:
        raise InvalidRequestError("batch size must be between 1 and 4096.")
    if not 1 <= req.gpus <= 1024:
        raise InvalidRequestError("gpus must be between 1 and 1024.")
    if req.zero_stage not in (0, 1, 2, 3):
        raise InvalidRequestError("ZeRO stage must be 0, 1, 2 or 3.")
    if req.method != "full" and req.zero_stage:
        raise InvalidRequestError("ZeRO/FSDP stages are sized for full fine-tuning only; LoRA states are tiny.")
    if not 0 <= req.frozen_layers <= model.layers:
        raise InvalidRequestError(f"frozen_layers must be between 0 and {model.layers}.")
    if req.method != "full" and not 1 <= req.lora_rank <= 4096:
        raise InvalidRequestError("LoRA rank must be between 1 and 4096.")
    unknown = [t for t in req.lora_targets if t not in TARGETS]
    if unknown:
        raise InvalidRequestError(f"Unknown LoRA target(s) {', '.join(unknown)}; use {', '.join(ALL_TARGETS)}.")
    optimizer = req.optimizer or ("paged_adamw8bit" if req.method == "qlora" else "adamw")
    if optimizer not in OPTIMIZERS:
        raise InvalidRequestError(f"optimizer must be one of {', '.join(OPTIMIZERS)}.")
    return optimizer


def lora_params(tensors: list[TensorSpec], rank: int, targets: tuple[str, ...]) -> int:
    """Ψ_t = Σ r·(d_in + d_out) over adapted linears [lora]; routed-expert tensors are not nn.Linear modules."""
    wanted = {TARGETS[t] for t in targets}
    total = 0
    for t in tensors:
        if t.category in wanted and not t.expert:
            d_in = t.row_length
            total += rank * (d_in + t.n_elements // d_in)
    return total


def activation_bytes_per_token_layer(model: Model) -> int:
    """16-bit tensors one decoder layer saves for backward, per token, with fused attention [kor; flash]
    (derived for a pre-norm block): both norm inputs and outputs (4h), Q and attention output (2·H_q·d),
    K and V (2·H_kv·d), and the MLP's gate, up, activation and product (4f; 2f for an ungated MLP)."""
    h = model.hidden_size
    q = model.attention_heads * model.head_dim_k
    kv = max(model.kv_heads_at(i) for i in range(model.layers)) * model.head_dim_k
    if model.moe:
        f = model.moe.expert_ffn * (model.moe.active + model.moe.shared)
    else:
        f = model.intermediate_size or 4 * h
    mlp = 4 * f if model.gated_ffn else 2 * f
    return 2 * (4 * h + 2 * q + 2 * kv + mlp)


def _memory(req: FinetuneRequest, model: Model, optimizer: str, seq_len: int, batch: int) -> MemoryParts:
    tensors = model_tensors(model)
    total = sum(t.n_elements for t in tensors)
    linear = [t for t in tensors if t.category in LINEAR]
    n = req.gpus
    parts: dict[str, tuple[float, float]] = {}
    if req.method == "full":
        frozen = sum(t.n_elements for t in tensors if t.layer is not None and t.layer < req.frozen_layers)
        trainable = total - frozen
        s = req.zero_stage
        w_div = n if s >= 3 else 1
        g_div = n if s >= 2 else 1
        o_div = n if s >= 1 else 1
        largest_layer = max(sum(t.n_elements for t in tensors if t.layer == i) for i in range(model.layers))
        gathered = 2 * largest_layer if s >= 3 else 0   # stage 3 all-gathers the layer being computed [zero]
        parts["weights"] = (2 * total / w_div + gathered, (2 * total + 4 * trainable) / w_div + gathered)
        parts["adapters"] = (0, 0)
        parts["gradients"] = (2 * trainable / g_div, 4 * trainable / g_div)
        parts["optimizer"] = (OPT_BYTES_ZERO[optimizer] * trainable / o_div,
                              OPT_BYTES_ANATOMY[optimizer] * trainable / o_div)
    else:
        trainable = lora_params(tensors, req.lora_rank, req.lora_targets)
        if req.method == "lora":
            base = 2 * total
            transient = (0, 0)
        else:
            quantized = sum(t.n_elements for t in linear) + sum(t.n_elements for t in tensors if t.expert)
            base = quantized * NF4_DQ_BITS / 8 + 2 * (total - quantized)
            # each NF4 matrix is dequantized to 16 bits for its matmul: one matrix .. one whole layer [qlora]
            per_layer = [sum(t.n_elements for t in linear if t.layer == i) for i in range(model.layers)]
            transient = (2 * max(t.n_elements for t in linear), 2 * max(per_layer))
        parts["weights"] = (base + transient[0], base + transient[1])
        parts["adapters"] = (4 * trainable,) * 2
        parts["gradients"] = (4 * trainable,) * 2
        parts["optimizer"] = (ADAPTER_OPT_BYTES[optimizer] * trainable,) * 2
    tokens = seq_len * batch
    per_layer = activation_bytes_per_token_layer(model)
    if req.gradient_checkpointing:
        act = tokens * (model.layers * 2 * model.hidden_size + per_layer)   # [kor] full recompute
    else:
        act = tokens * model.layers * per_layer
    parts["activations"] = (act, act)
    parts["logits"] = (tokens * model.vocab_size * LOGITS_BYTES[0], tokens * model.vocab_size * LOGITS_BYTES[1])
    parts["overhead"] = OVERHEAD
    return MemoryParts(**{k: Range(low=round(lo), high=round(hi)) for k, (lo, hi) in parts.items()})


def _peak(parts: MemoryParts) -> Range:
    ranges = [parts.weights, parts.adapters, parts.gradients, parts.optimizer, parts.activations, parts.logits,
              parts.overhead]
    return Range(low=sum(r.low for r in ranges), high=sum(r.high for r in ranges))


def verdict(peak: Range, capacity: int | None) -> FitVerdict:
    if capacity is None:
        return "no_gpu_given"
    if peak.high <= capacity * TIGHT_MARGIN:
        return "fits"
    return "tight" if peak.low <= capacity else "does_not_fit"


def trainable_params(req: FinetuneRequest, model: Model) -> int:
    tensors = model_tensors(model)
    if req.method == "full":
        return sum(t.n_elements for t in tensors if t.layer is None or t.layer >= req.frozen_layers)
    return lora_params(tensors, req.lora_rank, req.lora_targets)


def estimate(req: FinetuneRequest, catalog: Catalog) -> FinetuneResult:
    model = catalog.model(req.model)
    optimizer = _check(req, model)
    parts = _memory(req, model, optimizer, req.seq_len, req.batch_size)
    peak = _peak(parts)
    capacity = hardware = None
    max_seq = max_batch = None
    if req.gpu:
        hw = catalog.gpu(req.gpu)
        capacity, hardware = round(hw.memory_gb * GIB), hw.name
        # activations and logits grow linearly with tokens (seq_len x batch); everything else is fixed
        per_token = (parts.activations.high + parts.logits.high) / (req.seq_len * req.batch_size)
        room = capacity * TIGHT_MARGIN - (peak.high - parts.activations.high - parts.logits.high)
        tokens = int(room // per_token) if room > 0 else 0
        max_seq = min(tokens // req.batch_size, 1_048_576) or None
        max_batch = min(tokens // req.seq_len, 4096) or None
    notes = _assumptions(req, model, optimizer)
    return FinetuneResult(
        model=model.name, method=req.method, seq_len=req.seq_len, batch_size=req.batch_size, gpus=req.gpus,
        zero_stage=req.zero_stage, optimizer=optimizer, gradient_checkpointing=req.gradient_checkpointing,
        lora_rank=None if req.method == "full" else req.lora_rank, trainable_params=trainable_params(req, model),
        peak_bytes=peak, parts=parts, hardware=hardware, verdict=verdict(peak, capacity),
        max_seq_len=max_seq, max_batch_size=max_batch, assumptions=notes)


def _assumptions(req: FinetuneRequest, model: Model, optimizer: str) -> list[str]:
    notes = [
        "Low: ZeRO-paper accounting (2-byte weights and gradients, fp32 master and AdamW states), one fp32 copy of "
        "the logits, 1 GB CUDA context. High: Hugging Face's accounting (fp32 + 16-bit weights, fp32 gradients), "
        "fp32 logits with their gradient and 16-bit copy, 2 GB context.",
        "Fused attention (FlashAttention / SDPA): no sequence x sequence matrix is stored.",
        "Gradient checkpointing keeps each layer's input and recomputes one layer at a time." if
        req.gradient_checkpointing else "No gradient checkpointing: every layer's activations stay until backward.",
        "Chunked or fused cross-entropy (Unsloth, Liger, Cut Cross-Entropy) would remove most of the logits term.",
    ]
    if req.method == "qlora":
        notes.append("QLoRA: linear layers in NF4 with double quantization (4.127 bits), embeddings and LM head in "
                     f"16 bits, {optimizer} optimizer; adapters in fp32.")
    elif req.method == "lora":
        notes.append(f"LoRA: frozen 16-bit base, rank {req.lora_rank} adapters on {', '.join(req.lora_targets)} in "
                     f"fp32, {optimizer} optimizer.")
    else:
        notes.append(f"Full fine-tuning in bf16 mixed precision with {optimizer}; "
                     + (f"ZeRO stage {req.zero_stage} over {req.gpus} GPUs." if req.zero_stage else
                        "no sharding (each GPU holds every state)."))
        if req.frozen_layers:
            notes.append(f"The first {req.frozen_layers} of {model.layers} layers are frozen: no gradients or "
                         "optimizer states for them.")
    if model.moe and req.method != "full":
        notes.append("MoE routed experts are fused tensors, not nn.Linear modules: LoRA adapts attention and "
                     "shared layers only.")
    return notes
