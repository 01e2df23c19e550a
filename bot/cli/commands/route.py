"""`willitrun route MESSAGE`: how the bot routes a message, with the bot's own router (bot.core)."""
from __future__ import annotations

import argparse

from bot.cli.commands.common import run_stdin
from bot.core import Core


def add_parser(sub: argparse._SubParsersAction) -> None:
    route = sub.add_parser("route", help="how the bot would route a message (sizing / knowledge / none)")
    route.add_argument("message", nargs="?")
    route.add_argument("--json", action="store_true", help="print the Route as JSON")
    route.add_argument("--stdin", action="store_true", help="one message per line in, one JSON line out")
    route.set_defaults(func=run, uses_core=True)


def run(args: argparse.Namespace, core: Core) -> int:
    if args.stdin:
        return run_stdin(core.router.route)
    for text in [args.message or ""]:
        if not text.strip():
            continue
        route = core.router.route(text)
        if args.json:
            print(route.model_dump_json(indent=2), flush=True)
        else:
            print(f"{route.route} -> {route.kind} (confidence {route.confidence:.2f}): {route.reason}")
            if route.sizing is not None:
                print(route.sizing.model_dump_json(exclude_none=True))
    return 0
