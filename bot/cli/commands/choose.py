"""`willitrun choose MODEL`: which hardware runs a model entirely in GPU memory, and what would make it fit less;
`willitrun choose [MODEL] --budget 1500`: the priced setups within a budget that run it, by price per token/s."""
from __future__ import annotations

import argparse
import sys

from bot.core import Core
from bot.format import budget_text, choose_text
from bot.kinds.budget import budget_ranking
from bot.sizing.choose import choose


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = sub.add_parser("choose", help="which hardware runs a model entirely in GPU memory, and what fits less; "
                                           "with --budget, the setups within it ranked by price per token/s")
    parser.add_argument("model", nargs="?", help='model name, e.g. "qwen2.5 72b" (with --budget: a representative '
                                                 '8B, 32B and 70B when left out)')
    parser.add_argument("--budget", type=float, help="USD for the whole setup: rank the priced setups within it by "
                                                     "price per token/s (knowledge/catalog/prices.yaml)")
    parser.add_argument("--quant", help="quantization, e.g. Q4_K_M (the model's usual one by default)")
    parser.add_argument("--context", type=int, help="context length in tokens (default 8192)")
    parser.add_argument("--kv-cache", default="f16", help="KV cache type: f16 (default), q8_0, q4_0")
    parser.add_argument("--json", action="store_true", help="print the Recommendation (or BudgetRanking) as JSON")
    parser.set_defaults(func=run, uses_core=True)
    return parser


def run(args: argparse.Namespace, core: Core) -> int:
    if args.budget is not None:
        ranking = budget_ranking(core.engine, core.prices, args.budget, args.model, args.quant, args.context)
        print(ranking.model_dump_json(indent=2) if args.json else budget_text(ranking))
        return 0
    if not args.model:
        print("error: name the model, or give --budget", file=sys.stderr)
        return 2
    # an unknown model raises UnknownNameError with suggestions; main() prints it and exits 2
    recommendation = choose(core.engine, args.model, quant=args.quant, context=args.context,
                            kv_cache_type=args.kv_cache)
    print(recommendation.model_dump_json(indent=2) if args.json else choose_text(recommendation))
    return 0
