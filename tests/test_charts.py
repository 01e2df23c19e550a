"""Charts of sizing, what_can_i_run and compare answers: they render headless from real engine results, and what they
draw is the result."""
import struct

import pytest
from fake_discord import FakeDiscord
from test_discord_e2e import answer_to, run, running

from bot.answer.pipeline import answer as answer_of
from bot.charts import (
    answer_chart,
    answer_chart_alt,
    build_breakdown_figure,
    build_compare_figure,
    build_context_figure,
    build_options_figure,
    chart_alt_text,
    context_chart,
    context_curve,
    memory_breakdown_chart,
)
from bot.cli.commands.charts import write_chart
from bot.discord.render import CHART_NAME, chart_report, render_answer
from bot.errors import InvalidRequestError
from bot.format import VERDICT_WORDS
from bot.kinds.compare import compare
from bot.kinds.what_can_i_run import what_can_i_run
from bot.routing.schema import CompareSide, GpuRef, SizingFields
from bot.sizing.schema import SizingRequest

GIB = 2**30
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FIELDS = ("weights_bytes", "kv_cache_bytes", "compute_bytes", "overhead_bytes")

FITS = SizingRequest(model="llama 3.3 70b", gpu="rtx 3090", gpus=2, context=8192)
PARTIAL = SizingRequest(model="qwen2.5 72b", gpu="rtx 3090", gpus=2, ram_gb=64)
ONE_CARD = SizingRequest(model="llama 3.1 8b", gpu="rtx 3060", context=16384)
TOO_BIG = SizingRequest(model="llama 3.1 405b", gpu="rtx 4090", ram_gb=32)


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_MAGIC
    return struct.unpack(">II", png[16:24])  # IHDR width and height


def patches_by_gid(fig) -> dict:
    return {p.get_gid(): p for ax in fig.axes for p in ax.patches if p.get_gid()}


def artists_by_gid(fig) -> dict:
    return {a.get_gid(): a for ax in fig.axes for a in [*ax.lines, *ax.collections] if a.get_gid()}


def test_breakdown_renders_an_800_by_450_png(engine):
    assert png_size(memory_breakdown_chart(engine.size(FITS))) == (800, 450)


def test_breakdown_segments_are_the_reports_bytes_stacked_per_device(engine):
    report = engine.size(FITS)
    patches = patches_by_gid(build_breakdown_figure(report))
    gpus = [d for d in report.devices if d.kind == "gpu"]
    for i, device in enumerate(gpus):
        left = 0.0
        for field in FIELDS:
            bar = patches[f"{field}:{i}"]
            assert bar.get_width() == pytest.approx(getattr(device, field) / GIB)
            assert bar.get_x() == pytest.approx(left)
            left += bar.get_width()
        assert left == pytest.approx(device.need_bytes / GIB)


def test_each_device_has_a_usable_marker_and_track_at_its_usable_memory(engine):
    report = engine.size(PARTIAL)
    fig = build_breakdown_figure(report)
    markers, tracks = artists_by_gid(fig), patches_by_gid(fig)
    for i, device in enumerate(report.devices):
        (x0, _), (x1, _) = markers[f"usable:{i}"].get_segments()[0]
        assert x0 == x1 == pytest.approx(device.usable_bytes / GIB)
        assert tracks[f"track:{i}"].get_width() == pytest.approx(device.usable_bytes / GIB)


def test_system_ram_is_drawn_only_when_it_holds_part_of_the_model(engine):
    fits = patches_by_gid(build_breakdown_figure(engine.size(FITS)))
    partial = patches_by_gid(build_breakdown_figure(engine.size(PARTIAL)))
    assert "weights_bytes:2" not in fits
    assert "weights_bytes:2" in partial


def test_context_chart_renders_an_800_by_450_png(engine):
    assert png_size(context_chart(engine, ONE_CARD)) == (800, 450)


def test_context_chart_marks_the_engines_max_context(engine):
    expected = engine.size(ONE_CARD).max_context
    line = artists_by_gid(build_context_figure(engine, ONE_CARD))["max-context"]
    assert list(line.get_xdata()) == [expected, expected]


def test_context_curve_crosses_usable_memory_at_the_engines_max_context(engine):
    curve = context_curve(engine, ONE_CARD)
    limit = curve.report.max_context
    for context, total in zip(curve.contexts, curve.totals):
        assert (total <= curve.usable_bytes) == (context <= limit), context


def test_context_curve_follows_the_fullest_of_several_gpus(engine):
    curve = context_curve(engine, PARTIAL)
    limit = curve.report.max_context
    assert curve.device_count == 2
    for context, total in zip(curve.contexts, curve.totals):
        assert (total <= curve.usable_bytes) == (context <= limit), context


def test_context_curve_runs_to_the_models_trained_maximum(engine, catalog):
    curve = context_curve(engine, ONE_CARD)
    assert curve.contexts[0] == 256 and curve.contexts[-1] == catalog.model("llama 3.1 8b").context_length


def test_context_chart_says_when_nothing_fits(engine):
    fig = build_context_figure(engine, TOO_BIG)
    assert "max-context" not in artists_by_gid(fig)
    assert any("does not fit" in t.get_text() for t in fig.axes[0].texts)


def test_context_chart_refuses_vllm(engine):
    with pytest.raises(InvalidRequestError):
        context_chart(engine, SizingRequest(model="llama 3.1 8b", gpu="rtx 4090", quant="AWQ-4bit", runtime="vllm"))


def test_alt_text_names_the_verdict_and_the_numbers(engine):
    report = engine.size(FITS)
    gpus = [d for d in report.devices if d.kind == "gpu"]
    text = chart_alt_text(report)
    assert VERDICT_WORDS["fits"] in text
    assert f"{sum(d.need_bytes for d in gpus) / GIB:.1f} GB of {sum(d.usable_bytes for d in gpus) / GIB:.1f} GB" in text
    assert f"KV cache {report.kv_cache_bytes / GIB:.1f} GB" in text
    assert ". " not in text and text.endswith(").")  # one sentence


def test_alt_text_of_partial_offload_counts_layers_and_system_ram(engine):
    report = engine.size(PARTIAL)
    text = chart_alt_text(report)
    assert f"{report.gpu_layers}/{report.total_layers} layers on GPU" in text
    assert "system RAM" in text


def test_write_chart_writes_the_breakdown_and_with_the_request_the_context_chart(engine, tmp_path):
    report = engine.size(ONE_CARD)
    assert write_chart(report, tmp_path / "only.png") == [tmp_path / "only.png"]
    written = write_chart(report, tmp_path / "out.png", engine=engine, request=ONE_CARD)
    assert written == [tmp_path / "out.png", tmp_path / "out-context.png"]
    assert all(png_size(p.read_bytes()) == (800, 450) for p in written)


# ---------------------------------------------------------------- what runs well, and setups side by side
@pytest.fixture(scope="module")
def options(core):
    return what_can_i_run(core, SizingFields(gpu=GpuRef(id="rtx-3060-12gb", memory_gb=None)), "coding")


@pytest.fixture(scope="module")
def sides(core):
    return compare(core, [CompareSide(id="rtx-3090", count=2), CompareSide(id="rtx-4060-ti-16gb")], SizingFields(),
                   None)


def test_options_chart_renders_an_800_by_450_png(options):
    assert png_size(answer_chart(options)) == (800, 450)


def test_options_chart_bars_are_each_options_memory_and_speed_range(options):
    patches = patches_by_gid(build_options_figure(options))
    assert options.options
    for i, o in enumerate(options.options):
        assert patches[f"memory:{i}"].get_width() == pytest.approx(o.total_bytes / GIB)
        low, high = o.decode_tokens_per_s.low, o.decode_tokens_per_s.high
        assert patches[f"speed:{i}"].get_width() == pytest.approx(low)
        assert patches[f"speed-range:{i}"].get_x() == pytest.approx(low)
        assert patches[f"speed-range:{i}"].get_width() == pytest.approx(high - low)


def test_options_chart_marks_the_hardwares_memory_and_the_speed_floor(options):
    lines = artists_by_gid(build_options_figure(options))
    assert list(lines["capacity"].get_xdata()) == [options.hardware.memory_gb] * 2
    assert list(lines["min-speed"].get_xdata()) == [10, 10]


def test_options_alt_text_names_every_option_with_its_memory_and_speed(options):
    text = answer_chart_alt(options)
    for o in options.options:
        assert f"{o.model.name} {o.quant}: {o.total_bytes / GIB:.1f} GB, {o.decode_tokens_per_s.low:.0f}–" \
               f"{o.decode_tokens_per_s.high:.0f} tokens/s" in text
    assert "coding" in text and f"{options.context:,} tokens" in text


def test_compare_chart_renders_an_800_by_450_png(sides):
    assert png_size(answer_chart(sides)) == (800, 450)


def test_compare_bars_are_each_sides_memory_bandwidth_and_speed_per_model(sides):
    patches = patches_by_gid(build_compare_figure(sides))
    for s, side in enumerate(sides.sides):
        assert patches[f"memory:{s}"].get_height() == pytest.approx(side.memory_gb)
        assert patches[f"bandwidth:{s}"].get_height() == pytest.approx(side.bandwidth_gbs)
        for m, row in enumerate(sides.rows):
            runs = row.verdicts[s] in ("fits", "cpu_only")
            want = row.decode_tokens_per_s[s].low if runs else 0.0
            assert patches[f"speed:{m}:{s}"].get_height() == pytest.approx(want)


def test_compare_chart_says_no_fit_where_a_model_does_not_run_entirely(sides):
    fig = build_compare_figure(sides)
    misses = sum(v not in ("fits", "cpu_only") for row in sides.rows for v in row.verdicts)
    assert misses > 0      # Llama 3.3 70B does not run entirely on a 16 GB card
    assert sum(t.get_text() == "no fit" for ax in fig.axes for t in ax.texts) == misses


def test_compare_alt_text_gives_each_sides_numbers(sides):
    text = answer_chart_alt(sides)
    assert "2x RTX 3090 48 GB" in text and "RTX 4060 Ti 16GB 16 GB" in text
    for side in sides.sides:
        assert f"{side.bandwidth_gbs:g} GB/s" in text
    for row in sides.rows:
        assert f"{row.model.name} {row.quant}:" in text


def test_a_sizing_report_still_gets_its_memory_breakdown(engine):
    report = engine.size(FITS)
    assert answer_chart(report) == memory_breakdown_chart(report)
    assert answer_chart_alt(report) == chart_alt_text(report)


# ---------------------------------------------------------------- in Discord
def test_what_can_i_run_and_compare_answers_carry_their_chart_in_their_embed(core):
    for question, kind in (("what can i run on a 3060 12gb for coding?", "what_can_i_run"),
                           ("2x 3090 vs 4060 ti 16gb for llms?", "compare")):
        answer = answer_of(core, question)
        assert answer.kind == kind
        subject = chart_report(answer)
        assert subject is getattr(answer, kind)
        post = render_answer(answer, answer_chart(subject), answer_chart_alt(subject))[0]
        assert post.embeds[0]["image"] == {"url": f"attachment://{CHART_NAME}"}
        assert png_size(post.chart) == (800, 450) and post.chart_alt == answer_chart_alt(subject)


def test_a_what_can_i_run_answer_in_discord_attaches_its_chart_with_alt_text(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            question = await fake.user_message("what can i run on a 3060 12gb for coding?", mention_bot=True)
            answer = await answer_to(fake, question)
            (chart,) = answer["attachments"]
            assert chart["filename"] == CHART_NAME
            assert answer["embeds"][0]["image"]["url"] == f"attachment://{CHART_NAME}"

    run(scenario, timeout=60)


def test_the_compare_command_answers_with_its_grouped_bars(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            interaction = await fake.slash("compare", {"gpu_a": "2x 3090", "gpu_b": "4060 ti 16gb"})
            await interaction.wait_done()
            message = interaction.original or interaction.followups[0]
            assert [a["filename"] for a in message["attachments"]] == [CHART_NAME]
            assert message["embeds"][0]["image"]["url"] == f"attachment://{CHART_NAME}"

    run(scenario, timeout=60)


# -- cost: cumulative spend, local against APIs ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def cost_result(engine):
    from bot.calc.cost import CostRequest, estimate
    from bot.calc.schema import load_prices
    from tests.conftest import KNOWLEDGE
    return estimate(CostRequest("llama 3.1 8b", "rtx 3090", price=800, watts=250, kwh=0.30, hours_per_day=8),
                    engine, load_prices(KNOWLEDGE))


def test_cost_chart_lines_start_at_the_hardware_price_and_cross_at_the_break_even(cost_result):
    from bot.charts import build_cost_figure, cost_chart
    assert png_size(cost_chart(cost_result)) == (800, 450)
    lines = artists_by_gid(build_cost_figure(cost_result))
    local, cheapest = lines["local"], lines["api:0"]
    months = list(local.get_xdata())
    assert local.get_ydata()[0] == 800 and cheapest.get_ydata()[0] == 0
    # local = price + electricity x m; the cheapest API = its monthly cost x m: equal at the break-even month
    monthly_api = cheapest.get_ydata()[1]
    electricity = local.get_ydata()[1] - local.get_ydata()[0]
    assert cost_result.break_even_months is not None      # this setup pays off against gpt-4o-mini
    assert 800 / (monthly_api - electricity) == pytest.approx(cost_result.break_even_months, abs=0.06)
    assert months[-1] >= cost_result.break_even_months


def test_cost_alt_text_gives_the_totals_and_the_break_even(cost_result):
    from bot.charts import cost_alt_text
    text = cost_alt_text(cost_result)
    assert "$800 hardware" in text and cost_result.api[0].name in text
    assert f"after {cost_result.break_even_months:g} months" in text


def test_a_cost_answer_carries_its_chart_in_discord(core):
    answer = answer_of(core, "is running llama 3.1 8b on a 3090 cheaper than gpt-4o-mini?")
    assert answer.kind == "cost" and chart_report(answer) is answer.cost
    from bot.charts import answer_chart, answer_chart_alt
    (post,) = render_answer(answer, answer_chart(answer.cost), answer_chart_alt(answer.cost))
    assert post.chart is not None and post.embeds[0]["image"]["url"] == f"attachment://{CHART_NAME}"


# -- image: peak memory by precision; serve: throughput by concurrent sequences --------------------------------------
@pytest.fixture(scope="module")
def image_result(catalog):
    from bot.calc.image import ImageModels, ImageRequest, estimate
    from bot.calc.schema import load_image_catalog
    from tests.conftest import KNOWLEDGE
    return estimate(ImageRequest("flux dev", gpu="rtx 4090"), ImageModels(load_image_catalog(KNOWLEDGE)), catalog)


def test_image_chart_bars_end_at_each_options_high_estimate_with_the_cards_memory_marked(image_result):
    from bot.charts import build_image_figure, image_chart
    assert png_size(image_chart(image_result)) == (800, 450)
    fig = build_image_figure(image_result)
    bars = patches_by_gid(fig)
    for o in image_result.options:
        if o.offload in ("none", "model"):
            assert bars[f"{o.offload}:{o.precision}"].get_width() == pytest.approx(o.peak_bytes.high / GIB)
    assert not any(k.startswith("sequential") for k in bars)
    capacity = artists_by_gid(fig)["capacity"]
    assert capacity.get_xdata()[0] == pytest.approx(image_result.hardware_bytes / GIB) == 24   # the 4090


def test_image_alt_text_lists_every_precision(image_result):
    from bot.charts import image_alt_text
    text = image_alt_text(image_result)
    assert "RTX 4090" in text and all(f"{p}:" in text for p in ("bf16", "nf4", "q4_k"))


@pytest.fixture(scope="module")
def serve_result(engine):
    from bot.calc.serve import ServeRequest, estimate
    return estimate(ServeRequest(model="llama 3.1 8b", gpu="rtx 3090", context=32768), engine)


def test_serve_chart_stacks_low_and_range_and_greys_what_the_kv_cache_cannot_hold(serve_result):
    from matplotlib.colors import to_hex

    from bot.charts import MUTED, SPEED_LOW, build_serve_figure, serve_chart
    assert png_size(serve_chart(serve_result)) == (800, 450)
    bars = patches_by_gid(build_serve_figure(serve_result))
    for p in serve_result.throughput_tokens_per_s:
        low, rng = bars[f"seq:{p.sequences}"], bars[f"seq-range:{p.sequences}"]
        assert low.get_height() == pytest.approx(p.low)
        assert rng.get_y() + rng.get_height() == pytest.approx(p.high)
        fits = p.sequences <= serve_result.max_concurrent_sequences
        assert to_hex(low.get_facecolor()) == (SPEED_LOW if fits else MUTED).lower()
    # a 3090 holds a few 32K-token sequences of Llama 3.1 8B, not 64: both colours are drawn
    assert 1 <= serve_result.max_concurrent_sequences < 64


def test_image_and_serve_answers_carry_their_chart(image_result, serve_result):
    from bot.answer.schema import Answer
    from bot.discord.render import chart_report, render_answer
    for kind, result in (("image", image_result), ("serve", serve_result)):
        answer = Answer(kind=kind, question="q", text="t", **{kind: result})
        assert chart_report(answer) is result
        post = render_answer(answer, b"png", "alt")[0]
        assert post.chart == b"png" and post.embeds[0]["image"]["url"].startswith("attachment://")
