"""Answering speed (`make bench`), measured on this machine with the bundled SmolLM2-135M GGUF.

- Tokens/s through the whole pipeline (route, retrieval, prompt, streaming callback, guard) against raw
  llama-cpp-python `create_chat_completion` on the same prompt, decode phase only (first to last token);
  target: the pipeline loses <= 10 %.
- Time to first token of a knowledge answer (from the question to the first streamed text).
- Latency of knowledge answers (p50/p95 over dev-set questions, model warm; target p95 <= 6 s on 2 cores) and of
  sizing answers end to end without Discord (sizing messages of the routing dev set; target p95 <= 50 ms).
- Routing one message, and rendering the two charts of a sizing answer.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import yaml

from bench.retrieval_eval import load_questions
from bot.answer.pipeline import MAX_NEW_TOKENS, answer
from bot.core import open_core
from bot.kinds.knowledge import draft_knowledge
from bot.llm.local import LocalLlamaBackend
from bot.llm.models import bundled_model_path
from bot.settings import Settings

ROUTING = Path(__file__).resolve().parents[1] / "tests" / "eval" / "routing.yaml"
THREADS = 2
CONTEXT = 2048


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]


class CountingBackend:
    """Passes the pipeline's generation through to the real backend, noting when each piece arrives."""

    def __init__(self, inner: LocalLlamaBackend):
        self.inner = inner
        self.name = inner.name
        self.arrivals: list[float] = []

    def stream(self, messages, **kwargs):
        for piece in self.inner.stream(messages, **kwargs):
            self.arrivals.append(time.perf_counter())
            yield piece


def raw_decode_rate(llama, messages, max_tokens: int) -> tuple[float, int]:
    arrivals = []
    for chunk in llama.create_chat_completion(messages, max_tokens=max_tokens, temperature=0.0, stream=True):
        if chunk["choices"][0]["delta"].get("content"):
            arrivals.append(time.perf_counter())
    return (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]), len(arrivals)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=30, help="knowledge questions to time")
    args = parser.parse_args(argv)
    failed: list[str] = []

    local = LocalLlamaBackend(bundled_model_path(), n_ctx=CONTEXT, n_threads=THREADS)
    local.load()
    counting = CountingBackend(local)
    core = open_core(Settings(), backend=counting)
    questions = [q.text for q in load_questions()[0]]
    print(f"answer speed: {local.name}, {THREADS} threads, context {CONTEXT}")

    # -- pipeline vs raw on the same prompts (the pipeline's own prompts for a few questions)
    pipeline_rates, raw_rates, ttft = [], [], []
    for question in questions[:40:4]:
        draft = draft_knowledge(question, core)
        if not hasattr(draft, "messages"):
            continue
        counting.arrivals.clear()
        start = time.perf_counter()
        # previews pass the guard a whole sentence at a time (maybe never): the first token is timed where the
        # model's output arrives, not where a preview is shown
        answer(core, question, on_text=lambda _t: None)
        if len(counting.arrivals) > 8:
            pipeline_rates.append((len(counting.arrivals) - 1) / (counting.arrivals[-1] - counting.arrivals[0]))
            ttft.append((counting.arrivals[0] - start) * 1000)
            rate, _ = raw_decode_rate(local._model(), draft.messages, MAX_NEW_TOKENS)
            raw_rates.append(rate)
    pipeline, raw = statistics.median(pipeline_rates), statistics.median(raw_rates)
    overhead = 1 - pipeline / raw
    print(f"  decode tokens/s: pipeline {pipeline:.1f}, raw llama-cpp-python {raw:.1f} on the same prompts "
          f"({len(raw_rates)} prompts): overhead {overhead:+.1%} (target <= 10 %)")
    print(f"  time to first token of a knowledge answer: p50 {statistics.median(ttft):.0f} ms, "
          f"p95 {percentile(ttft, 0.95):.0f} ms")
    failed += [] if overhead <= 0.10 else ["pipeline overhead"]

    # -- knowledge answers end to end
    totals, fallbacks, kinds = [], 0, {}
    for question in questions[1::max(1, len(questions) // args.questions)][:args.questions]:
        start = time.perf_counter()
        result = answer(core, question)
        totals.append(time.perf_counter() - start)
        fallbacks += result.fallback
        kinds[result.kind] = kinds.get(result.kind, 0) + 1
    p95 = percentile(totals, 0.95)
    print(f"  knowledge answers ({len(totals)} questions, {kinds}): p50 {statistics.median(totals):.2f} s, "
          f"p95 {p95:.2f} s (target <= 6 s); model text kept {len(totals) - fallbacks}, "
          f"replaced by the entries (guard or failure) {fallbacks}")
    failed += [] if p95 <= 6 else ["knowledge p95"]

    # -- sizing answers end to end (route + engine + text), no model involved
    messages = [m["text"] for m in yaml.safe_load(ROUTING.read_text())["messages"] if m["route"] == "sizing"]
    for m in messages[:5]:
        answer(core, m)
    sizing_ms, route_ms = [], []
    for m in messages:
        start = time.perf_counter()
        result = answer(core, m)
        sizing_ms.append((time.perf_counter() - start) * 1000)
        route_ms.append(result.timings["route"])
    p95 = percentile(sizing_ms, 0.95)
    print(f"  sizing answers ({len(messages)} messages): p50 {statistics.median(sizing_ms):.1f} ms, "
          f"p95 {p95:.1f} ms (target <= 50 ms); routing alone p50 {statistics.median(route_ms):.2f} ms, "
          f"p95 {percentile(route_ms, 0.95):.2f} ms")
    failed += [] if p95 <= 50 else ["sizing p95"]

    # -- charts of a sizing answer
    from bot.charts import context_chart, memory_breakdown_chart
    from bot.sizing.schema import SizingRequest

    request = SizingRequest(model="llama-3.1-70b", gpu="rtx-3090", gpus=2)
    report = core.engine.size(request)
    memory_breakdown_chart(report)
    chart_ms = []
    for _ in range(5):
        start = time.perf_counter()
        memory_breakdown_chart(report)
        context_chart(core.engine, request)
        chart_ms.append((time.perf_counter() - start) * 1000)
    print(f"  both charts of a sizing answer: median {statistics.median(chart_ms):.0f} ms, max {max(chart_ms):.0f} ms")

    print("all answering targets met" if not failed else f"targets missed: {', '.join(failed)}")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
