"""`willitrun search QUERY`: the knowledge base's ranked entries, as the bot's retrieval sees them."""
from __future__ import annotations

import argparse
import sys

from bot.cli.commands.common import run_stdin
from bot.core import Core
from bot.format import search_text


def add_parser(sub: argparse._SubParsersAction) -> None:
    search = sub.add_parser("search", help="search the knowledge base (dense + BM25 hybrid)")
    search.add_argument("query", nargs="?")
    search.add_argument("-k", type=int, default=5, help="how many results (default 5)")
    search.add_argument("--mode", choices=["hybrid", "dense", "bm25"], default="hybrid")
    search.add_argument("--json", action="store_true", help="print the SearchResult as JSON")
    search.add_argument("--stdin", action="store_true", help="one query per line in, one JSON line out")
    search.set_defaults(func=run, uses_core=True)


def run(args: argparse.Namespace, core: Core) -> int:
    retriever = core.retriever
    if args.stdin:
        return run_stdin(lambda line: retriever.search(line, k=args.k, mode=args.mode))
    if not args.query:
        print("error: give a query, or --stdin", file=sys.stderr)
        return 2
    result = retriever.search(args.query, k=args.k, mode=args.mode)
    print(result.model_dump_json(indent=2) if args.json else search_text(result))
    return 0
