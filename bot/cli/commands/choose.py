"""`willitrun choose MODEL`: which hardware runs a model entirely in GPU memory, and what would make it fit less."""
from __future__ import annotations

import argparse

from bot.core import Core
from bot.format import choose_text
from bot.sizing.choose import choose


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = sub.add_parser("choose", help="which hardware runs a model entirely in GPU memory, and what fits less")
    parser.add_argument("model", help='model name, e.g. "qwen2.5 72b"')
    parser.add_argument("--quant", help="quantization, e.g. Q4_K_M (the model's usual one by default)")
    parser.add_argument("--context", type=int, help="context length in tokens (default 8192)")
    parser.add_argument("--kv-cache", default="f16", help="KV cache type: f16 (default), q8_0, q4_0")
    parser.add_argument("--json", action="store_true", help="print the Recommendation as JSON")
    parser.set_defaults(func=run, uses_core=True)
    return parser


def run(args: argparse.Namespace, core: Core) -> int:
    # an unknown model raises UnknownNameError with suggestions; main() prints it and exits 2
    recommendation = choose(core.engine, args.model, quant=args.quant, context=args.context,
                            kv_cache_type=args.kv_cache)
    print(recommendation.model_dump_json(indent=2) if args.json else choose_text(recommendation))
    return 0
