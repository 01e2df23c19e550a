"""The operations commands of `willitrun`: `health` and `invite`. `bot/cli.py` calls `add_ops_parsers(sub)`."""
from __future__ import annotations

import argparse
import json
import sys


def cmd_health(args: argparse.Namespace) -> int:
    from bot.ops.health import run_checks
    from bot.settings import Settings

    checks = run_checks(Settings(), fix=args.fix, discord=args.discord)
    if args.json:
        print(json.dumps([c.model_dump() for c in checks], indent=2))
    else:
        for check in checks:
            print(check.line(), flush=True)
    return 0 if all(c.ok for c in checks) else 1


def cmd_invite(args: argparse.Namespace) -> int:
    from bot.ops.invite import build_invite, invite_text
    from bot.settings import Settings

    settings = Settings()
    invite = build_invite(args.client_id or settings.discord_application_id, threads=settings.discord_answer_in_threads)
    print(invite.model_dump_json(indent=2) if args.json else invite_text(invite))
    return 0


def add_ops_parsers(sub: argparse._SubParsersAction) -> None:
    health = sub.add_parser("health", help="check that this installation can answer (exit 1 if not)")
    health.add_argument("--fix", action="store_true", help="rebuild a stale or missing index instead of failing")
    health.add_argument("--discord", action="store_true",
                        help="the bot is meant to connect to Discord: fail when DISCORD_TOKEN is missing")
    health.add_argument("--json", action="store_true", help="print the checks as JSON")
    health.set_defaults(func=cmd_health)

    invite = sub.add_parser("invite", help="print the URL that adds the bot to a server, with its permissions")
    invite.add_argument("--client-id", help="the Application ID (default: DISCORD_APPLICATION_ID)")
    invite.add_argument("--json", action="store_true", help="print the invite as JSON")
    invite.set_defaults(func=cmd_invite)


def main(argv: list[str] | None = None) -> int:
    """Run the operations commands alone (`python -m bot.ops.cli health`), without the rest of the CLI."""
    from bot.errors import WillItRunError

    parser = argparse.ArgumentParser(prog="willitrun")
    add_ops_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except WillItRunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
