"""Plain-text renderings shared by the terminal adapters (CLI, console)."""
from __future__ import annotations

from bot.answer.results import Comparison, WhatCanIRun
from bot.sizing.choose import HardwareOption, Recommendation
from bot.sizing.devices import gb
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
