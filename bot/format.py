"""Plain-text renderings shared by the terminal adapters (CLI, console)."""
from __future__ import annotations

from bot.answer.results import BudgetOption, BudgetRanking, Comparison, WhatCanIRun
from bot.calc.schema import CostResult, FinetuneResult, ImageResult, ServeResult
from bot.logs.schema import LogReading
from bot.sizing.choose import HardwareOption, Recommendation
from bot.sizing.devices import GIB, gb
from bot.sizing.schema import SizingReport

NAME_WIDTH = 48

VERDICT_WORDS = {
    "fits": "fits entirely in GPU memory",
    "partial_offload": "runs with partial offload",
    "cpu_only": "runs on the CPU only",
    "does_not_fit": "does not fit",
}


def sizing_text(r: SizingReport) -> str:
    where = f" on {r.hardware}" if r.hardware else " (no GPU given: CPU and system RAM)"
    lines = [f"{r.model.name} · {r.quant} · {r.context:,} tokens{where}"]
    if r.verdict == "cpu_only" and not r.hardware:
        verdict = VERDICT_WORDS[r.verdict]
    else:
        verdict = f"{VERDICT_WORDS[r.verdict]} ({r.gpu_layers}/{r.total_layers} layers on GPU)"
    lines.append(f"Verdict: {verdict}")
    lines.append(f"Weights {gb(r.weights_bytes)} · KV cache {gb(r.kv_cache_bytes)} · compute {gb(r.compute_bytes)} "
                 f"· overhead {gb(r.overhead_bytes)} · total {gb(r.total_bytes)}")
    header = f"{'device':<34}{'usable':>9}{'weights':>9}{'KV':>9}{'compute':>9}{'overhead':>9}{'free':>9}  layers"
    lines.append(header)
    for d in r.devices:
        free = d.usable_bytes - d.need_bytes
        lines.append(f"{d.name[:33]:<34}{gb(d.usable_bytes):>9}{gb(d.weights_bytes):>9}{gb(d.kv_cache_bytes):>9}"
                     f"{gb(d.compute_bytes):>9}{gb(d.overhead_bytes):>9}{gb(free):>9}  {d.layers}")
    if r.decode_tokens_per_s:
        speed = f"Decode ≈ {r.decode_tokens_per_s.low:g}–{r.decode_tokens_per_s.high:g} tokens/s"
        if r.prompt_tokens_per_s:
            speed += f" · prompt ≈ {r.prompt_tokens_per_s.low:,.0f}–{r.prompt_tokens_per_s.high:,.0f} tokens/s"
        lines.append(speed)
    lines.append(f"Largest context that fits: {r.max_context:,}" if r.max_context else
                 "Largest context that fits: none at this quantization")
    lines.append(f"Best quantization that fits at this context: {r.best_quant or 'none'}")
    lines.append("Assumptions:")
    lines += [f"  - {a}" for a in r.assumptions]
    return "\n".join(lines)


def search_text(result) -> str:
    """A SearchResult as ranked lines; `result` is bot.retrieval.search.SearchResult (not imported: torch is slow)."""
    lines = []
    if result.declined:
        lines.append("No entry in the knowledge base answers this well enough. Closest entries:")
    for i, hit in enumerate(result.results, start=1):
        cosine = f" cos {hit.dense:.2f}" if hit.dense is not None else ""
        lines.append(f"{i}. {hit.id}  [{hit.kind}] {hit.title}  score {hit.score:.4f}{cosine}  "
                     f"({'+'.join(hit.sides)})")
    if not result.results:
        lines.append("(no entries)")
    return "\n".join(lines)


def _setup(o: HardwareOption, width: int) -> str:
    name = f"{o.count}x {o.name}" if o.count > 1 else o.name
    return name if len(name) <= width else name[:width - 1] + "…"


def choose_text(r: Recommendation) -> str:
    lines = [f"{r.model_name} · {r.quant} · {r.context:,} tokens · KV cache {r.kv_cache_type}",
             f"Needs at least {gb(r.min_memory_bytes)} of GPU memory (everything on one card)."]
    if r.options:
        lines.append(f"Runs entirely in GPU or unified memory on {r.options_found} catalog cards and chips; smallest "
                     "setups first, the fastest of each size:")
        lines.append(f"  {'hardware':<{NAME_WIDTH}}{'memory':>10}{'needs':>10}{'usable':>10}  decode tokens/s")
        for o in r.options:
            memory = f"{o.count}x {o.memory_gb:g} GB" if o.count > 1 else f"{o.memory_gb:g} GB"
            speed = o.decode_tokens_per_s
            lines.append(f"  {_setup(o, NAME_WIDTH - 1):<{NAME_WIDTH}}{memory:>10}{gb(o.need_bytes):>10}"
                         f"{gb(o.usable_bytes):>10}  {speed.low:.1f}–{speed.high:.1f}")
    else:
        lines.append("No catalog hardware (up to 4 of one card) runs it entirely in GPU or unified memory.")
    if r.suggestions:
        card = r.smaller_card
        lines.append(f"To fit smaller hardware (a {card.memory_gb:g} GB card such as the {card.name}):")
        lines += [f"  - {s}" for s in r.suggestions]
    lines.append("Decode speed: low = context full, high = a short context (the sizing engine's range).")
    return "\n".join(lines)


def answer_text(answer, with_text: bool = True) -> str:
    """An Answer (bot.answer.schema) for a terminal: its text (unless already streamed), then numbered sources or
    how it was made."""
    if answer.kind == "none":
        return "(not a question for the bot: it would stay silent)"
    lines = [answer.text] if with_text else []
    if answer.sources:
        label = "Closest entries" if answer.kind == "no_match" else "Sources"
        lines.append(f"\n{label}:")
        lines += [f"  [{i}] {s.title} ({s.id})" + (f" {s.url}" if s.url else "")
                  for i, s in enumerate(answer.sources, start=1)]
    if answer.see_also:
        lines.append("\nSee also: " + "; ".join(f"{s.title} ({s.id})" for s in answer.see_also))
    if answer.kind == "knowledge":
        # "checked" only when the guard kept the model's text; otherwise the text is the entries' own
        lines.append(f"(phrased by {answer.model}, checked against the sources)" if answer.model and not
                     answer.fallback else "(taken from the knowledge base entries)")
    return "\n".join(lines).strip("\n")


def _speed(r) -> str:
    return f"{r.low:.0f}–{r.high:.0f} tok/s" if r is not None else "–"


def what_can_i_run_text(w: WhatCanIRun) -> str:
    """The ranked models that run well on some hardware, one line each, then the bigger one with offload."""
    setup = f"{w.hardware.count}x {w.hardware.name}" if w.hardware.count > 1 else w.hardware.name
    lines = [f"What runs well on {setup} ({w.hardware.memory_gb:g} GB{' each' if w.hardware.count > 1 else ''})"
             f" · {w.context:,} tokens · use: {w.use}"]
    if not w.options:
        lines.append("No catalog model runs entirely there at Q3 or better and at least 10 tokens/s.")
    for i, o in enumerate(w.options, start=1):
        tier = f"tier {o.tier}" if o.tier else "no tier recorded"
        lines.append(f"  {i}. {o.model.name} · {o.quant} · {gb(o.total_bytes)} · {_speed(o.decode_tokens_per_s)}"
                     f" · {tier}" + (f" · {', '.join(o.tags)}" if o.tags else ""))
    if w.bigger_with_offload is not None:
        b = w.bigger_with_offload
        lines.append(f"Bigger if you accept offload: {b.model.name} {b.quant} with some layers in system RAM, "
                     f"{_speed(b.decode_tokens_per_s)}.")
    lines += [f"- {a}" for a in w.assumptions]
    return "\n".join(lines)


def compare_text(c: Comparison) -> str:
    """Setups side by side: memory, bandwidth, power, what runs, and each model's verdict and speed per side."""
    names = [f"{s.count}x {s.hardware.name}" if s.count > 1 else s.hardware.name for s in c.sides]
    lines = [" vs ".join(names)]
    for name, s in zip(names, c.sides, strict=True):
        power = f", {s.tdp_w:g} W" if s.tdp_w else ""
        runs = ", ".join(s.largest_models) if s.largest_models else "nothing in the catalog runs entirely"
        lines.append(f"  {name}: {s.memory_gb:g} GB, {s.bandwidth_gbs:g} GB/s{power}; runs well: {runs}")
    for row in c.rows:
        cells = [f"{VERDICT_WORDS.get(v, v)}, {_speed(sp)}, up to {ctx:,} tokens" if ctx else
                 f"{VERDICT_WORDS.get(v, v)}, {_speed(sp)}"
                 for v, sp, ctx in zip(row.verdicts, row.decode_tokens_per_s, row.max_context, strict=True)]
        lines.append(f"{row.model.name} {row.quant}: " + " | ".join(cells))
    lines += c.summary
    lines += [f"- {a}" for a in c.assumptions]
    return "\n".join(lines)


# -- the calculators (finetune, serve, image, cost) ----------------------------------------------------------------
FIT_WORDS = {"fits": "fits", "tight": "tight: may fit, close to the limit", "does_not_fit": "does not fit",
             "no_gpu_given": "no GPU given"}


def gb_range(low: float, high: float) -> str:
    lo, hi = f"{low / GIB:.1f}", f"{high / GIB:.1f}"
    return f"{lo} GB" if lo == hi else f"{lo}–{hi} GB"


def finetune_verdict(r: FinetuneResult) -> str | None:
    """The fit on the card named, and the largest sequence length and batch that fit it."""
    if not r.hardware:
        return None
    largest = (f"; largest sequence {r.max_seq_len:,} tokens at batch {r.batch_size}" if r.max_seq_len else
               "; no sequence length fits at this batch")
    batch = f", largest batch {r.max_batch_size} at {r.seq_len:,} tokens" if r.max_batch_size else ""
    each = " each" if r.gpus > 1 else ""
    return f"On {r.gpus}x {r.hardware}{each}: {FIT_WORDS[r.verdict]}{largest}{batch}." if r.gpus > 1 else \
        f"On {r.hardware}: {FIT_WORDS[r.verdict]}{largest}{batch}."


def finetune_text(r: FinetuneResult) -> str:
    method = {"full": "full fine-tuning", "lora": f"LoRA rank {r.lora_rank}", "qlora": f"QLoRA rank {r.lora_rank}"}
    lines = [f"{r.model} · {method[r.method]} · {r.seq_len:,} tokens x batch {r.batch_size} · {r.optimizer}",
             f"Peak memory per GPU: {gb_range(r.peak_bytes.low, r.peak_bytes.high)}"]
    lines += [f"  {name:<12}{gb_range(part.low, part.high)}" for name, part in r.parts if part.high > 0]
    verdict = finetune_verdict(r)
    if verdict:
        lines.append(verdict)
    lines += [f"- {a}" for a in r.assumptions]
    return "\n".join(lines)


def sequences(n: float) -> str:
    return f"{n:g} sequence" + ("" if n == 1 else "s")


def serve_throughput_lines(r: ServeResult) -> list[str]:
    return [f"{sequences(p.sequences):>12}: {p.low:,.0f}–{p.high:,.0f} tokens/s ({p.bound}-bound)"
            for p in r.throughput_tokens_per_s]


def serve_text(r: ServeResult) -> str:
    setup = f"{r.gpus}x {r.hardware}" if r.gpus > 1 else r.hardware
    lines = [f"{r.model} on {setup} with {r.runtime} · {r.context:,} tokens per request",
             f"KV cache: {r.kv_cache_tokens:,} tokens ({gb(r.kv_cache_bytes)}); at most "
             f"{sequences(r.max_concurrent_sequences)} of {r.context:,} tokens at once"]
    if r.throughput_tokens_per_s:
        lines.append("Aggregate decode speed:")
        lines += [f"  {line}" for line in serve_throughput_lines(r)]
    else:
        lines.append("Not one sequence of this context fits: lower the context or use more or larger GPUs.")
    if r.ttft_s:
        lines.append(f"Time to first token for {r.prompt_tokens:,} prompt tokens: "
                     f"{r.ttft_s.low:.2f}–{r.ttft_s.high:.2f} s")
    lines += [f"- {a}" for a in r.assumptions]
    return "\n".join(lines)


def image_setting(r: ImageResult) -> str:
    frames = f" · {r.frames} frames" if r.kind == "video" else ""
    return f"{r.model} · {r.precision} · offload {r.offload} · {r.width}x{r.height}{frames}"


def image_text(r: ImageResult) -> str:
    lines = [image_setting(r),
             f"Peak GPU memory {gb_range(r.peak_bytes.low, r.peak_bytes.high)}"
             + (f"; system RAM for offloaded weights {gb(r.ram_bytes)}" if r.ram_bytes else "")]
    if r.hardware:
        lines.append(f"On {r.hardware}: {FIT_WORDS[r.verdict]}.")
        lines.append(f"Pick on {r.hardware}: {r.recommendation}." if r.recommendation else
                     f"No precision or offload mode I size fits {r.hardware}.")
    lines += [f"- {a}" for a in r.assumptions]
    return "\n".join(lines)


def cost_text(r: CostResult) -> str:
    lines = [f"{r.model} on {r.hardware}: {r.local.per_mtok:.2f} USD per million output tokens locally "
             f"({r.local.per_month:.2f} USD a month: hardware {r.local.hardware_per_month:.2f} + electricity "
             f"{r.local.electricity_per_month:.2f}, for {r.local.tokens_per_month / 1e6:.1f}M tokens)"]
    for a in r.api:
        months = f"break-even in {a.break_even_months:g} months" if a.break_even_months else "never breaks even"
        lines.append(f"  {a.name}: {a.per_mtok:.2f} USD/M (as of {a.as_of}; {months})")
    lines += [f"- {a}" for a in r.assumptions]
    lines.append("Inputs: " + ", ".join(f"{k} {v}" for k, v in r.inputs.items()))
    return "\n".join(lines)


def budget_option_line(o: BudgetOption) -> str:
    setup = f"{o.hardware.count}x {o.hardware.name}" if o.hardware.count > 1 else o.hardware.name
    speed = o.decode_tokens_per_s
    return (f"{setup}: {o.price_usd:,.0f} USD, {o.quant}, {speed.low:g}–{speed.high:g} tokens/s, "
            f"{o.usd_per_token_per_s:,.0f} USD per token/s ({o.price_note})")


def budget_text(b: BudgetRanking) -> str:
    within = f"within {b.budget_usd:,.0f} USD" if b.budget_usd is not None else "with a price on file"
    lines = [f"Setups {within} that run the model entirely, cheapest per token/s first"]
    for row in b.rows:
        lines.append(f"{row.model.name} ({row.context:,} tokens):")
        lines += [f"  {i}. {budget_option_line(o)}" for i, o in enumerate(row.options, start=1)]
        if not row.options:
            lines.append(f"  none {within}" + (f"; the best value above it: {budget_option_line(row.over_budget)}"
                                               if row.over_budget else "; none of the priced setups runs it"))
    lines += [f"- {a}" for a in b.assumptions]
    return "\n".join(lines)


# -- pasted logs -------------------------------------------------------------------------------------------------
LOG_ERRORS_SHOWN = 3


def _log_gpus(log: LogReading) -> str | None:
    if not log.hardware:
        return f"{log.gpu_count} GPU(s), not named in the log" if log.gpu_count else None
    names = [(g.name or "GPU of unknown name") + (f" ({g.memory_gb:g} GB)" if g.memory_gb else "")
             for g in log.hardware]
    counted = {n: names.count(n) for n in names}
    return ", ".join(f"{k}x {n}" if k > 1 else n for n, k in counted.items())


def log_fact_lines(log: LogReading) -> list[str]:
    """What was read from the log, one fact a line, with what each was sized as: for the user to correct."""
    lines = []
    gpus = _log_gpus(log)
    if gpus:
        sized = log.hardware_sized if log.hardware_sized and log.hardware_sized not in gpus else None
        lines.append(f"GPU: {gpus}" + (f" → sized as {sized}" if sized else ""))
    versions = [f"driver {log.driver_version}" if log.driver_version else "",
                f"CUDA {log.cuda_version}" if log.cuda_version else "", f"ROCm {log.rocm_version}" if log.rocm_version
                else ""]
    if any(versions):
        lines.append("Versions: " + ", ".join(v for v in versions if v))
    if log.model:
        lines.append(f"Model: {log.model}" + (f" → {log.model_sized}" if log.model_sized else " (not in my catalog)"))
    if log.quant:
        lines.append(f"Quantization: {log.quant}")
    if log.context:
        lines.append(f"Context: {log.context:,} tokens")
    if log.gpu_layers is not None and log.total_layers:
        lines.append(f"Layers on GPU: {log.gpu_layers}/{log.total_layers}")
    if log.gpu_share is not None:
        lines.append(f"In GPU memory: {log.gpu_share}% of the model")
    if log.decode_tokens_per_s:
        lines.append(f"Measured speed: {log.decode_tokens_per_s:g} tokens/s")
    return lines


def log_lead(log: LogReading) -> list[str]:
    """The paragraphs that answer a log: what explains it and the knowledge base's advice for its error; the advice
    first when the error is not about memory (the sizing is then only context for it)."""
    parts = [p for p in (" ".join(log.explanation), log.advice) if p]
    return parts[::-1] if log.advice and not log.ran_out_of_memory else parts


def log_text(log: LogReading, report: SizingReport | None) -> str:
    """A pasted log answered: the lead (log_lead), the facts read from it (to correct), and the sizing for that
    setup in short."""
    parts = log_lead(log)
    facts = log_fact_lines(log)
    if log.errors:
        shown = log.errors[:LOG_ERRORS_SHOWN]
        facts.append("Errors: " + " | ".join(shown) + (f" (+{len(log.errors) - len(shown)} more)"
                                                      if len(log.errors) > len(shown) else ""))
    if facts:
        parts.append("Read from the log (reply with what is wrong and I'll size it again):\n" +
                     "\n".join(f"- {f}" for f in facts))
    else:
        parts.append("I found nothing I can read in this log: no GPU, model, context or error line.")
    if report is not None:
        speed = (f", {report.decode_tokens_per_s.low:g}–{report.decode_tokens_per_s.high:g} tokens/s"
                 if report.decode_tokens_per_s else "")
        parts.append(f"Sized: {report.model.name} · {report.quant} · {report.context:,} tokens on "
                     f"{report.hardware or 'CPU and system RAM'}: {VERDICT_WORDS[report.verdict]} "
                     f"({report.gpu_layers}/{report.total_layers} layers on GPU), needs {gb(report.total_bytes)}"
                     f"{speed}.")
    elif log.model_sized and not log.hardware:
        parts.append("Reply with your GPU (\"on a 3090\") and I'll size it there.")
    elif log.hardware and not log.model_sized:
        parts.append("Reply with the model you want to run (\"qwen2.5 32b at 16k\") and I'll size it on this.")
    parts += [f"Note: {n}" for n in log.notes]
    return "\n\n".join(parts)

