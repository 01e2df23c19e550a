"""Answer kinds beyond sizing: what can I run (every option checked against the engine), comparisons, and honest
refusals for what the bot recognizes but does not compute."""
import pytest

from bot.answer.pipeline import answer
from bot.kinds.what_can_i_run import LOWEST_QUANT, MIN_DECODE_TOKENS_PER_S, _best_fit, _quants, what_can_i_run
from bot.routing.schema import GpuRef, SizingFields
from bot.sizing.devices import build_setup
from bot.sizing.schema import SizingRequest

SETUPS = [SizingFields(gpu=GpuRef(id="rtx-3060-12gb", memory_gb=None)),
          SizingFields(gpu=GpuRef(id="rtx-3090", memory_gb=None), gpus=2),
          SizingFields(gpu=GpuRef(id="m2-max", memory_gb=64)),
          SizingFields(cpu_only=True, ram_gb=64)]


@pytest.mark.parametrize("fields", SETUPS, ids=["3060", "2x3090", "m2max64", "cpu64"])
def test_every_option_runs_as_stated_by_the_engine(core, fields):
    result = what_can_i_run(core, fields, None)
    assert result.options
    for option in result.options:
        request = SizingRequest(model=option.model.id, quant=option.quant, context=option.context,
                                gpu=fields.gpu.id if fields.gpu else None, gpus=fields.gpus or 1,
                                memory_gb=fields.gpu.memory_gb if fields.gpu else None, ram_gb=fields.ram_gb)
        report = core.engine.size(request)
        assert report.verdict == option.verdict and report.verdict in ("fits", "cpu_only")
        assert report.total_bytes == option.total_bytes
        assert report.decode_tokens_per_s.low >= MIN_DECODE_TOKENS_PER_S
        assert LOWEST_QUANT in _quants(core.catalog.model(option.model.id))


@pytest.mark.parametrize("use", ["any", "coding", "reasoning", "vision"])
def test_no_better_tier_model_that_runs_is_missing_from_the_top_five(core, use):
    fields = SETUPS[1]
    result = what_can_i_run(core, fields, use)
    top = result.options[:5]
    worst = max(o.tier or 99 for o in top)
    request = SizingRequest(model=core.catalog.models[0].id, gpu="rtx-3090", gpus=2, context=8192)
    setup = build_setup(request, core.catalog)
    usable = sum(d.usable_bytes for d in setup.gpus)
    bits = {q: (core.catalog.file_type(q).linear_bpw or core.catalog.tensor_type(
        core.catalog.file_type(q).default_type).bits_per_weight) for m in core.catalog.models for q in _quants(m)}
    shown = {o.model.id for o in top}
    for model in core.catalog.models:          # brute force over the whole catalog
        tier = core.tiers.of(model.id)
        if tier is None or tier.tier >= worst or (use != "any" and use not in tier.uses):
            continue
        if _best_fit(core, model, request, usable, bits) is not None:
            assert model.id in shown, f"{model.id} (tier {tier.tier}) runs well but is not in the top five"


def test_what_can_i_run_questions_are_answered_with_ranked_models(core):
    result = answer(core, "best coding model for a 3060 12gb?")
    assert result.kind == "what_can_i_run" and result.what_can_i_run.use == "coding"
    assert all("coding" in o.tags for o in result.what_can_i_run.options)
    assert result.what_can_i_run.hardware.id == "rtx-3060-12gb"


def test_a_comparison_sizes_each_model_on_each_side_with_the_engine(core):
    result = answer(core, "3090 or 4060 ti 16gb for llms?")
    assert result.kind == "compare"
    comparison = result.compare
    assert [s.hardware.id for s in comparison.sides] == ["rtx-3090", "rtx-4060-ti-16gb"]
    for row in comparison.rows:
        for side, verdict in zip(comparison.sides, row.verdicts, strict=True):
            report = core.engine.size(SizingRequest(model=row.model.id, gpu=side.hardware.id, quant=row.quant))
            assert report.verdict == verdict
    assert any(line.startswith("Most memory: NVIDIA GeForce RTX 3090") for line in comparison.summary)


@pytest.mark.parametrize(("question", "asked"), [
    ("when is llama 5 coming out", "news"),
    ("can i use llama commercially in my company or is it research only", "licensing"),
    ("how much is a 3090 now on ebay", "prices"),
    ("is qwen3 32b smarter than llama 3.3 70b?", "opinion"),
])
def test_recognized_questions_the_bot_cannot_answer_get_one_honest_refusal(core, question, asked):
    result = answer(core, question)
    assert result.kind == "unsupported" and result.asked == asked
    assert result.sizing is None and result.sources == [] and result.text.count("`") == 2


def test_a_refusal_routes_as_none_so_listening_channels_stay_quiet(core):
    route = core.router.route("when is llama 5 coming out")
    assert route.route == "none" and route.kind == "unsupported"
