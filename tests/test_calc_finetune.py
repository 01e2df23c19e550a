"""Fine-tuning memory: each method's terms follow the cited byte accounting."""
import pytest

from bot.calc.finetune import FinetuneRequest, estimate, lora_params
from bot.errors import InvalidRequestError
from bot.sizing.devices import GIB
from bot.sizing.tensors import model_tensors


def test_lora_rank_16_on_all_linears_of_llama_3_1_8b_is_41_9m_parameters(catalog):
    # calculators.md §3.3 worked example: 1,310,720 per layer, 41.9M total
    assert lora_params(model_tensors(catalog.model("llama 3.1 8b")), 16, ("q", "k", "v", "o", "gate", "up", "down")) \
        == 32 * 1_310_720


def test_qlora_base_of_llama_3_1_8b_is_about_5_7_gb_with_16_bit_embeddings(catalog):
    r = estimate(FinetuneRequest("llama 3.1 8b", "qlora", seq_len=512, recipe="bf16-true"), catalog)
    assert 5.0 * GIB < r.parts.weights.low < 6.0 * GIB   # §3.4: 3.60 GB NF4 + 2.10 GB embeddings ≈ 5.7 GB


def test_hf_qlora_adds_peft_fp32_upcast_and_the_autocast_copy_of_the_lm_head(catalog):
    m = catalog.model("llama 3.1 8b")
    hf = estimate(FinetuneRequest("llama 3.1 8b", "qlora", seq_len=512), catalog)
    pure = estimate(FinetuneRequest("llama 3.1 8b", "qlora", seq_len=512, recipe="bf16-true"), catalog)
    not_4bit = sum(t.n_elements for t in model_tensors(m) if t.category in ("token_embd", "output", "norm"))
    # prepare_model_for_kbit_training: 16 -> 32 bits for what is not NF4; autocast keeps a bf16 LM head copy
    assert hf.parts.weights.low - pure.parts.weights.low == pytest.approx(
        2 * not_4bit + 2 * m.vocab_size * m.hidden_size, abs=2)


def test_hf_logits_cost_12_to_16_bytes_per_logit(catalog):
    m = catalog.model("llama 3.1 8b")
    r = estimate(FinetuneRequest("llama 3.1 8b", "qlora", seq_len=4096), catalog)
    assert (r.parts.logits.low, r.parts.logits.high) == (4096 * m.vocab_size * 12, 4096 * m.vocab_size * 16)


def test_checkpointed_layer_recompute_is_not_added_to_the_logits_peak(catalog):
    # 128k vocabulary: the logits outweigh one recomputed layer, so only the kept fp32 layer inputs remain
    m = catalog.model("llama 3.1 8b")
    r = estimate(FinetuneRequest("llama 3.1 8b", "qlora", seq_len=8192), catalog)
    assert r.parts.activations.low == r.parts.activations.high == 8192 * m.layers * 4 * m.hidden_size


def test_bf16_true_full_fine_tuning_is_8_bytes_per_parameter_with_adamw(catalog):
    r = estimate(FinetuneRequest("tinyllama", "full", recipe="bf16-true"), catalog)
    states = r.parts.weights.low + r.parts.gradients.low + r.parts.optimizer.low
    assert states == pytest.approx(8 * r.trainable_params, rel=1e-6)


def test_unknown_recipe_is_refused(catalog):
    with pytest.raises(InvalidRequestError):
        estimate(FinetuneRequest("llama 3.1 8b", recipe="deepspeed"), catalog)


def test_methods_order_full_above_lora_above_qlora(catalog):
    peaks = [estimate(FinetuneRequest("llama 3.1 8b", m, seq_len=2048), catalog).peak_bytes.low
             for m in ("full", "lora", "qlora")]
    assert peaks[0] > peaks[1] > peaks[2]


def test_zero_stage_3_shards_model_states_across_gpus(catalog):
    one = estimate(FinetuneRequest("llama 3.1 8b", "full", gpus=8, zero_stage=0), catalog)
    three = estimate(FinetuneRequest("llama 3.1 8b", "full", gpus=8, zero_stage=3), catalog)
    assert three.parts.optimizer.low == pytest.approx(one.parts.optimizer.low / 8, rel=1e-6)
    assert three.peak_bytes.low < one.peak_bytes.low / 3


def test_gradient_checkpointing_cuts_activations(catalog):
    on = estimate(FinetuneRequest("llama 3.1 8b", "qlora", seq_len=4096), catalog)
    off = estimate(FinetuneRequest("llama 3.1 8b", "qlora", seq_len=4096, gradient_checkpointing=False), catalog)
    assert off.parts.activations.low > 10 * on.parts.activations.low


def test_largest_sequence_that_fits_a_card_fits_and_one_more_token_block_does_not(catalog):
    r = estimate(FinetuneRequest("llama 3.1 8b", "qlora", gpu="rtx 4090"), catalog)
    assert r.max_seq_len and r.verdict == "fits"
    at_max = estimate(FinetuneRequest("llama 3.1 8b", "qlora", seq_len=r.max_seq_len, gpu="rtx 4090"), catalog)
    assert at_max.verdict == "fits"
    past = estimate(FinetuneRequest("llama 3.1 8b", "qlora", seq_len=r.max_seq_len + 256, gpu="rtx 4090"), catalog)
    assert past.verdict != "fits"


def test_stable_json_keys(catalog):
    data = estimate(FinetuneRequest("llama 3.1 8b"), catalog).model_dump()
    assert {"model", "method", "seq_len", "batch_size", "peak_bytes", "parts", "verdict"} <= data.keys()
    assert data["peak_bytes"].keys() == {"low", "high"}


def test_zero_stage_with_lora_is_refused(catalog):
    with pytest.raises(InvalidRequestError):
        estimate(FinetuneRequest("llama 3.1 8b", "lora", zero_stage=2), catalog)


def test_moe_qlora_counts_each_expert_tensor_once(catalog):
    # routed experts are linear layers too: counting them as both left Mixtral's 16-bit rest negative
    from bot.calc.finetune import FinetuneRequest, estimate
    r = estimate(FinetuneRequest(model="mixtral 8x7b", method="qlora", seq_len=4096, batch_size=4,
                                 lora_targets=("q", "k", "v", "o")), catalog)
    weights = r.parts.weights.low
    assert 46.7e9 * 0.5 < weights < 46.7e9 * 0.6       # ~4.13 bits for nearly all 46.7B parameters, plus the rest
    assert 0 < r.peak_bytes.low <= r.peak_bytes.high
