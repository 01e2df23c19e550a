"""From the core's data (Answer, SizingReport, Recommendation, knowledge entries) to what the bot posts: content and
embeds in Discord's JSON shape, within Discord's limits. No discord import, so that the terminal console prints
exactly what the bot would post."""
from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from bot.answer.schema import Answer, Source
from bot.charts import ChartSubject
from bot.discord.limits import CONTENT, FIELD_VALUE, fit_embed, shorten
from bot.discord.splitting import split_message
from bot.format import (
    FIT_WORDS,
    VERDICT_WORDS,
    budget_option_line,
    finetune_verdict,
    gb_range,
    image_setting,
    log_fact_lines,
    log_lead,
    sequences,
    serve_throughput_lines,
)
from bot.kb.schema import Entry
from bot.sizing.choose import Recommendation
from bot.sizing.devices import GIB, gb
from bot.sizing.schema import SizingReport

CHART_NAME = "memory.png"
VERDICT_COLOURS = {"fits": 0x2E7D32, "partial_offload": 0xF9A825, "cpu_only": 0xEF6C00, "does_not_fit": 0xC62828}
NEUTRAL_COLOUR = 0x5865F2
MAX_CHOOSE_ROWS = 10
STREAM_MARK = " …"


class Post(BaseModel):
    """One message as the bot sends it."""
    content: str = ""
    embeds: list[dict] = []
    chart: bytes | None = None          # a PNG attached as CHART_NAME, shown in the first embed
    chart_alt: str | None = None        # its description (alt text) for screen readers


def fully_where(report: SizingReport) -> str:
    """Where the engine's best quantization and largest context run entirely."""
    return "fully on GPU" if any(d.kind != "cpu" for d in report.devices) else "in RAM"



def _tokens_per_s(low: float, high: float) -> str:
    # the engine already rounds decode speeds; prompt speeds run to thousands and read better without decimals
    return f"{low:g}–{high:g} tokens/s" if high < 1000 else f"{low:,.0f}–{high:,.0f} tokens/s"


def _code_block_lines(lines: list[str], limit: int = FIELD_VALUE) -> str:
    """Lines in a code block that fits `limit`, with a count of the lines left out."""
    shown: list[str] = []
    for i, line in enumerate(lines):
        more = f"… and {len(lines) - i} more"
        candidate = "```\n" + "\n".join([*shown, line]) + "\n```"
        if len(candidate) + (len(more) + 1 if i < len(lines) - 1 else 0) > limit:
            return "```\n" + "\n".join(shown) + "\n```\n" + more
        shown.append(line)
    return "```\n" + "\n".join(shown) + "\n```"


def _bullets(items: list[str], limit: int = FIELD_VALUE) -> str:
    return shorten("\n".join(f"• {item}" for item in items), limit) if items else "none"


# -- sizing ---------------------------------------------------------------------------------------------------
def verdict_line(report: SizingReport) -> str:
    where = report.hardware or "CPU and system RAM (no GPU given)"
    layers = f" ({report.gpu_layers}/{report.total_layers} layers on GPU)" if report.hardware else ""
    words = VERDICT_WORDS[report.verdict]
    return f"**{words[0].upper() + words[1:]}** on {where}{layers}."


def device_lines(report: SizingReport) -> list[str]:
    width = min(max((len(d.name) for d in report.devices), default=10), 26)
    out = []
    for d in report.devices:
        name = d.name if len(d.name) <= width else d.name[:width - 1] + "…"
        out.append(f"{name:<{width}} {d.need_bytes / GIB:6.1f} / {d.usable_bytes / GIB:6.1f} GB  {d.layers:>3} layers")
    return out


def sizing_embed(report: SizingReport, with_chart: bool = False) -> dict:
    speed = []
    if report.decode_tokens_per_s:
        speed.append(f"Generation ≈ {_tokens_per_s(report.decode_tokens_per_s.low, report.decode_tokens_per_s.high)}")
    if report.prompt_tokens_per_s:
        speed.append(f"Prompt ≈ {_tokens_per_s(report.prompt_tokens_per_s.low, report.prompt_tokens_per_s.high)}")
    speed.append("*low: context full · high: short context*")
    # the engine computes both for running entirely on the GPUs (or in RAM when there is no GPU)
    where = fully_where(report)
    instead = [f"Best quantization {where} at {report.context:,} tokens: **{report.best_quant or 'none'}**",
               f"Largest context {where} at {report.quant}: **" +
               (f"{report.max_context:,} tokens" if report.max_context else "none") + "**"]
    embed = {
        "title": f"{report.model.name} · {report.quant} · {report.context:,} tokens",
        "description": verdict_line(report),
        "color": VERDICT_COLOURS[report.verdict],
        "fields": [
            {"name": "Memory needed", "value": f"weights {gb(report.weights_bytes)} · KV cache "
                                               f"{gb(report.kv_cache_bytes)} ({report.kv_cache_type}) · compute "
                                               f"{gb(report.compute_bytes)} · overhead {gb(report.overhead_bytes)}\n"
                                               f"**total {gb(report.total_bytes)}**"},
            {"name": "Per device: used / usable", "value": _code_block_lines(device_lines(report))},
            {"name": "Speed estimate", "value": "\n".join(speed) if report.decode_tokens_per_s else "no estimate"},
            {"name": "What would fit instead", "value": "\n".join(instead)},
            {"name": "Assumptions", "value": _bullets(report.assumptions)},
        ],
        "footer": {"text": f"Sizing engine · {report.runtime} · flash attention "
                           f"{'on' if report.flash_attention else 'off'} · {report.parallel} sequence(s)"},
    }
    if with_chart:
        embed["image"] = {"url": f"attachment://{CHART_NAME}"}
    return fit_embed(embed)


def sizing_post(report: SizingReport, chart: bytes | None = None, chart_alt: str | None = None) -> Post:
    return Post(embeds=[sizing_embed(report, with_chart=chart is not None)], chart=chart, chart_alt=chart_alt)


def compare_post(reports: list[SizingReport]) -> Post:
    """The same model sized on two or more setups, one inline column each."""
    first = reports[0]
    fields = []
    for r in reports:
        lines = [f"**{VERDICT_WORDS[r.verdict]}**", f"needs {gb(r.total_bytes)}"]
        if r.hardware:
            lines.append(f"{r.gpu_layers}/{r.total_layers} layers on GPU")
        if r.decode_tokens_per_s:
            lines.append(f"≈ {_tokens_per_s(r.decode_tokens_per_s.low, r.decode_tokens_per_s.high)}")
        where = fully_where(r)
        lines.append(f"best quant {where}: {r.best_quant or 'none'}")
        lines.append(f"max context {where}: {r.max_context:,}" if r.max_context else f"max context {where}: none")
        fields.append({"name": r.hardware or "CPU only", "value": "\n".join(lines), "inline": True})
    embed = {"title": f"{first.model.name} · {first.quant} · {first.context:,} tokens",
             "description": "The same model and settings on each setup.", "color": NEUTRAL_COLOUR,
             "fields": fields, "footer": {"text": f"Sizing engine · {first.runtime}"}}
    return Post(embeds=[fit_embed(embed)])


def choose_post(rec: Recommendation) -> Post:
    rows = []
    for o in rec.options[:MAX_CHOOSE_ROWS]:
        setup = f"{o.count}x {o.name}" if o.count > 1 else o.name
        speed = o.decode_tokens_per_s
        rows.append(f"• **{setup}** ({o.memory_gb:g} GB{' each' if o.count > 1 else ''}): needs "
                    f"{gb(o.need_bytes)} of {gb(o.usable_bytes)} · ≈ {_tokens_per_s(speed.low, speed.high)}")
    if len(rec.options) > MAX_CHOOSE_ROWS:
        rows.append(f"… and {len(rec.options) - MAX_CHOOSE_ROWS} more")
    description = (f"Needs at least **{gb(rec.min_memory_bytes)}** of GPU memory to run entirely on one card.\n\n" +
                   ("\n".join(rows) if rows else "No catalog hardware (up to 4 of one card) runs it entirely in GPU "
                                                 "or unified memory."))
    fields = []
    if rec.suggestions and rec.smaller_card:
        fields.append({"name": f"To fit a {rec.smaller_card.memory_gb:g} GB card such as the {rec.smaller_card.name}",
                       "value": _bullets(rec.suggestions)})
    embed = {"title": f"What runs {rec.model_name}? · {rec.quant} · {rec.context:,} tokens",
             "description": description, "color": NEUTRAL_COLOUR, "fields": fields,
             "footer": {"text": f"Smallest setups first · KV cache {rec.kv_cache_type} · speed: low = context full"}}
    return Post(embeds=[fit_embed(embed)])


# -- knowledge ----------------------------------------------------------------------------------------------
def source_link(number: int, source: Source, in_embed: bool = False) -> str:
    if not source.url:
        return f"[{number}] {source.title}"
    # <url> in content stops Discord from unfurling a preview card for every source
    url = source.url if in_embed else f"<{source.url}>"
    return f"[{number}] [{source.title}]({url})"


def sources_block(sources: list[Source], label: str = "Sources") -> str:
    return f"**{label}**\n" + "\n".join(source_link(i, s) for i, s in enumerate(sources, start=1))


def see_also_block(related: list[Source]) -> str:
    """Related entries as linked titles, each with the command that shows it in full."""
    lines = [f"• [{s.title}](<{s.url}>)" if s.url else f"• {s.title}" for s in related]
    return "**See also**\n" + "\n".join(f"{line} · `/{s.kind} {s.id}`" for line, s in zip(lines, related))


def knowledge_text(answer: Answer) -> str:
    """The whole text of a knowledge-base answer: the answer, numbered source links, related entries to look up,
    how it was made."""
    parts = [answer.text.strip()]
    if answer.sources:
        parts.append(sources_block(answer.sources, "Closest entries" if answer.kind == "no_match" else "Sources"))
    if answer.see_also:
        parts.append(see_also_block(answer.see_also))
    if answer.kind == "knowledge":
        # "checked" only when the guard kept the model's text; otherwise the text is the entries' own
        parts.append(f"-# Phrased by {answer.model}, checked against the sources." if answer.model and not
                     answer.fallback else "-# Taken from the knowledge base entries.")
    return "\n\n".join(p for p in parts if p)


def text_posts(text: str) -> list[Post]:
    return [Post(content=chunk) for chunk in split_message(text, CONTENT)]


def streaming_preview(text: str) -> str:
    """What a message shows while the model is still writing: the text so far, cut to one message."""
    chunks = split_message(text.strip(), CONTENT - len(STREAM_MARK))
    return (chunks[0] if chunks else "") + STREAM_MARK


def _sizing_posts(answer: Answer, chart: bytes | None, chart_alt: str | None) -> list[Post]:
    return [sizing_post(answer.sizing, chart, chart_alt)]


def _choose_posts(answer: Answer, chart: bytes | None, chart_alt: str | None) -> list[Post]:
    return [choose_post(Recommendation.model_validate(answer.recommendation))]


def _knowledge_posts(answer: Answer, chart: bytes | None, chart_alt: str | None) -> list[Post]:
    return text_posts(knowledge_text(answer))


def _text_only(answer: Answer, chart: bytes | None, chart_alt: str | None) -> list[Post]:
    return text_posts(answer.text)


def _silent(answer: Answer, chart: bytes | None, chart_alt: str | None) -> list[Post]:
    return []


# one renderer per answer kind (bot.kinds); "none" stays silent
def _what_can_i_run_posts(answer: Answer, chart: bytes | None, chart_alt: str | None) -> list[Post]:
    w = answer.what_can_i_run
    rows = [f"**{i}. {o.model.name}** · {o.quant} · {gb(o.total_bytes)} · "
            f"≈ {_tokens_per_s(o.decode_tokens_per_s.low, o.decode_tokens_per_s.high)}"
            + (f" · tier {o.tier}" if o.tier else "") for i, o in enumerate(w.options, start=1)]
    if w.bigger_with_offload is not None:
        b = w.bigger_with_offload
        rows.append(f"Bigger if you accept offload: **{b.model.name}** {b.quant}, "
                    f"≈ {_tokens_per_s(b.decode_tokens_per_s.low, b.decode_tokens_per_s.high)}")
    setup = f"{w.hardware.count}x {w.hardware.name}" if w.hardware.count > 1 else w.hardware.name
    embed = {"title": f"What runs well on {setup} · {w.context:,} tokens · {w.use}",
             "description": "\n".join(rows) or "No catalog model runs entirely there at Q3 or better and 10 tokens/s.",
             "color": NEUTRAL_COLOUR, "fields": [{"name": "How this was ranked", "value": _bullets(w.assumptions)}],
             "footer": {"text": "Sizing engine · tiers from public leaderboards (knowledge/catalog/model_tiers.yaml)"}}
    return [_with_chart(embed, chart, chart_alt)]


def _compare_posts(answer: Answer, chart: bytes | None, chart_alt: str | None) -> list[Post]:
    c = answer.compare
    names = [f"{s.count}x {s.hardware.name}" if s.count > 1 else s.hardware.name for s in c.sides]
    fields = [{"name": name, "value": f"{s.memory_gb:g} GB · {s.bandwidth_gbs:g} GB/s"
               + (f" · {s.tdp_w:g} W" if s.tdp_w else "") + "\nRuns well: "
               + (", ".join(s.largest_models) or "nothing in the catalog entirely"), "inline": True}
              for name, s in zip(names, c.sides, strict=True)]
    for row in c.rows:
        cells = [f"{VERDICT_WORDS[v]}, ≈ {_tokens_per_s(sp.low, sp.high) if sp else '–'}"
                 for v, sp in zip(row.verdicts, row.decode_tokens_per_s, strict=True)]
        fields.append({"name": f"{row.model.name} {row.quant}",
                       "value": "\n".join(f"{n}: {cell}" for n, cell in zip(names, cells, strict=True))})
    embed = {"title": " vs ".join(names), "description": _bullets(c.summary), "color": NEUTRAL_COLOUR,
             "fields": fields, "footer": {"text": "Sizing engine · each model at its quant, llama.cpp"}}
    return [_with_chart(embed, chart, chart_alt)]


def _with_chart(embed: dict, chart: bytes | None, chart_alt: str | None) -> Post:
    """One embed showing its chart (what_can_i_run's ranked bars, compare's grouped bars) when one was drawn."""
    if chart is not None:
        embed["image"] = {"url": f"attachment://{CHART_NAME}"}
    return Post(embeds=[fit_embed(embed)], chart=chart, chart_alt=chart_alt)


# -- pasted logs ------------------------------------------------------------------------------------------------
LOG_ERRORS_SHOWN = 5


def _log_posts(answer: Answer, chart: bytes | None, chart_alt: str | None) -> list[Post]:
    """What the log shows, explained, with the knowledge base's entry for its error and the facts to correct; then
    the sizing of its setup, with the memory chart, as its own message."""
    log = answer.log
    what = " on ".join(p for p in (log.model_sized or log.model, log.hardware_sized) if p)
    fields = [{"name": "Read from the log (reply to correct)", "value": _bullets(log_fact_lines(log))}]
    if log.errors:
        fields.append({"name": "Errors", "value": _code_block_lines(log.errors[:LOG_ERRORS_SHOWN])})
    if answer.sources:
        fields.append({"name": "From the knowledge base", "value": shorten(
            "\n".join(source_link(i, s, in_embed=True) for i, s in enumerate(answer.sources, start=1)) +
            ("\nSee also: " + ", ".join(s.title for s in answer.see_also) if answer.see_also else ""), FIELD_VALUE)})
    colour = VERDICT_COLOURS[answer.sizing.verdict] if answer.sizing else \
        (VERDICT_COLOURS["does_not_fit"] if log.errors else NEUTRAL_COLOUR)
    lead = "\n\n".join(log_lead(log)) or "Nothing in this log I can explain; the facts I read are below."
    embed = {"title": f"Your log: {what}" if what else "Your log", "description": shorten(lead, 3000),
             "color": colour, "fields": fields,
             "footer": {"text": "Read from the log · " + ", ".join(log.tools) if log.tools else "Read from the log"}}
    posts = [Post(embeds=[fit_embed(embed)])]
    if answer.sizing is not None:
        posts.append(sizing_post(answer.sizing, chart, chart_alt))
    return posts


# -- the calculators: each embed shows the parts, the verdict on the hardware named and every assumption -----------
FIT_COLOURS = {"fits": VERDICT_COLOURS["fits"], "tight": VERDICT_COLOURS["partial_offload"],
               "does_not_fit": VERDICT_COLOURS["does_not_fit"], "no_gpu_given": NEUTRAL_COLOUR}
MAX_IMAGE_OPTIONS = 6


def _assumptions_field(notes: list[str]) -> dict:
    return {"name": "Assumptions", "value": _bullets(notes)}


def _finetune_posts(answer: Answer, chart: bytes | None, chart_alt: str | None) -> list[Post]:
    r = answer.finetune
    method = {"full": "full fine-tuning", "lora": f"LoRA r{r.lora_rank}", "qlora": f"QLoRA r{r.lora_rank}"}[r.method]
    parts = [f"{name:<12} {gb_range(part.low, part.high)}" for name, part in r.parts if part.high > 0]
    description = f"Peak memory per GPU: **{gb_range(r.peak_bytes.low, r.peak_bytes.high)}**"
    verdict = finetune_verdict(r)
    embed = {"title": f"{r.model} · {method} · {r.seq_len:,} tokens x {r.batch_size}",
             "description": description + (f"\n{verdict}" if verdict else "\nName a GPU for a verdict."),
             "color": FIT_COLOURS[r.verdict],
             "fields": [{"name": "Per GPU, by part (low–high)", "value": _code_block_lines(parts)},
                        _assumptions_field(r.assumptions)],
             "footer": {"text": f"Fine-tuning calculator · {r.optimizer} · gradient checkpointing "
                                f"{'on' if r.gradient_checkpointing else 'off'}"}}
    return [Post(embeds=[fit_embed(embed)])]


def _serve_posts(answer: Answer, chart: bytes | None, chart_alt: str | None) -> list[Post]:
    r = answer.serve
    setup = f"{r.gpus}x {r.hardware}" if r.gpus > 1 else r.hardware
    fields = [{"name": "Aggregate decode speed",
               "value": _code_block_lines(serve_throughput_lines(r)) if r.throughput_tokens_per_s else
               "Not one sequence of this context fits: lower the context or add GPUs."}]
    if r.ttft_s:
        fields.append({"name": f"Time to first token ({r.prompt_tokens:,} prompt tokens)",
                       "value": f"{r.ttft_s.low:.2f}–{r.ttft_s.high:.2f} s"})
    fields.append(_assumptions_field(r.assumptions))
    embed = {"title": f"{r.model} on {setup} · {r.runtime} · {r.context:,} tokens per request",
             "description": f"KV cache: **{r.kv_cache_tokens:,} tokens** ({gb(r.kv_cache_bytes)})\n"
                            f"At most **{sequences(r.max_concurrent_sequences)}** of {r.context:,} tokens at once",
             "color": NEUTRAL_COLOUR if r.max_concurrent_sequences >= 1 else VERDICT_COLOURS["does_not_fit"],
             "fields": fields, "footer": {"text": "Serving calculator · speed: low = contexts full"}}
    return [_with_chart(embed, chart, chart_alt)]      # throughput by concurrent sequences


def _image_posts(answer: Answer, chart: bytes | None, chart_alt: str | None) -> list[Post]:
    r = answer.image
    lines = [f"Peak GPU memory: **{gb_range(r.peak_bytes.low, r.peak_bytes.high)}**"]
    if r.ram_bytes:
        lines.append(f"System RAM for offloaded weights: {gb(r.ram_bytes)}")
    fields = []
    if r.hardware:
        lines.append(f"On {r.hardware}: **{FIT_WORDS[r.verdict]}**")
        lines.append(f"Pick: **{r.recommendation}**" if r.recommendation else "No precision or offload mode I "
                     "size fits it.")
        fitting = [o for o in r.options if o.verdict == "fits"][:MAX_IMAGE_OPTIONS]
        if fitting:
            fields.append({"name": f"What fits {r.hardware}", "value": _code_block_lines(
                [f"{o.precision:<5} {o.offload:<16} {gb_range(o.peak_bytes.low, o.peak_bytes.high)}"
                 for o in fitting])})
    else:
        lines.append("Name a GPU for a verdict and a pick.")
    fields.append(_assumptions_field(r.assumptions))
    embed = {"title": image_setting(r), "description": "\n".join(lines), "color": FIT_COLOURS[r.verdict],
             "fields": fields, "footer": {"text": "Image and video calculator"}}
    return [_with_chart(embed, chart, chart_alt)]      # peak memory by precision, against the card


def _cost_posts(answer: Answer, chart: bytes | None, chart_alt: str | None) -> list[Post]:
    if answer.budget is not None:
        return _budget_posts(answer)
    r = answer.cost
    apis = [f"{a.name}: **{a.per_mtok:.2f} USD/M** (as of {a.as_of}; " +
            (f"break-even in {a.break_even_months:g} months)" if a.break_even_months else "never breaks even)")
            for a in r.api]
    embed = {"title": f"{r.model} on {r.hardware}: local against APIs",
             "description": f"Locally: **{r.local.per_mtok:.2f} USD per million output tokens** "
                            f"({r.local.per_month:.2f} USD a month: hardware {r.local.hardware_per_month:.2f} + "
                            f"electricity {r.local.electricity_per_month:.2f}, "
                            f"{r.local.tokens_per_month / 1e6:.1f}M tokens)",
             "color": NEUTRAL_COLOUR,
             "fields": [{"name": "APIs (dated prices)", "value": _bullets(apis)},
                        {"name": "Inputs", "value": shorten(", ".join(f"{k} {v}" for k, v in r.inputs.items()),
                                                            FIELD_VALUE)},
                        _assumptions_field(r.assumptions)],
             "footer": {"text": "Cost calculator · every input can be overridden"}}
    return [_with_chart(embed, chart, chart_alt)]      # cumulative cost, local against the cheapest APIs


def _budget_posts(answer: Answer) -> list[Post]:
    b = answer.budget
    within = f"within {b.budget_usd:,.0f} USD" if b.budget_usd is not None else "with a price on file"
    fields = []
    for row in b.rows:
        lines = [f"{i}. {budget_option_line(o)}" for i, o in enumerate(row.options, start=1)]
        if not row.options:
            lines.append(f"None {within}." + (f" Best value above it: {budget_option_line(row.over_budget)}"
                                              if row.over_budget else " None of the priced setups runs it."))
        fields.append({"name": f"{row.model.name} ({row.context:,} tokens)", "value": shorten("\n".join(lines),
                                                                                            FIELD_VALUE)})
    fields.append(_assumptions_field(b.assumptions))
    embed = {"title": f"Setups {within}, cheapest per token/s first", "color": NEUTRAL_COLOUR, "fields": fields,
             "description": f"Ranked from the {b.priced_hardware} devices with a dated price on file.",
             "footer": {"text": "Cost calculator · prices from knowledge/catalog/prices.yaml"}}
    return [Post(embeds=[fit_embed(embed)])]


RENDERERS: dict[str, Callable[[Answer, bytes | None, str | None], list[Post]]] = {
    "sizing": _sizing_posts,
    "choose": _choose_posts,
    "knowledge": _knowledge_posts,
    "no_match": _knowledge_posts,
    "clarify": _text_only,
    "none": _silent,
    "what_can_i_run": _what_can_i_run_posts,
    "compare": _compare_posts,
    "finetune": _finetune_posts,
    "serve": _serve_posts,
    "image": _image_posts,
    "cost": _cost_posts,
    "unsupported": _text_only,
    "log": _log_posts,
}


def chart_report(answer: Answer) -> ChartSubject | None:
    """What the chart that goes with `answer` draws, if its kind has one: a sizing report's memory (sizing, and the
    setup of a pasted log), the ranked options of what_can_i_run, the sides of compare, cumulative cost against
    APIs, an image model's memory by precision, a server's throughput by concurrency (bot.charts.answer_chart)."""
    if answer.kind in ("sizing", "log"):
        return answer.sizing
    return {"what_can_i_run": answer.what_can_i_run, "compare": answer.compare, "cost": answer.cost,
            "image": answer.image, "serve": answer.serve}.get(answer.kind)


def render_answer(answer: Answer, chart: bytes | None = None, chart_alt: str | None = None) -> list[Post]:
    """Every message that answers `answer`, in order; empty for kind "none" (the bot stays silent)."""
    return RENDERERS[answer.kind](answer, chart, chart_alt)


def entry_post(entry: Entry) -> Post:
    """A knowledge entry as /glossary and /error show it: summary, its first section, fixes, numbered sources."""
    first = next(iter(entry.sections.items()), None)
    description = entry.meta.summary
    if first is not None:
        description += f"\n\n**{first[0]}**\n{first[1].strip()}"
    fields = []
    if entry.kind == "errors" and "Fixes" in entry.sections:
        fields.append({"name": "Fixes", "value": shorten(entry.sections["Fixes"].strip(), FIELD_VALUE)})
    links = [source_link(i, Source(id=entry.id, title=s.title, kind="glossary", url=str(s.url)), in_embed=True)
             for i, s in enumerate(entry.meta.sources, start=1)]
    fields.append({"name": "Sources", "value": shorten("\n".join(links), FIELD_VALUE)})
    embed = {"title": entry.title, "description": shorten(description, 3000), "color": NEUTRAL_COLOUR,
             "fields": fields,
             "footer": {"text": f"{'Error' if entry.kind == 'errors' else 'Glossary'} · {entry.id} · "
                                f"updated {entry.meta.updated.isoformat()}"}}
    return Post(embeds=[fit_embed(embed)])


def sources_detail_posts(entries: list[Entry]) -> list[Post]:
    """What "show sources" reveals: each cited entry's summary and its own references."""
    blocks = []
    for i, entry in enumerate(entries, start=1):
        refs = "; ".join(f"[{s.title}](<{s.url}>)" for s in entry.meta.sources)
        blocks.append(f"**[{i}] {entry.title}**\n{entry.meta.summary}\nReferences: {refs}")
    return text_posts("\n\n".join(blocks) if blocks else "This answer cites no knowledge entries.")


# -- the terminal ----------------------------------------------------------------------------------------------
def post_as_text(post: Post) -> str:
    """A post as plain text: its content, then each embed's parts in the order Discord shows them."""
    lines = [post.content] if post.content else []
    for e in post.embeds:
        lines += [f"## {e['title']}"] if e.get("title") else []
        lines += [e["description"]] if e.get("description") else []
        for f in e.get("fields", []):
            lines += [f"### {f['name']}", f["value"]]
        lines += [f"-# {e['footer']['text']}"] if e.get("footer") else []
    if post.chart is not None:
        lines.append(f"[image {CHART_NAME}: {post.chart_alt or 'chart'}]")
    return "\n".join(lines)
