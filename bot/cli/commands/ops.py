"""`willitrun health` and `willitrun invite`: they check and describe an installation, so they take the settings,
not a core (health reports what would stop a core from being built)."""
from __future__ import annotations

import argparse
import json

from bot.ops.health import run_checks
from bot.ops.invite import build_invite, invite_text
from bot.settings import Settings


def run_health(args: argparse.Namespace, settings: Settings) -> int:
    checks = run_checks(settings, fix=args.fix, discord=args.discord)
    if args.json:
        print(json.dumps([c.model_dump() for c in checks], indent=2))
    else:
        for check in checks:
            print(check.line(), flush=True)
    return 0 if all(c.ok for c in checks) else 1


def run_invite(args: argparse.Namespace, settings: Settings) -> int:
    invite = build_invite(args.client_id or settings.discord_application_id, threads=settings.discord_answer_in_threads)
    print(invite.model_dump_json(indent=2) if args.json else invite_text(invite))
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    health = sub.add_parser("health", help="check that this installation can answer (exit 1 if not)")
    health.add_argument("--fix", action="store_true", help="rebuild a stale or missing index instead of failing")
    health.add_argument("--discord", action="store_true",
                        help="the bot is meant to connect to Discord: fail when DISCORD_TOKEN is missing")
    health.add_argument("--json", action="store_true", help="print the checks as JSON")
    health.set_defaults(func=run_health, uses_core=False)

    invite = sub.add_parser("invite", help="print the URL that adds the bot to a server, with its permissions")
    invite.add_argument("--client-id", help="the Application ID (default: DISCORD_APPLICATION_ID)")
    invite.add_argument("--json", action="store_true", help="print the invite as JSON")
    invite.set_defaults(func=run_invite, uses_core=False)
