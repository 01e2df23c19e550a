"""`willitrun route MESSAGE`: how the bot routes a message, with the bot's own router (bot.core)."""
from __future__ import annotations

import argparse
import sys

from bot.core import Core


def add_parser(sub: argparse._SubParsersAction) -> None:
    route = sub.add_parser("route", help="how the bot would route a message (sizing / knowledge / none)")
    route.add_argument("message", nargs="?")
    route.add_argument("--json", action="store_true", help="print the Route as JSON")
    route.add_argument("--stdin", action="store_true", help="one message per line in, one JSON line out")
    route.set_defaults(func=run, uses_core=True)


def run(args: argparse.Namespace, core: Core) -> int:
    lines = (line.strip() for line in sys.stdin) if args.stdin else [args.message or ""]
    for text in lines:
        if not text:
            continue
        route = core.router.route(text)
        if args.json or args.stdin:
            print(route.model_dump_json(indent=None if args.stdin else 2), flush=True)
        else:
            print(f"{route.route} -> {route.kind} (confidence {route.confidence:.2f}): {route.reason}")
            if route.sizing is not None:
                print(route.sizing.model_dump_json(exclude_none=True))
    return 0
