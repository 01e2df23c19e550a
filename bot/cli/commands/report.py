"""`willitrun report`: the most asked questions the knowledge base could not answer (from the bot's store)."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from bot.discord.store import Store, default_path
from bot.settings import Settings
from bot.text import escape_control


def add_parser(sub: argparse._SubParsersAction) -> None:
    report = sub.add_parser("report", help="the most asked questions the knowledge base could not answer")
    report.add_argument("--limit", type=int, default=20, help="how many (default 20)")
    report.add_argument("--json", action="store_true", help="print them as JSON")
    report.set_defaults(func=run, uses_core=False)


def run(args: argparse.Namespace, settings: Settings) -> int:
    path = default_path(settings.data_dir)
    if not path.exists():
        print(f"no questions recorded yet ({path} does not exist)", file=sys.stderr)
        return 0
    questions = Store(path).most_unanswered(args.limit)
    if args.json:
        print(json.dumps([q.model_dump() for q in questions], indent=2))
        return 0
    if not questions:
        print("no unanswered questions recorded")
    for q in questions:
        last = dt.datetime.fromtimestamp(q.last_asked).strftime("%Y-%m-%d")
        # the question was typed in Discord: an escape sequence in it must not reach this terminal
        print(f"{q.count:>5}x  {escape_control(q.question)}  (last asked {last})")
    return 0
