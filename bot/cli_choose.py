"""The CLI's `choose` subcommand (which hardware runs a model) and `write_chart`, which
`size --chart PATH` uses to save the memory picture."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI imports the engine only for the command that runs, to start fast
    from bot.sizing.engine import SizingEngine
    from bot.sizing.schema import SizingReport, SizingRequest



def add_choose_parser(sub) -> argparse.ArgumentParser:
    """Register `willitrun choose MODEL [--quant] [--context] [--kv-cache] [--json]` on the CLI's subparsers."""
    choose = sub.add_parser("choose", help="which hardware runs a model entirely in GPU memory, and what fits less")
    choose.add_argument("model", help='model name, e.g. "qwen2.5 72b"')
    choose.add_argument("--quant", help="quantization, e.g. Q4_K_M (the model's usual one by default)")
    choose.add_argument("--context", type=int, help="context length in tokens (default 8192)")
    choose.add_argument("--kv-cache", default="f16", help="KV cache type: f16 (default), q8_0, q4_0")
    choose.add_argument("--json", action="store_true", help="print the Recommendation as JSON")
    choose.set_defaults(func=cmd_choose)
    return choose


def cmd_choose(args: argparse.Namespace) -> int:
    from bot.catalog.load import load_catalog
    from bot.format import choose_text
    from bot.sizing.choose import choose
    from bot.sizing.engine import SizingEngine

    # an unknown model raises UnknownNameError with suggestions; main() prints it and exits 2
    recommendation = choose(SizingEngine(load_catalog()), args.model, quant=args.quant, context=args.context,
                            kv_cache_type=args.kv_cache)
    print(recommendation.model_dump_json(indent=2) if args.json else choose_text(recommendation))
    return 0


def write_chart(report: SizingReport, path: str | Path, engine: SizingEngine | None = None,
                request: SizingRequest | None = None) -> list[Path]:
    """Write the memory breakdown of `report` as PNG to `path`. Given the engine and the request that produced the
    report (llama.cpp runtime), also write memory against context next to it as `<stem>-context.png`.
    Returns the paths written."""
    from bot.charts import context_chart, memory_breakdown_chart

    path = Path(path)
    path.write_bytes(memory_breakdown_chart(report))
    written = [path]
    if engine is not None and request is not None and request.runtime == "llama.cpp":
        context_path = path.with_name(f"{path.stem}-context.png")
        context_path.write_bytes(context_chart(engine, request))
        written.append(context_path)
    return written
