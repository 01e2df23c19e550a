"""Pictures of a sizing answer, rendered headless to PNG: where the memory goes on each device, and how memory grows
with context. Built with matplotlib's object API and the Agg canvas, so no GUI backend and no pyplot state.

The pictures carry their own light background: Discord shows a PNG as it is, so one opaque palette reads the same in
the dark and the light theme. Colours are from the Okabe-Ito palette, which stays distinguishable with colour-blind
eyes. 800 x 450 px with large type, because most people read Discord on a phone.
"""
from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter

from bot.answer.results import Comparison, WhatCanIRun
from bot.calc.schema import CostResult, ImageResult, Range, ServeResult
from bot.errors import InvalidRequestError
from bot.format import VERDICT_WORDS
from bot.sizing.choose import full_offload_devices
from bot.sizing.devices import GIB, gb
from bot.sizing.engine import SizingEngine
from bot.sizing.schema import DeviceUsage, SizingReport, SizingRequest

SIZE_INCHES = (8.0, 4.5)
DPI = 100
BACKGROUND = "#fafafa"
TEXT = "#1f1f1f"
MUTED = "#5f6368"
TRACK = "#e3e3e6"          # the usable memory a bar fills
LIMIT = "#c0392b"          # the usable-memory marker: red reads as 'the line not to cross' in both themes
# (report field, label, colour)
PARTS = (
    ("weights_bytes", "weights", "#0072B2"),
    ("kv_cache_bytes", "KV cache", "#E69F00"),
    ("compute_bytes", "compute buffer", "#009E73"),
    ("overhead_bytes", "overhead", "#CC79A7"),
)
NAME_PREFIXES = ("NVIDIA GeForce ", "NVIDIA ", "AMD Radeon ", "AMD ", "Intel ")
MAX_LABEL = 22
MAX_SUBTITLE_NAME = 40


def _new_figure() -> Figure:
    fig = Figure(figsize=SIZE_INCHES, dpi=DPI, facecolor=BACKGROUND, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor=BACKGROUND)
    return buffer.getvalue()



def _style(ax) -> None:
    ax.set_facecolor(BACKGROUND)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(MUTED)
    ax.tick_params(colors=TEXT, labelsize=12)


def _titles(fig: Figure, ax, title: str, subtitle: str) -> None:
    fig.suptitle(title, fontsize=16, fontweight="bold", color=TEXT)
    ax.set_title(subtitle, fontsize=13, color=TEXT, pad=10)


# -- where the memory goes ----------------------------------------------------------------------------------------
def drawn_devices(report: SizingReport) -> list[DeviceUsage]:
    """The devices the breakdown shows: the GPUs, plus system RAM when it holds part of the model (anything but
    'fits') or when there is no GPU at all."""
    gpus = [d for d in report.devices if d.kind != "cpu"]
    host = [d for d in report.devices if d.kind == "cpu"]
    return gpus + host if (report.verdict != "fits" or not gpus) else gpus


def _without_vendor(name: str) -> str:
    for prefix in NAME_PREFIXES:
        name = name.replace(prefix, "")
    return name


def _short_name(name: str) -> str:
    name = _without_vendor(name).split(" (")[0]
    return name if len(name) <= MAX_LABEL else name[:MAX_LABEL - 1] + "…"


def _hardware(report: SizingReport) -> str:
    """The setup as the subtitle names it: short enough for one line (catalog names can carry long notes)."""
    if not report.hardware:
        return "CPU and system RAM"
    name = re.sub(r" \([^)]*\)", "", _without_vendor(report.hardware))
    return name if len(name) <= MAX_SUBTITLE_NAME else name[:MAX_SUBTITLE_NAME - 1] + "…"


def _device_labels(devices: list[DeviceUsage]) -> list[str]:
    names = [_short_name(d.name) for d in devices]
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(f"{name} #{seen[name]}" if names.count(name) > 1 else name)
    return out


def build_breakdown_figure(report: SizingReport) -> Figure:
    """A stacked horizontal bar per device (weights, KV cache, compute buffer, overhead) on a grey track as long as
    the device's usable memory, with a red marker where usable memory ends. Segments carry gid 'part:device-index'
    and markers 'usable:device-index' so that tests can read what was drawn."""
    devices = drawn_devices(report)
    fig = _new_figure()
    ax = fig.add_subplot()
    _style(ax)
    rows = list(range(len(devices)))[::-1]  # first device on top
    height = 0.6
    label_size = 13 if len(devices) <= 6 else 9
    widest = max(max(d.usable_bytes, d.need_bytes) for d in devices) / GIB
    for i, (d, y) in enumerate(zip(devices, rows)):
        ax.barh(y, d.usable_bytes / GIB, height=height + 0.16, color=TRACK, gid=f"track:{i}")
        left = 0.0
        for field, _, colour in PARTS:
            width = getattr(d, field) / GIB
            ax.barh(y, width, left=left, height=height, color=colour, gid=f"{field}:{i}")
            left += width
        ax.vlines(d.usable_bytes / GIB, y - 0.45, y + 0.45, colors=LIMIT, linewidth=3, gid=f"usable:{i}")
        over = d.need_bytes > d.usable_bytes
        ax.text(max(left, d.usable_bytes / GIB) + widest * 0.02, y,
                f"{d.need_bytes / GIB:.1f} / {d.usable_bytes / GIB:.1f} GB",
                va="center", ha="left", fontsize=label_size, color=LIMIT if over else TEXT,
                fontweight="bold" if over else "normal")
    ax.set_yticks(rows, _device_labels(devices), fontsize=label_size)
    ax.set_xlim(0, widest * 1.4)  # room for the figures after the longest bar
    half_span = max(len(devices), 2.5) / 2  # so that one device is a bar, not a block
    ax.set_ylim((len(devices) - 1) / 2 - half_span, (len(devices) - 1) / 2 + half_span)
    ax.set_xlabel("memory (GB): used / usable", fontsize=12, color=TEXT)
    ax.grid(axis="x", color=TRACK, linewidth=0.8)
    ax.set_axisbelow(True)
    handles = [Patch(color=colour, label=label) for _, label, colour in PARTS]
    handles.append(Line2D([], [], color=LIMIT, linewidth=3, label="usable"))
    fig.legend(handles=handles, loc="outside lower center", ncol=5, fontsize=12, frameon=False, labelcolor=TEXT,
               handlelength=1.2, columnspacing=1.2)
    _titles(fig, ax, f"{report.model.name} · {report.quant} · {report.context:,} tokens",
            f"{_hardware(report)}: {_verdict_words(report)}")
    return fig


def _verdict_words(report: SizingReport) -> str:
    words = VERDICT_WORDS[report.verdict]
    if report.verdict == "partial_offload":
        words += f" ({report.gpu_layers}/{report.total_layers} layers on GPU)"
    return words


def memory_breakdown_chart(report: SizingReport) -> bytes:
    """The breakdown as PNG bytes."""
    return _png(build_breakdown_figure(report))


def chart_alt_text(report: SizingReport) -> str:
    """One sentence with the numbers the breakdown shows, for screen readers and Discord's image description."""
    devices = drawn_devices(report)
    part = {field: sum(getattr(d, field) for d in devices) for field, _, _ in PARTS}
    gpus = [d for d in devices if d.kind != "cpu"]
    held = gpus or devices
    where = "the GPU" if len(gpus) == 1 else f"the {len(gpus)} GPUs" if gpus else "system RAM"
    ram = [d for d in devices if d.kind == "cpu"] if gpus else []
    rest = (f" and system RAM {gb(sum(d.need_bytes for d in ram))} of {gb(sum(d.usable_bytes for d in ram))}"
            if ram else "")
    return (f"Memory of {report.model.name} at {report.quant} with {report.context:,} tokens on "
            f"{report.hardware or 'CPU and system RAM'}: "
            f"{_verdict_words(report)}; {where} hold{'s' if len(held) == 1 else ''} "
            f"{gb(sum(d.need_bytes for d in held))} of {gb(sum(d.usable_bytes for d in held))} usable{rest} "
            f"(weights {gb(part['weights_bytes'])}, KV cache {gb(part['kv_cache_bytes'])}, compute buffer "
            f"{gb(part['compute_bytes'])}, overhead {gb(part['overhead_bytes'])}).")


# -- memory against context ---------------------------------------------------------------------------------------
CONTEXT_SAMPLES = 40
MIN_CONTEXT = 256


def context_samples(limit: int, extra: list[int]) -> list[int]:
    """Context lengths spread evenly on a log scale from 256 to `limit`, plus the ones that must be exact."""
    if limit <= MIN_CONTEXT:
        return sorted({1, limit})
    step = math.log(limit / MIN_CONTEXT) / (CONTEXT_SAMPLES - 1)
    points = {round(MIN_CONTEXT * math.exp(step * i)) for i in range(CONTEXT_SAMPLES)}
    points |= {c for c in extra if MIN_CONTEXT <= c <= limit}
    points |= {MIN_CONTEXT, limit}
    return sorted(points)


def _tokens(n: float, _pos=None) -> str:
    if n >= 2**20:
        return f"{n / 2**20:g}M"
    if n >= 1024:
        return f"{n / 1024:g}K"
    return f"{n:g}"


def _fullest(devices: list[DeviceUsage]) -> int:
    return max(range(len(devices)), key=lambda i: devices[i].need_bytes / max(devices[i].usable_bytes, 1))


@dataclass(frozen=True)
class ContextCurve:
    """Memory of one device with every layer offloaded, per context length: what the context chart draws."""

    report: SizingReport             # the request's own sizing: verdict, max_context
    device: str                      # the device followed (the fullest GPU, the only GPU, or system RAM)
    device_count: int
    contexts: list[int]
    parts: dict[str, list[int]]      # report field -> bytes at each context
    usable_bytes: int

    @property
    def totals(self) -> list[int]:
        return [sum(values) for values in zip(*self.parts.values())]


def context_curve(engine: SizingEngine, request: SizingRequest) -> ContextCurve:
    """Sample the engine's full-offload memory from 256 tokens to the model's trained maximum. Several GPUs fit only
    while each of them does, so the curve follows the one that is fullest at the requested context."""
    if request.runtime != "llama.cpp":
        raise InvalidRequestError("The context chart follows llama.cpp's memory model; vLLM sizes its KV cache "
                                  "from what is left after the weights.")
    report = engine.size(request)
    limit = engine.sized_model(request).model.context_length
    contexts = context_samples(limit, [report.context] + ([report.max_context] if report.max_context else []))

    def counted(context: int) -> list[DeviceUsage]:
        devices = full_offload_devices(engine, request, context)
        return devices[:-1] if request.gpu else devices[-1:]

    at_request = counted(report.context)
    which = _fullest(at_request)
    parts: dict[str, list[int]] = {field: [] for field, _, _ in PARTS}
    for c in contexts:
        device = counted(c)[which]
        for field in parts:
            parts[field].append(getattr(device, field))
    return ContextCurve(report, _device_labels(at_request)[which], len(at_request), contexts, parts,
                        at_request[which].usable_bytes)


def build_context_figure(engine: SizingEngine, request: SizingRequest) -> Figure:
    """The context curve as stacked areas by part; usable memory as a red dashed line (gid 'usable'); the engine's
    max_context as a vertical line (gid 'max-context')."""
    curve = context_curve(engine, request)
    report, contexts, limit = curve.report, curve.contexts, curve.contexts[-1]
    usable = curve.usable_bytes
    fig = _new_figure()
    ax = fig.add_subplot()
    _style(ax)
    ax.stackplot(contexts, *([b / GIB for b in values] for values in curve.parts.values()),
                 colors=[c for _, _, c in PARTS], labels=[label for _, label, _ in PARTS], alpha=0.9)
    ax.axhline(usable / GIB, color=LIMIT, linewidth=2.5, linestyle="--", gid="usable")
    top = max(max(curve.totals), usable) / GIB * 1.12
    ax.annotate(f"usable {gb(usable)}", (contexts[0], usable / GIB), xytext=(6, 4), textcoords="offset points",
                color=LIMIT, fontsize=12, va="bottom", ha="left", fontweight="bold",
                bbox=dict(facecolor=BACKGROUND, edgecolor="none", alpha=0.85, pad=1.5))
    if report.max_context:
        ax.axvline(report.max_context, color=TEXT, linewidth=2, gid="max-context")
        # the label goes on whichever side of the line has more room
        left_side = math.log(report.max_context / contexts[0]) > math.log(contexts[-1] / report.max_context)
        whole = " (the model's maximum)" if report.max_context == limit else ""
        ax.annotate(f"largest that fits: {report.max_context:,}{whole}", (report.max_context, top),
                    xytext=(-8 if left_side else 8, -8), textcoords="offset points", color=TEXT, fontsize=12,
                    va="top", ha="right" if left_side else "left", fontweight="bold")
    else:
        ax.text(math.sqrt(contexts[0] * contexts[-1]), top * 0.97, f"does not fit even at {MIN_CONTEXT} tokens",
                color=LIMIT, fontsize=13, va="top", ha="center", fontweight="bold")
    ax.set_xscale("log", base=2)
    ax.set_xlim(contexts[0], contexts[-1])
    ax.set_ylim(0, top)
    ticks = [4**k for k in range(4, 12) if contexts[0] <= 4**k <= contexts[-1]]
    if not ticks or limit / ticks[-1] >= 2:
        ticks.append(limit)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(FixedLocator([]))
    ax.xaxis.set_major_formatter(FuncFormatter(_tokens))
    ax.set_xlabel("context (tokens)", fontsize=12, color=TEXT)
    ax.set_ylabel("memory (GB)", fontsize=12, color=TEXT)
    ax.grid(color=TRACK, linewidth=0.8)
    ax.set_axisbelow(True)
    fig.legend(loc="outside lower center", ncol=4, fontsize=12, frameon=False, labelcolor=TEXT, handlelength=1.2)
    where = f"memory on {curve.device}, the fullest card" if curve.device_count > 1 else "memory against context length"
    _titles(fig, ax, f"{report.model.name} · {report.quant} · KV cache {report.kv_cache_type}",
            f"{_hardware(report)}: {where}")
    return fig


def context_chart(engine: SizingEngine, request: SizingRequest) -> bytes:
    """The context chart as PNG bytes."""
    return _png(build_context_figure(engine, request))


# -- what runs well on some hardware ------------------------------------------------------------------------------
SPEED_LOW = "#0072B2"       # the engine's low estimate (context full)
SPEED_HIGH = "#9ecae1"      # up to its high estimate (short context), lighter
MIN_SPEED = 10              # what_can_i_run lists only models at least this fast by the low estimate
SIDE_COLOURS = ("#0072B2", "#E69F00", "#009E73")    # Okabe-Ito, one per side of a comparison


def _setup_name(name: str, count: int) -> str:
    short = re.sub(r" \([^)]*\)", "", _without_vendor(name))
    return f"{count}x {short}" if count > 1 else short


def _option_label(name: str, quant: str) -> str:
    label = f"{name} {quant}"
    return label if len(label) <= MAX_LABEL + 6 else label[:MAX_LABEL + 5] + "…"


def build_options_figure(w: WhatCanIRun) -> Figure:
    """The ranked options of `what_can_i_run`, best on top: memory used against the hardware's memory (left, a red
    line at the memory), decode speed from the low to the high estimate (right, a dashed line at 10 tokens/s).
    Bars carry gid 'memory:i', 'speed:i' (low) and 'speed-range:i' (low to high)."""
    options = w.options
    fig = _new_figure()
    mem_ax, speed_ax = fig.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [1, 1]})
    rows = list(range(len(options)))[::-1]
    capacity = w.hardware.memory_gb * w.hardware.count
    label_size = 12 if len(options) <= 6 else 10
    for ax in (mem_ax, speed_ax):
        _style(ax)
        ax.grid(axis="x", color=TRACK, linewidth=0.8)
        ax.set_axisbelow(True)
    for i, (o, y) in enumerate(zip(options, rows)):
        used = o.total_bytes / GIB
        mem_ax.barh(y, used, height=0.6, color=PARTS[0][2], gid=f"memory:{i}")
        mem_ax.text(used + capacity * 0.02, y, f"{used:.1f}", va="center", fontsize=label_size - 1, color=TEXT)
        low, high = o.decode_tokens_per_s.low, o.decode_tokens_per_s.high
        speed_ax.barh(y, low, height=0.6, color=SPEED_LOW, gid=f"speed:{i}")
        speed_ax.barh(y, high - low, left=low, height=0.6, color=SPEED_HIGH, gid=f"speed-range:{i}")
        speed_ax.text(high * 1.02, y, f"{low:.0f}–{high:.0f}", va="center", fontsize=label_size - 1, color=TEXT)
    mem_ax.axvline(capacity, color=LIMIT, linewidth=2.5, gid="capacity")
    mem_ax.set_xlim(0, capacity * 1.25)
    speed_ax.axvline(MIN_SPEED, color=MUTED, linewidth=1.5, linestyle="--", gid="min-speed")
    top = max([o.decode_tokens_per_s.high for o in options] or [MIN_SPEED])
    speed_ax.set_xlim(0, top * 1.3)
    mem_ax.set_yticks(rows, [_option_label(o.model.name, o.quant) for o in options], fontsize=label_size)
    mem_ax.set_xlabel(f"memory used (GB) of {capacity:g} GB", fontsize=12, color=TEXT)
    speed_ax.set_xlabel("decode tokens/s (low–high)", fontsize=12, color=TEXT)
    if not options:
        mem_ax.text(capacity / 2, 0, "nothing runs well here", ha="center", va="center", color=LIMIT, fontsize=13)
    setup = _setup_name(w.hardware.name, w.hardware.count)
    fig.suptitle(f"What runs well on {setup}", fontsize=16, fontweight="bold", color=TEXT)
    mem_ax.set_title(f"{w.context:,} tokens · use: {w.use}", fontsize=13, color=TEXT, pad=10, loc="left")
    return fig


def options_chart(w: WhatCanIRun) -> bytes:
    return _png(build_options_figure(w))


def options_alt_text(w: WhatCanIRun) -> str:
    """The ranked options with their memory and speed, as one sentence for screen readers."""
    setup = _setup_name(w.hardware.name, w.hardware.count)
    if not w.options:
        return f"No catalog model runs well on {setup} at {w.context:,} tokens."
    items = "; ".join(f"{i}. {o.model.name} {o.quant}: {gb(o.total_bytes)}, {o.decode_tokens_per_s.low:.0f}–"
                      f"{o.decode_tokens_per_s.high:.0f} tokens/s" for i, o in enumerate(w.options, start=1))
    return (f"Models that run well on {setup} ({w.hardware.memory_gb * w.hardware.count:g} GB) at "
            f"{w.context:,} tokens for {w.use}, memory used and decode speed: {items}.")


# -- setups side by side ------------------------------------------------------------------------------------------
def _side_names(c: Comparison) -> list[str]:
    return [_setup_name(s.hardware.name, s.count) for s in c.sides]


def build_compare_figure(c: Comparison) -> Figure:
    """Grouped bars, one colour per side: memory (GB, all cards together), memory bandwidth (GB/s, of one card) and
    each model's decode speed (the engine's low estimate; a model that does not run entirely there gets no bar and
    the words 'no fit'). Bars carry gid 'memory:s', 'bandwidth:s' and 'speed:m:s'."""
    names = _side_names(c)
    fig = _new_figure()
    mem_ax, bw_ax, speed_ax = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1, 2]})
    width = 0.8 / len(c.sides)
    for ax in (mem_ax, bw_ax, speed_ax):
        _style(ax)
        ax.tick_params(labelsize=10)
        ax.grid(axis="y", color=TRACK, linewidth=0.8)
        ax.set_axisbelow(True)
    for s, side in enumerate(c.sides):
        colour = SIDE_COLOURS[s % len(SIDE_COLOURS)]
        x = (s - (len(c.sides) - 1) / 2) * width
        mem_ax.bar(x, side.memory_gb, width=width, color=colour, gid=f"memory:{s}", label=names[s])
        mem_ax.text(x, side.memory_gb, f"{side.memory_gb:g}", ha="center", va="bottom", fontsize=10, color=TEXT)
        bw_ax.bar(x, side.bandwidth_gbs, width=width, color=colour, gid=f"bandwidth:{s}")
        bw_ax.text(x, side.bandwidth_gbs, f"{side.bandwidth_gbs:g}", ha="center", va="bottom", fontsize=10,
                   color=TEXT)
        for m, row in enumerate(c.rows):
            speed = row.decode_tokens_per_s[s]
            runs = row.verdicts[s] in ("fits", "cpu_only") and speed is not None
            height = speed.low if runs else 0.0
            speed_ax.bar(m + x, height, width=width, color=colour, gid=f"speed:{m}:{s}")
            speed_ax.text(m + x, height, f"{height:.0f}" if runs else "no fit", ha="center", va="bottom",
                          fontsize=9, color=TEXT if runs else LIMIT, rotation=0 if runs else 90)
    for ax, title in ((mem_ax, "memory (GB)"), (bw_ax, "bandwidth (GB/s)")):
        ax.set_xticks([])
        ax.set_title(title, fontsize=12, color=TEXT)
        ax.margins(y=0.15)
    # two short lines a model: three names side by side must not run into each other at 800 px
    labels = [f"{_short_model(r.model.name)}\n{r.quant}" for r in c.rows]
    speed_ax.set_xticks(range(len(c.rows)), labels, fontsize=9)
    speed_ax.set_title("decode tokens/s (low estimate)", fontsize=12, color=TEXT)
    speed_ax.margins(y=0.2)
    fig.legend(loc="outside lower center", ncol=len(c.sides), fontsize=12, frameon=False, labelcolor=TEXT)
    fig.suptitle(" vs ".join(names), fontsize=16, fontweight="bold", color=TEXT)
    return fig


def _short_model(name: str, width: int = 14) -> str:
    name = re.sub(r" \([^)]*\)", "", name)
    return name if len(name) <= width else name[:width - 1] + "…"


def compare_chart(c: Comparison) -> bytes:
    return _png(build_compare_figure(c))


def compare_alt_text(c: Comparison) -> str:
    """What the grouped bars show, side by side, as one sentence."""
    names = _side_names(c)
    memory = ", ".join(f"{n} {s.memory_gb:g} GB" for n, s in zip(names, c.sides))
    bandwidth = ", ".join(f"{n} {s.bandwidth_gbs:g} GB/s" for n, s in zip(names, c.sides))
    speeds = []
    for row in c.rows:
        cells = [f"{n} {sp.low:.0f} tokens/s" if v in ("fits", "cpu_only") and sp is not None else f"{n} no fit"
                 for n, v, sp in zip(names, row.verdicts, row.decode_tokens_per_s)]
        speeds.append(f"{row.model.name} {row.quant}: " + ", ".join(cells))
    return (f"{' vs '.join(names)}: memory {memory}; bandwidth {bandwidth}; decode speed, low estimate, "
            + "; ".join(speeds) + ".")


# -- cost: cumulative spend, local against APIs ----------------------------------------------------------------------
COST_APIS = 3               # the cheapest APIs drawn: more lines than this is noise at 800 px
LOCAL_COLOUR = "#0072B2"
API_COLOURS = ("#E69F00", "#009E73", "#CC79A7")


def cost_horizon_months(c: CostResult) -> int:
    """How far the lines run: past the break-even with the cheapest API when there is one, else three years."""
    even = c.break_even_months
    return max(12, min(120, math.ceil(even * 1.5))) if even else 36


def cumulative_costs(c: CostResult) -> tuple[list[int], list[float], list[tuple[str, list[float]]]]:
    """Months 0..horizon, what running it locally has cost by then (the hardware at month 0, then electricity), and
    what the same tokens would have cost on each of the cheapest APIs."""
    months = list(range(cost_horizon_months(c) + 1))
    price = float(c.inputs["price_usd"])
    local = [price + c.local.electricity_per_month * m for m in months]
    apis = [(a.name, [a.per_mtok * c.local.tokens_per_month / 1e6 * m for m in months]) for a in c.api[:COST_APIS]]
    return months, local, apis


def build_cost_figure(c: CostResult) -> Figure:
    """Cumulative cost over months: local (hardware bought at month 0, then electricity) against the cheapest APIs
    for the same tokens; where a line crosses the local one is its break-even. Lines carry gid 'local' and 'api:i'."""
    months, local, apis = cumulative_costs(c)
    fig = _new_figure()
    ax = fig.subplots()
    _style(ax)
    ax.grid(color=TRACK, linewidth=0.8)
    ax.set_axisbelow(True)
    ax.plot(months, local, color=LOCAL_COLOUR, linewidth=2.5, gid="local", label=f"local: {_short_name(c.hardware)}")
    for i, (name, values) in enumerate(apis):
        ax.plot(months, values, color=API_COLOURS[i % len(API_COLOURS)], linewidth=1.8, gid=f"api:{i}", label=name)
    if c.break_even_months:
        ax.axvline(c.break_even_months, color=MUTED, linestyle=":", linewidth=1)
    ax.set_xlabel("months", color=TEXT)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"${v:,.0f}"))
    ax.legend(fontsize=10, frameon=False, labelcolor=TEXT)
    even = f"break-even with the cheapest API after {c.break_even_months:g} months" if c.break_even_months else \
        "no break-even: the cheapest API costs less than the electricity"
    _titles(fig, ax, f"{c.model}: cumulative cost", f"{c.local.tokens_per_month / 1e6:,.1f}M tokens a month; {even}")
    return fig


def cost_chart(c: CostResult) -> bytes:
    return _png(build_cost_figure(c))


def cost_alt_text(c: CostResult) -> str:
    months, local, apis = cumulative_costs(c)
    end = months[-1]
    others = "; ".join(f"{name} ${values[-1]:,.0f}" for name, values in apis)
    even = (f"the cheapest API costs as much after {c.break_even_months:g} months" if c.break_even_months else
            "the cheapest API never costs more than the electricity")
    return (f"Cumulative cost of {c.model} on {c.hardware} against APIs over {end} months: local ${local[-1]:,.0f} "
            f"(${local[0]:,.0f} hardware, then ${c.local.electricity_per_month:,.2f} a month in electricity); "
            f"{others}; {even}.")


# -- image: peak memory per precision, on the GPU alone and with model offload ------------------------------------
IMAGE_OFFLOADS = (("none", "all on the GPU", "#0072B2"), ("model", "model offload", "#E69F00"))
IMAGE_OFFLOAD_MODES = {mode for mode, _, _ in IMAGE_OFFLOADS}


def image_rows(r: ImageResult) -> list[tuple[str, dict[str, Range]]]:
    """(precision, {offload: peak}) for each precision the calculator tried, most faithful first."""
    rows: dict[str, dict[str, Range]] = {}
    for o in r.options:
        if o.offload in IMAGE_OFFLOAD_MODES:
            rows.setdefault(o.precision, {})[o.offload] = o.peak_bytes
    return list(rows.items())


def build_image_figure(r: ImageResult) -> Figure:
    """Peak GPU memory of each precision with everything on the GPU and with model offload, each bar solid to the
    low estimate and lighter to the high one; a red line at the card's memory when one was given. Bars carry gid
    'none:PRECISION' and 'model:PRECISION' (to the high end); the line 'capacity'."""
    rows = image_rows(r)
    fig = _new_figure()
    ax = fig.subplots()
    _style(ax)
    ax.grid(axis="x", color=TRACK, linewidth=0.8)
    ax.set_axisbelow(True)
    ys = list(range(len(rows)))[::-1]
    height = 0.38
    for (precision, peaks), y in zip(rows, ys):
        for j, (offload, _label, colour) in enumerate(IMAGE_OFFLOADS):
            peak = peaks.get(offload)
            if peak is None:
                continue
            at = y + (0.2 if j == 0 else -0.2)
            ax.barh(at, peak.high / GIB, height=height, color=colour, alpha=0.45, gid=f"{offload}:{precision}")
            ax.barh(at, peak.low / GIB, height=height, color=colour)
    top = max((p.high for _, peaks in rows for p in peaks.values()), default=GIB) / GIB
    if r.hardware_bytes:
        ax.axvline(r.hardware_bytes / GIB, color=LIMIT, linewidth=2.5, gid="capacity")
        top = max(top, r.hardware_bytes / GIB)
    ax.set_xlim(0, top * 1.1)
    ax.set_yticks(ys, [p for p, _ in rows], fontsize=11)
    ax.set_xlabel("peak GPU memory (GiB), low to high estimate", fontsize=12, color=TEXT)
    handles = [Patch(color=c, label=label) for _, label, c in IMAGE_OFFLOADS]
    if r.hardware_bytes:
        handles.append(Line2D([0], [0], color=LIMIT, linewidth=2.5, label=_short_name(r.hardware or "")))
    ax.legend(handles=handles, fontsize=10, frameon=False, labelcolor=TEXT, loc="lower right")
    size = f"{r.width}x{r.height}" + (f", {r.frames} frames" if r.kind == "video" else "")
    pick = f"pick: {r.recommendation}" if r.recommendation else "denoiser precision"
    _titles(fig, ax, f"{r.model}: memory by precision", f"{size}; {pick}")
    return fig


def image_chart(r: ImageResult) -> bytes:
    return _png(build_image_figure(r))


def image_alt_text(r: ImageResult) -> str:
    cells = []
    for precision, peaks in image_rows(r):
        parts = [f"{label} {gb(peaks[k].low)}-{gb(peaks[k].high)}" for k, label, _ in IMAGE_OFFLOADS if k in peaks]
        cells.append(f"{precision}: " + ", ".join(parts))
    card = f" against {r.hardware}'s {gb(r.hardware_bytes)}" if r.hardware_bytes else ""
    return f"Peak GPU memory of {r.model} by precision{card}: " + "; ".join(cells) + "."


# -- serve: aggregate decode throughput by concurrent sequences ------------------------------------------------------
def build_serve_figure(r: ServeResult) -> Figure:
    """Aggregate decode tokens/s at each number of concurrent sequences, solid to the low estimate and lighter to
    the high one; sequences past the KV cache's maximum concurrency are greyed. Bars carry gid 'seq:N' (low) and
    'seq-range:N' (low to high)."""
    fig = _new_figure()
    ax = fig.subplots()
    _style(ax)
    ax.grid(axis="y", color=TRACK, linewidth=0.8)
    ax.set_axisbelow(True)
    xs = list(range(len(r.throughput_tokens_per_s)))
    for x, p in zip(xs, r.throughput_tokens_per_s):
        fits = p.sequences <= r.max_concurrent_sequences
        low, high = (SPEED_LOW, SPEED_HIGH) if fits else (MUTED, TRACK)
        ax.bar(x, p.low, width=0.6, color=low, gid=f"seq:{p.sequences}")
        ax.bar(x, p.high - p.low, bottom=p.low, width=0.6, color=high, gid=f"seq-range:{p.sequences}")
        ax.text(x, p.high * 1.02, f"{p.low:,.0f}–{p.high:,.0f}", ha="center", fontsize=10, color=TEXT)
    top = max((p.high for p in r.throughput_tokens_per_s), default=1)
    ax.set_ylim(0, top * 1.15)
    ax.set_xticks(xs, [f"{p.sequences}" for p in r.throughput_tokens_per_s], fontsize=12)
    ax.set_xlabel("concurrent sequences (grey: more than the KV cache holds at this context)", fontsize=11,
                  color=TEXT)
    ax.set_ylabel("decode tokens/s, all sequences", fontsize=12, color=TEXT)
    setup = _setup_name(r.hardware, r.gpus)
    _titles(fig, ax, f"{r.model} on {setup} ({r.runtime})",
            f"KV cache {r.kv_cache_tokens:,} tokens: {r.max_concurrent_sequences:.1f} sequences of {r.context:,}")
    return fig


def serve_chart(r: ServeResult) -> bytes:
    return _png(build_serve_figure(r))


def serve_alt_text(r: ServeResult) -> str:
    cells = "; ".join(f"{p.sequences} sequences {p.low:,.0f}-{p.high:,.0f} tokens/s" for p in r.throughput_tokens_per_s)
    return (f"Aggregate decode throughput of {r.model} on {_setup_name(r.hardware, r.gpus)} with {r.runtime}: {cells}; "
            f"the KV cache holds {r.kv_cache_tokens:,} tokens, {r.max_concurrent_sequences:.1f} sequences of "
            f"{r.context:,}.")


# -- the chart of an answer, whatever its kind ----------------------------------------------------------------------
ChartSubject = SizingReport | WhatCanIRun | Comparison | CostResult | ImageResult | ServeResult


def answer_chart(subject: ChartSubject) -> bytes:
    """The PNG that goes with an answer: options for what_can_i_run, grouped bars for compare, the memory
    breakdown for a sizing report."""
    if isinstance(subject, WhatCanIRun):
        return options_chart(subject)
    if isinstance(subject, Comparison):
        return compare_chart(subject)
    if isinstance(subject, CostResult):
        return cost_chart(subject)
    if isinstance(subject, ImageResult):
        return image_chart(subject)
    if isinstance(subject, ServeResult):
        return serve_chart(subject)
    return memory_breakdown_chart(subject)


def answer_chart_alt(subject: ChartSubject) -> str:
    if isinstance(subject, WhatCanIRun):
        return options_alt_text(subject)
    if isinstance(subject, Comparison):
        return compare_alt_text(subject)
    if isinstance(subject, CostResult):
        return cost_alt_text(subject)
    if isinstance(subject, ImageResult):
        return image_alt_text(subject)
    if isinstance(subject, ServeResult):
        return serve_alt_text(subject)
    return chart_alt_text(subject)

