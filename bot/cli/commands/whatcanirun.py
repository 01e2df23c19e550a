"""`willitrun whatcanirun --gpu X`: the best models that run well on some hardware, ranked (bot.kinds.what_can_i_run),
and `willitrun compare A B [C]`: setups side by side (bot.kinds.compare)."""
from __future__ import annotations

import argparse

from bot.core import Core
from bot.format import compare_text, what_can_i_run_text
from bot.kinds.compare import compare_named
from bot.kinds.what_can_i_run import for_hardware

USES = ["coding", "chat", "reasoning", "vision", "roleplay", "any"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    run_here = sub.add_parser("whatcanirun", help="the best models that run well on some hardware, ranked")
    run_here.add_argument("--gpu", help='GPU, Mac or CPU platform, e.g. "rtx 3060", "m2 max" (omit for CPU only)')
    run_here.add_argument("--gpus", type=int, help="how many of that GPU")
    run_here.add_argument("--memory", type=float, help="memory option of a Mac or CPU platform, in GB")
    run_here.add_argument("--ram-gb", type=float, help="system RAM in GB (without --gpu: CPU only)")
    run_here.add_argument("--use", choices=USES, default="any", help="what the model is for (default any)")
    run_here.add_argument("--context", type=int, help="context length in tokens (default 8192)")
    run_here.add_argument("--json", action="store_true", help="print the result as JSON")
    run_here.set_defaults(func=run_what_can_i_run, uses_core=True)

    versus = sub.add_parser("compare", help="two or three setups side by side, for a model or 8B / 32B / 70B")
    versus.add_argument("hardware", nargs="+", help='each setup, e.g. "3090" "2x 4060 ti 16gb" "m2 ultra 192gb"')
    versus.add_argument("--model", help="the model to compare on (default: a representative 8B, 32B and 70B)")
    versus.add_argument("--quant", help="quantization (default Q4_K_M)")
    versus.add_argument("--context", type=int, help="context length in tokens (default 8192)")
    versus.add_argument("--json", action="store_true", help="print the result as JSON")
    versus.set_defaults(func=run_compare, uses_core=True)


def run_what_can_i_run(args: argparse.Namespace, core: Core) -> int:
    result = for_hardware(core, args.gpu, gpus=args.gpus, memory_gb=args.memory, ram_gb=args.ram_gb, use=args.use,
                          context=args.context)
    print(result.model_dump_json(indent=2) if args.json else what_can_i_run_text(result))
    return 0


def run_compare(args: argparse.Namespace, core: Core) -> int:
    result = compare_named(core, args.hardware, model=args.model, quant=args.quant, context=args.context)
    print(result.model_dump_json(indent=2) if args.json else compare_text(result))
    return 0
