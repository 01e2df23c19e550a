"""`willitrun cost MODEL --gpu X`: local cost per million output tokens against dated API prices."""
from __future__ import annotations

import argparse

from bot.calc.cost import CostRequest, estimate
from bot.core import Core


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cost", help="local cost per million tokens against API prices, break-even months")
    p.add_argument("model")
    p.add_argument("--gpu", required=True)
    p.add_argument("--gpus", type=int, default=1)
    p.add_argument("--quant")
    p.add_argument("--price", type=float, help="hardware price in USD (all cards)")
    p.add_argument("--watts", type=float, help="measured draw under load, all cards")
    p.add_argument("--kwh", type=float, default=0.30, help="electricity price per kWh")
    p.add_argument("--hours-per-day", type=float, default=8.0)
    p.add_argument("--months", type=int, default=36, help="service life to spread the price over")
    p.add_argument("--duty", type=float, default=0.5, help="share of powered hours spent generating")
    p.add_argument("--api-in", type=float, help="custom API price, $/M input tokens")
    p.add_argument("--api-out", type=float, help="custom API price, $/M output tokens")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run, uses_core=True)


def run(args: argparse.Namespace, core: Core) -> int:
    r = estimate(CostRequest(model=args.model, gpu=args.gpu, gpus=args.gpus, quant=args.quant, price=args.price,
                             watts=args.watts, kwh=args.kwh, hours_per_day=args.hours_per_day, months=args.months,
                             duty=args.duty, api_in=args.api_in, api_out=args.api_out),
                 core.engine, core.prices)
    if args.json:
        print(r.model_dump_json(indent=2))
        return 0
    print(f"{r.model} on {r.hardware}: {r.local.per_mtok:.2f} USD per million output tokens locally "
          f"({r.local.per_month:.2f} USD a month for {r.local.tokens_per_month / 1e6:.1f}M tokens)")
    for a in r.api:
        months = f"break-even {a.break_even_months:g} months" if a.break_even_months else "never breaks even"
        print(f"  {a.name:<32}{a.per_mtok:>8.2f} USD/M  ({a.as_of}; {months})")
    for note in r.assumptions:
        print(f"- {note}")
    print("Inputs: " + ", ".join(f"{k}={v}" for k, v in r.inputs.items()))
    return 0
