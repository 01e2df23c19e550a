"""Fine-tuning memory per GPU: full (mixed precision, ZeRO/FSDP stages), LoRA and QLoRA.

M_gpu = weights + adapters + gradients + optimizer + activations + logits + overhead
(../shared/reference/calculators.md §3). Every term is counted from the catalog's shapes through the sizing
engine's tensor list (bot/sizing/tensors.py `model_tensors`), so LoRA adapters follow each linear layer's real
in/out sizes. Two training recipes, because they keep different copies:
- "hf" (default): transformers Trainer / TRL with PEFT under bf16 autocast. QLoRA goes through PEFT's
  `prepare_model_for_kbit_training`, which casts every parameter that is not 4-bit (embeddings, LM head, norms)
  to fp32; so the embedding output and the residual stream are fp32, and autocast keeps a bf16 copy of the LM
  head for its backward. Logits are upcast to fp32 for the loss.
- "bf16-true": every parameter, gradient and optimizer state in bf16, no autocast (Lightning/LitGPT
  `precision="bf16-true"`), with LitGPT's chunked LM head and cross-entropy.
Ranges: full fine-tuning takes the ZeRO paper's byte accounting (low) and Hugging Face's "anatomy" (high); the
logits take the loop that frees the model outputs before backward (low) and one that keeps them (high); the
CUDA context and kernels 1 to 2 GB. Sources, by the keys of calculators.md §6:
- [zero] Rajbhandari et al., arXiv:1910.02054: 2 + 2 + K bytes per parameter, K = 12 for AdamW (fp32 master,
  m, v), partitioned by stage over N GPUs.
- [anatomy] huggingface/transformers docs/source/en/model_memory_anatomy.md @7d5e65fe8a39e4a2c272f194d753dcfca5782b22:
  6 bytes weights (fp32 + 16-bit copy), 4 gradients, 8 AdamW, 2 with 8-bit AdamW, 4 SGD with momentum;
  CUDA kernels take "1-2GB".
- [lora] Hu et al., arXiv:2106.09685 and huggingface/peft src/peft/tuners/lora/layer.py `update_layer`:
  A (d_in x r) and B (r x d_out) per adapted linear; peft_model.py `autocast_adapter_dtype` keeps them fp32.
- [peft-kbit] huggingface/peft src/peft/utils/other.py @c1a876fa44b4e279846f238ec1894924e56189d1
  `prepare_model_for_kbit_training`: "cast all non INT8 parameters to fp32" (every fp16/bf16 parameter that is
  not Params4bit); TRL's SFTTrainer calls it for 4-bit models.
- [autocast] pytorch/pytorch aten/src/ATen/autocast_mode.cpp @cfed411fae0c18aa3d20351bc8dc8e1218db77ff
  `cached_cast`: the 16-bit cast of an fp32 leaf parameter that requires grad is cached until the outermost
  autocast region exits (a 2-byte copy of every fp32 adapter); a frozen fp32 weight is cast per call and the
  cast is saved by its matmul for the backward (the LM head's 2·V·h).
- [qlora] Dettmers et al., arXiv:2305.14314 §3: NF4 with double quantization is 4.127 bits per parameter;
  transformers' bitsandbytes integration `get_keys_to_not_convert` leaves embeddings and lm_head 16-bit.
- [bnb] bitsandbytes optimizer docs: 8-bit states are 1 byte each, paged optimizers spill to CPU RAM.
- [adamw] torch.optim.AdamW: exp_avg and exp_avg_sq are `zeros_like(param)`, so bf16 parameters get bf16 states.
- [kor] Korthikanti et al., arXiv:2205.05198: activations per layer are the tensors saved for backward; with
  full recompute only each layer's input (s·b·h values) is kept, plus one layer while it is recomputed.
- [flash] Dao et al., arXiv:2205.14135: fused attention keeps no s x s matrix.
- [tf-loss] huggingface/transformers src/transformers/loss/loss_utils.py @d0fed636753eeb35d790126c4496d06847983d60
  `ForCausalLMLoss`: `logits.float()` then the shifted copy, and cross_entropy's log_softmax output is saved.
- [litgpt-ce] Lightning-AI/litgpt litgpt/utils.py `chunked_cross_entropy` and litgpt/finetune/lora.py
  `model(input_ids, lm_head_chunk_size=128)` @e5493986: bf16 logits in chunks, each chunk's bf16 log_softmax saved.
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
RECIPES = ("hf", "bf16-true")
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
# fp32 adapters: optimizer states (2 x 4 AdamW, 2 x 1 in 8 bits, 4 SGD momentum)
ADAPTER_OPT_BYTES = {"adamw": 8, "adamw8bit": 2, "paged_adamw8bit": 2, "sgd": 4}
# bf16-true: states are zeros_like(param) [adamw], 2 bytes each; 8-bit states stay 1 byte [bnb]
BF16_OPT_BYTES = {"adamw": 4, "adamw8bit": 2, "paged_adamw8bit": 2, "sgd": 2}
NF4_DQ_BITS = 4.127                          # [qlora] NF4 + double quantization
# bytes per logit element at the loss, "hf": bf16 logits 2 + fp32 upcast 4 + shifted copy 4 + log_softmax
# output 4 = 14 in the forward [tf-loss] (transformers <= 4.45 upcast inside the model: 12); the backward holds
# the saved log_softmax 4 + its gradient 4 + the input gradient 4 = 12, plus the fp32 logits 4 when the training
# loop still holds the model outputs (a plain `out = model(...); out.loss.backward()`) = 16.
LOGITS_BYTES = {"hf": (12, 16),
                # bf16 chunks 2 + saved bf16 log_softmax 2; full.py's unchunked head adds a reshaped copy 2 [litgpt-ce]
                "bf16-true": (4, 6)}
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
    recipe: str = "hf"                       # hf (Trainer/TRL + PEFT, bf16 autocast) | bf16-true (LitGPT)


def targets_of(text: str) -> tuple[str, ...]:
    """LoRA targets as typed: "q,k,v,o" (the CLI's --targets, the API's `targets`)."""
    return tuple(t.strip() for t in text.split(",") if t.strip())


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
    if req.recipe not in RECIPES:
        raise InvalidRequestError(f"recipe must be one of {', '.join(RECIPES)}.")
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


def activation_bytes_per_token_layer(model: Model) -> tuple[int, int]:
    """Bytes one decoder layer saves for backward, per token, with fused attention [kor; flash] (derived for a
    pre-norm block). Low: 16-bit norm inputs and outputs (4h values), Q and attention output (2·H_q·d), K and V
    at their own head count (2·H_kv·d, FlashAttention-2's native GQA) and the MLP's gate, up, activation and
    product (4f; 2f for an ungated MLP). High: each RMSNorm keeps an fp32 copy of its input (transformers
    `LlamaRMSNorm` `hidden_states.to(torch.float32)`, LitGPT `RMSNorm` `x.float()`): +2h bytes per norm; and K, V
    are expanded to every query head before SDPA (transformers `repeat_kv`, LitGPT `k.expand`)."""
    h = model.hidden_size
    q = model.attention_heads * model.head_dim_k
    kv = max(model.kv_heads_at(i) for i in range(model.layers)) * model.head_dim_k
    if model.moe:
        f = model.moe.expert_ffn * (model.moe.active + model.moe.shared)
    else:
        f = model.intermediate_size or 4 * h
    mlp = 4 * f if model.gated_ffn else 2 * f
    low = 2 * (4 * h + 2 * q + 2 * kv + mlp)
    return low, low + 4 * h + 4 * max(0, q - kv)


def _model_states(req: FinetuneRequest, model: Model, optimizer: str, tensors: list[TensorSpec]
                  ) -> dict[str, tuple[float, float]]:
    """Weights, adapters, gradients and optimizer states per GPU, each (low, high)."""
    total = sum(t.n_elements for t in tensors)
    n, bf16_true = req.gpus, req.recipe == "bf16-true"
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
        if bf16_true:   # no fp32 master copy: 2-byte weights and gradients, states like the parameters [adamw]
            opt = BF16_OPT_BYTES[optimizer] * trainable / o_div
            parts["weights"] = (2 * total / w_div + gathered,) * 2
            parts["gradients"] = (2 * trainable / g_div,) * 2
            parts["optimizer"] = (opt, opt)
        else:
            parts["weights"] = (2 * total / w_div + gathered, (2 * total + 4 * trainable) / w_div + gathered)
            parts["gradients"] = (2 * trainable / g_div, 4 * trainable / g_div)
            parts["optimizer"] = (OPT_BYTES_ZERO[optimizer] * trainable / o_div,
                                  OPT_BYTES_ANATOMY[optimizer] * trainable / o_div)
        parts["adapters"] = (0, 0)
        return parts
    trainable = lora_params(tensors, req.lora_rank, req.lora_targets)
    if req.method == "lora":
        base = 2 * total
    else:
        # every linear layer and every routed expert (their tensors are linear too: count each once)
        quantized = sum(t.n_elements for t in tensors if t.category in LINEAR or t.expert)
        # the rest (embeddings, LM head, norms) is 16-bit [qlora], or fp32 after PEFT's upcast [peft-kbit]
        rest = 2 if bf16_true else 4
        base = quantized * NF4_DQ_BITS / 8 + rest * (total - quantized)
        if not bf16_true:   # autocast's bf16 cast of the fp32 LM head, saved for its backward [autocast]
            base += 2 * model.vocab_size * model.hidden_size
    parts["weights"] = (base, base)
    if bf16_true:           # adapters, their gradients and states in bf16 like every parameter
        parts["adapters"] = (2 * trainable,) * 2
        parts["gradients"] = (2 * trainable,) * 2
        parts["optimizer"] = (BF16_OPT_BYTES[optimizer] * trainable,) * 2
    else:                   # fp32 adapters [lora] + their cached bf16 casts [autocast]
        parts["adapters"] = (6 * trainable,) * 2
        parts["gradients"] = (4 * trainable,) * 2
        parts["optimizer"] = (ADAPTER_OPT_BYTES[optimizer] * trainable,) * 2
    return parts


def _memory(req: FinetuneRequest, model: Model, optimizer: str, seq_len: int, batch: int) -> MemoryParts:
    tensors = model_tensors(model)
    parts = _model_states(req, model, optimizer, tensors)
    tokens = seq_len * batch
    per_layer = activation_bytes_per_token_layer(model)
    logits = [tokens * model.vocab_size * b for b in LOGITS_BYTES[req.recipe]]
    if req.gradient_checkpointing:
        # [kor] full recompute keeps each layer's input: fp32 under "hf" QLoRA, whose embedding output is fp32
        # after PEFT's upcast [peft-kbit], else 16-bit
        residual = 4 if req.method == "qlora" and req.recipe == "hf" else 2
        kept = tokens * model.layers * residual * model.hidden_size
        # one layer is recomputed at a time, after the loss: its activations and (QLoRA) its weights dequantized
        # to 16 bits for the matmuls [qlora] coexist with the kept inputs, not with the logits
        linear = [t for t in tensors if t.category in LINEAR]
        dequant = 2 * max(sum(t.n_elements for t in linear if t.layer == i) for i in range(model.layers)) \
            if req.method == "qlora" else 0
        parts["activations"] = tuple(kept + max(0, tokens * pl + dequant - lg) for pl, lg in zip(per_layer, logits))
    else:
        parts["activations"] = tuple(tokens * model.layers * pl for pl in per_layer)
    parts["logits"] = tuple(logits)
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
    hf = req.recipe == "hf"
    notes = [
        ("Recipe: Hugging Face Trainer/TRL + PEFT with bf16 autocast. Logits: low = the loop frees the model "
         "outputs before backward (12 bytes per logit: fp32 upcast, shifted copy, log-softmax), high = it keeps "
         "them (16). " if hf else
         "Recipe: bf16-true (LitGPT): weights, gradients and optimizer states in bf16, chunked LM head and "
         "cross-entropy (4-6 bytes per logit). ")
        + "CUDA context and kernels 1-2 GB; the peak is what the card must hold, above torch's allocated bytes.",
        "Fused attention (FlashAttention / SDPA): no sequence x sequence matrix is stored.",
        "Gradient checkpointing keeps each layer's input and recomputes one layer at a time, after the loss, so "
        "that layer and the logits are not counted together." if req.gradient_checkpointing else
        "No gradient checkpointing: every layer's activations stay until backward.",
        "Chunked or fused cross-entropy (Unsloth, Liger, Cut Cross-Entropy) would remove most of the logits term.",
    ]
    if req.method == "full":
        notes.append(
            ("Full fine-tuning in bf16 mixed precision: low = ZeRO-paper accounting (2-byte weights and gradients, "
             "fp32 master and AdamW states), high = Hugging Face's (fp32 + 16-bit weights, fp32 gradients); "
             if hf else "Full fine-tuning in pure bf16 (no fp32 master copy); ")
            + f"{optimizer}; " + (f"ZeRO stage {req.zero_stage} over {req.gpus} GPUs." if req.zero_stage else
                                  "no sharding (each GPU holds every state)."))
        if req.frozen_layers:
            notes.append(f"The first {req.frozen_layers} of {model.layers} layers are frozen: no gradients or "
                         "optimizer states for them.")
    else:
        adapters = (f"rank {req.lora_rank} adapters on {', '.join(req.lora_targets)} "
                    + ("in fp32 with their bf16 autocast copies" if hf else "in bf16") + f", {optimizer} optimizer.")
        if req.method == "qlora":
            notes.append("QLoRA: linear layers in NF4 with double quantization (4.127 bits); embeddings, LM head and "
                         + ("norms cast to fp32 by PEFT's prepare_model_for_kbit_training (so the residual stream "
                            "is fp32), plus autocast's bf16 copy of the LM head; " if hf else "norms in bf16; ")
                         + adapters)
        else:
            notes.append("LoRA: frozen 16-bit base, " + adapters)
    if model.moe and req.method != "full":
        notes.append("MoE routed experts are fused tensors, not nn.Linear modules: LoRA adapts attention and "
                     "shared layers only.")
    return notes
