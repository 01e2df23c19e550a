"""`willitrun index build [--force]`: embed new or changed entries into the search index."""
from __future__ import annotations

import argparse

from bot.core import Core


def add_parser(sub: argparse._SubParsersAction) -> None:
    index = sub.add_parser("index", help="the search index in index/").add_subparsers(dest="index_command",
                                                                                      required=True)
    build = index.add_parser("build", help="embed new or changed entries (all of them with --force)")
    build.add_argument("--force", action="store_true", help="rebuild from scratch")
    build.set_defaults(func=run, uses_core=True)


def run(args: argparse.Namespace, core: Core) -> int:
    stats = core.open_index(force=args.force)
    print(f"index: {stats.reason}; {stats.embedded} passages embedded, {stats.removed} removed, "
          f"{stats.total} in the index ({stats.seconds:.2f} s)")
    if stats.changed_entries:
        shown = ", ".join(stats.changed_entries[:10])
        more = len(stats.changed_entries) - 10
        print(f"changed entries: {shown}" + (f" and {more} more" if more > 0 else ""))
    return 0
