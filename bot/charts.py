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
