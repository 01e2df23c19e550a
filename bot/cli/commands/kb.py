"""`willitrun kb check` (validate every entry and catalog file, as the core would load them) and `willitrun kb
show NAME` (an entry as the bot renders it)."""
from __future__ import annotations

import argparse
import datetime as dt
import sys

from bot.calc.schema import calc_catalog_problems
from bot.catalog.load import load_catalog_checked
from bot.core import Core
from bot.kb.claims import claim_problems
from bot.kb.load import KnowledgeBase, load_knowledge, render_entry
from bot.settings import Settings
from bot.sizing.engine import SizingEngine


def add_parser(sub: argparse._SubParsersAction) -> None:
    kb = sub.add_parser("kb", help="knowledge base tools").add_subparsers(dest="kb_command", required=True)
    check = kb.add_parser("check", help="validate every entry and catalog; exit 1 on any problem")
    check.add_argument("--stale", type=int, metavar="DAYS",
                       help="also list entries whose commands were last verified more than DAYS days ago")
    # checks the files a core is built from, so it cannot need a core itself
    check.set_defaults(func=run_check, uses_core=False)
    show = kb.add_parser("show", help="print an entry as the bot renders it")
    show.add_argument("name", help="id, title or alias")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=run_show, uses_core=True)


def stale_entries(kb: KnowledgeBase, days: int, today: dt.date) -> list[str]:
    """`file: verified: ...` for each entry checked against upstream longer than `days` ago (or never)."""
    lines = []
    for entry in sorted(kb.entries.values(), key=lambda e: e.id):
        verified = entry.meta.verified
        if verified is None:
            lines.append(f"{entry.path}: verified: never checked against upstream (updated {entry.meta.updated})")
        elif (today - verified).days > days:
            lines.append(f"{entry.path}: verified: {verified} is {(today - verified).days} days ago "
                         f"(against {entry.meta.checked_against or 'an unrecorded version'})")
    return lines


def run_check(args: argparse.Namespace, settings: Settings) -> int:
    kb, problems = load_knowledge(settings.knowledge_dir)
    catalog, catalog_problems = load_catalog_checked(settings.knowledge_dir)
    problems = catalog_problems + problems
    if catalog is not None:
        problems += claim_problems(kb, SizingEngine(catalog))
    problems += calc_catalog_problems(settings.knowledge_dir, {h.id for h in catalog.hardware} if catalog else None)
    for p in problems:
        print(p)
    print(f"{len(kb.entries)} entries valid, {len(problems)} problem(s)", file=sys.stderr)
    if args.stale is not None:
        stale = stale_entries(kb, args.stale, dt.date.today())
        for line in stale:
            print(line)
        print(f"{len(stale)} entries not verified in the last {args.stale} days", file=sys.stderr)
        return 1 if problems or stale else 0
    return 1 if problems else 0


def run_show(args: argparse.Namespace, core: Core) -> int:
    entry = core.kb.find(args.name)
    print(entry.model_dump_json(indent=2) if args.json else render_entry(entry))
    return 0
