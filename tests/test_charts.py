"""Charts of sizing answers: they render headless from real engine reports, and what they draw is the report."""
import struct

import pytest

from bot.charts import (
    build_breakdown_figure,
    build_context_figure,
    chart_alt_text,
    context_chart,
    context_curve,
    memory_breakdown_chart,
)
from bot.cli.commands.charts import write_chart
from bot.errors import InvalidRequestError
from bot.format import VERDICT_WORDS
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
