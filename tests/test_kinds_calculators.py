"""The calculator kinds answered from questions: the router reads the fields a message states, the kind's module
hands them to its calculator, and the numbers in the answer are the calculator's own for exactly those fields.
Missing fields get a clarify, follow-ups re-run the same kind, and `willitrun ask --json` carries each result under
its kind's key."""
import io
import json
import subprocess
import sys

import pytest
from fake_discord import embed_errors, embed_text_length

from bot.answer.pipeline import answer
from bot.calc.cost import CostRequest
from bot.calc.cost import estimate as cost_estimate
from bot.calc.finetune import FinetuneRequest
from bot.calc.finetune import estimate as finetune_estimate
from bot.calc.image import ImageRequest
from bot.calc.image import estimate as image_estimate
from bot.calc.schema import load_image_catalog, load_prices
from bot.calc.serve import ServeRequest
from bot.calc.serve import estimate as serve_estimate
from bot.console import run_console
from bot.discord.limits import EMBED_TOTAL
from bot.discord.render import post_as_text, render_answer
from bot.format import gb_range
from bot.sizing.schema import SizingRequest


def willitrun(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True,
                          timeout=300)


# -- fine-tuning ----------------------------------------------------------------------------------------------
def test_a_lora_question_is_sized_with_the_rank_and_card_it_names(core):
    result = answer(core, "lora (not qlora) llama 3 8b r=64 — will a 3090 do it")
    assert result.kind == "finetune"
    expected = finetune_estimate(FinetuneRequest(model="llama-3-8b", method="lora", lora_rank=64, gpu="rtx-3090"),
                                 core.catalog)
    assert result.finetune.method == "lora" and result.finetune.lora_rank == 64
    assert result.finetune.peak_bytes == expected.peak_bytes and result.finetune.verdict == expected.verdict
    assert result.finetune.hardware == "NVIDIA GeForce RTX 3090"


def test_sequence_length_and_batch_are_read_from_the_message(core):
    result = answer(core, "qlora llama 3.1 8b at 4096 seq len batch 4 on a 4060 ti 16gb, will it fit?")
    assert result.kind == "finetune"
    r = result.finetune
    assert (r.method, r.seq_len, r.batch_size) == ("qlora", 4096, 4)
    expected = finetune_estimate(FinetuneRequest(model="llama-3.1-8b", method="qlora", seq_len=4096, batch_size=4,
                                                 gpu="rtx-4060-ti-16gb"), core.catalog)
    assert r.peak_bytes == expected.peak_bytes


def test_defaults_a_finetune_question_leaves_out_are_stated(core):
    result = answer(core, "how much vram to qlora llama 3 8b")
    assert result.kind == "finetune" and result.finetune.verdict == "no_gpu_given"
    assert any(a.startswith("Not stated, so assumed: sequence length 2,048") for a in result.finetune.assumptions)


def test_full_finetuning_on_several_gpus_is_sized_sharded(core):
    result = answer(core, "full finetune llama 3.1 8b on 4x a100 80gb, how much vram per gpu with adam")
    r = result.finetune
    assert (result.kind, r.method, r.gpus, r.zero_stage) == ("finetune", "full", 4, 3)


# -- serving --------------------------------------------------------------------------------------------------
def test_a_vllm_capacity_question_gets_the_calculators_kv_tokens(core):
    result = answer(core, "how many concurrent users can vllm serve with llama 3.1 70b on 4x a100 80gb, tp=4")
    assert result.kind == "serve"
    r = result.serve
    expected = serve_estimate(ServeRequest(model="llama-3.1-70b", gpu=r.hardware, gpus=4, runtime="vllm"),
                              core.engine)
    assert (r.runtime, r.gpus) == ("vllm", 4)
    assert r.kv_cache_tokens == expected.kv_cache_tokens > 0
    assert r.max_concurrent_sequences == expected.max_concurrent_sequences


def test_ollama_parallel_slots_and_context_are_read_from_the_message(core):
    result = answer(core, "OLLAMA_NUM_PARALLEL=4 with llama 3.1 8b on a 3090 at 16k, how many users can it take")
    r = result.serve
    assert (result.kind, r.runtime, r.context, r.max_concurrent_sequences) == ("serve", "ollama", 16384, 4)
    assert r.kv_cache_tokens == 4 * 16384


def test_without_slots_stated_ollama_gets_the_most_that_fit(core):
    r = answer(core, "how many people can llama 3.1 8b on ollama serve on a 4090 at 16k").serve
    slots = int(r.max_concurrent_sequences)
    assert slots > 1
    more = serve_estimate(ServeRequest(model="llama-3.1-8b", gpu="rtx-4090", runtime="ollama", context=16384,
                                       parallel=slots * 2), core.engine)
    assert more.max_concurrent_sequences < slots * 2          # twice the slots no longer fits


# -- image and video models -----------------------------------------------------------------------------------
def test_an_image_model_is_read_by_the_image_catalogs_names(core):
    result = answer(core, "will flux dev run on a 3060 12gb at 1024x1024?")
    assert result.kind == "image"
    r = result.image
    models = core.image_models
    expected = image_estimate(ImageRequest(model="flux.1-dev", width=1024, height=1024, gpu="rtx-3060-12gb"), models,
                              core.catalog)
    assert (r.model, r.peak_bytes, r.verdict) == (expected.model, expected.peak_bytes, expected.verdict)
    assert r.recommendation == expected.recommendation
    assert result.request.calc.image_model == "flux.1-dev"


def test_a_video_length_in_seconds_becomes_frames(core):
    r = answer(core, "wan 2.1 14b 480p 5s clip on a 4090, enough vram?").image
    assert r.frames == 81 and r.resolution == 832


def test_a_gguf_quant_of_an_image_model_is_its_precision(core):
    assert answer(core, "flux dev q8 gguf on a 4060 ti 16gb?").image.precision == "q8_0"


def test_the_image_catalog_is_read_once_per_core(core):
    assert core.image_models is core.image_models
    assert len(core.image_models.catalog.models) == len(load_image_catalog(core.settings.knowledge_dir).models)


# -- cost -----------------------------------------------------------------------------------------------------
def test_a_cost_question_uses_the_rate_and_hours_it_states(core):
    result = answer(core, "how much does llama 3.1 8b on my 4090 cost per million tokens vs claude sonnet at "
                          "$0.15/kwh, running 24/7?")
    assert result.kind == "cost"
    r = result.cost
    assert (r.inputs["kwh_usd"], r.inputs["hours_per_day"]) == (0.15, 24.0)
    expected = cost_estimate(CostRequest(model="llama-3.1-8b", gpu="rtx-4090", kwh=0.15, hours_per_day=24),
                             core.engine, load_prices(core.settings.knowledge_dir))
    assert r.local == expected.local
    assert "sonnet" in r.api[0].name            # the API named comes first


def test_a_budget_ranks_the_priced_setups_that_run_the_model(core):
    result = answer(core, "best gpu under $2500 for qwen2.5 32b?")
    assert result.kind == "cost" and result.budget is not None
    (row,) = result.budget.rows
    assert row.model.id == "qwen2.5-32b" and row.options
    assert all(o.price_usd <= 2500 for o in row.options)
    per_speed = [o.usd_per_token_per_s for o in row.options]
    assert per_speed == sorted(per_speed)
    for o in row.options:
        report = core.engine.size(SizingRequest(model="qwen2.5-32b", gpu=o.hardware.id, gpus=o.hardware.count,
                                                context=row.context))
        assert report.verdict == "fits" and report.decode_tokens_per_s == o.decode_tokens_per_s


def test_a_budget_below_every_priced_setup_says_so_and_shows_the_best_value_above(core):
    (row,) = answer(core, "best gpu under $250 for qwen2.5 32b").budget.rows
    assert row.options == [] and row.over_budget is not None and row.over_budget.price_usd > 250


# -- what is missing, and follow-ups --------------------------------------------------------------------------
@pytest.mark.parametrize("question, asks_for", [
    ("how much vram do i need to fine-tune with qlora on my 3090?", "Which model?"),
    ("how many concurrent users can vllm serve with llama 3.1 70b?", "On which GPUs"),
    ("is running locally cheaper than the openai api?", "Which model, on which hardware?"),
    ("how much vram for image gen with comfyui on a 3060?", "Which image or video model?"),
])
def test_a_missing_field_is_asked_for_never_answered_as_another_kind(core, question, asks_for):
    result = answer(core, question)
    assert result.kind == "clarify" and result.text.startswith(asks_for)


@pytest.mark.parametrize("first, follow_up, kind, check", [
    ("qlora llama 3.1 8b on a 3090", "what about at 8k?", "finetune", lambda a: a.finetune.seq_len == 8192),
    ("qlora llama 3.1 8b on a 3090", "and with lora?", "finetune", lambda a: a.finetune.method == "lora"),
    ("how many users can vllm serve with llama 3.1 8b on an a100 80gb", "and with 2 of them?", "serve",
     lambda a: a.serve.gpus == 2),
    ("will flux dev run on a 3060 12gb", "what about sdxl?", "image", lambda a: a.image.model.startswith("Stable")),
    ("what can i run on a 3090", "and for coding?", "what_can_i_run", lambda a: a.what_can_i_run.use == "coding"),
    ("what can i run on a 3090", "with 2 of them?", "what_can_i_run",
     lambda a: a.what_can_i_run.hardware.count == 2 and "2x" not in a.what_can_i_run.hardware.name),
    ("cost of llama 3.1 8b on a 4090 vs gpt-4o mini", "what about 24/7?", "cost",
     lambda a: a.cost.inputs["hours_per_day"] == 24),
])
def test_a_follow_up_re_runs_the_previous_kind_with_one_field_changed(core, first, follow_up, kind, check):
    previous = answer(core, first)
    assert previous.kind == kind
    result = answer(core, follow_up, previous=previous.request)
    assert result.kind == kind and check(result)


def test_a_follow_up_may_ask_another_calculator_about_the_same_setup(core):
    sized = answer(core, "will llama 3.1 70b fit on 2x 3090?")
    result = answer(core, "and to qlora it?", previous=sized.request)
    assert (result.kind, result.finetune.method, result.finetune.gpus) == ("finetune", "qlora", 2)
    assert result.finetune.model == "Llama 3.1 70B"


# -- the CLI --------------------------------------------------------------------------------------------------
def test_ask_json_carries_each_calculators_result_under_its_kinds_key():
    questions = ["how much vram to qlora llama 3.1 8b on a 3090",
                 "how many concurrent users can vllm serve with llama 3.1 8b on an a100 80gb",
                 "will flux dev run on a 4090",
                 "is llama 3.1 8b on a 4090 cheaper than gpt-4o mini per million tokens"]
    run = willitrun("ask", "--stdin", "--no-llm", stdin="\n".join(questions) + "\n")
    assert run.returncode == 0, run.stderr
    finetune, serve, image, cost = (json.loads(line) for line in run.stdout.splitlines())
    assert finetune["kind"] == "finetune"
    assert {"model", "method", "seq_len", "batch_size", "peak_bytes", "parts", "verdict"} <= set(finetune["finetune"])
    assert set(finetune["finetune"]["peak_bytes"]) == {"low", "high"}
    assert serve["kind"] == "serve"
    assert {"model", "runtime", "gpus", "context", "kv_cache_tokens", "max_concurrent_sequences",
            "throughput_tokens_per_s"} <= set(serve["serve"])
    assert {"sequences", "low", "high"} <= set(serve["serve"]["throughput_tokens_per_s"][0])
    assert image["kind"] == "image"
    assert {"model", "precision", "offload", "resolution", "peak_bytes", "verdict"} <= set(image["image"])
    assert cost["kind"] == "cost"
    assert {"local", "api", "break_even_months", "inputs"} <= set(cost["cost"])
    assert {"per_mtok", "per_month"} <= set(cost["cost"]["local"])
    assert {"name", "per_mtok"} <= set(cost["cost"]["api"][0])


def test_choose_with_a_budget_ranks_by_price_per_token_per_second():
    run = willitrun("choose", "qwen2.5 32b", "--budget", "2500", "--json")
    assert run.returncode == 0, run.stderr
    (row,) = json.loads(run.stdout)["rows"]
    per_speed = [o["usd_per_token_per_s"] for o in row["options"]]
    assert per_speed and per_speed == sorted(per_speed)
    assert all(o["price_usd"] <= 2500 for o in row["options"])


# -- rendering ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("question, shown", [
    ("qlora llama 3.1 70b on 2x 3090 at 4096 seq len", lambda a: gb_range(a.finetune.peak_bytes.low,
                                                                           a.finetune.peak_bytes.high)),
    ("how many users can vllm serve with llama 3.1 70b on 4x a100 80gb", lambda a: f"{a.serve.kv_cache_tokens:,}"),
    ("wan 2.1 14b 720p 81 frames on a 4090", lambda a: gb_range(a.image.peak_bytes.low, a.image.peak_bytes.high)),
    ("is llama 3.1 8b on a 4090 cheaper than gpt-4o mini", lambda a: f"{a.cost.local.per_mtok:.2f} USD"),
    ("budget $5000 for a 70b rig", lambda a: f"{a.budget.rows[0].options[0].usd_per_token_per_s:,.0f} USD per"),
])
def test_each_calculator_answer_is_one_embed_within_discords_limits(core, question, shown):
    result = answer(core, question)
    (post,) = render_answer(result)
    (embed,) = post.embeds
    assert embed_errors(embed) == {} and embed_text_length(embed) <= EMBED_TOTAL
    text = post_as_text(post)
    assert shown(result) in text and "Assumptions" in text


def test_the_console_prints_what_the_bot_would_post_and_follows_up_across_kinds(core):
    out = io.StringIO()
    run_console(core, io.StringIO("will flux dev run on a 3060 12gb\nwhat about sdxl?\n"), out)
    posts = out.getvalue()
    assert "## FLUX.1 [dev] · bf16 · offload none · 1024x1024" in posts
    assert "## Stable Diffusion XL 1.0 · bf16 · offload none · 1024x1024" in posts
    assert posts.count("On NVIDIA GeForce RTX 3060 12GB:") == 2
