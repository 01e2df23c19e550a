"""`willitrun`: parse the command, build the core from the settings (once), run the command with it."""
from __future__ import annotations

import argparse
import logging
import sys

from pydantic import ValidationError

from bot.cli.commands import (
    ask,
    catalog,
    choose,
    cost,
    finetune,
    image,
    index,
    kb,
    ops,
    report,
    route,
    run,
    search,
    serve,
    size,
    web,
    whatcanirun,
)
from bot.core import open_core
from bot.errors import WillItRunError
from bot.settings import Settings

COMMANDS = (size, choose, whatcanirun, ops, kb, index, search, route, ask, run, report, catalog, web, finetune, serve,
            image, cost)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="willitrun", description="Will this model run on that hardware?")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def settings_message(exc: ValidationError) -> str:
    """A bad environment variable or .env line, named as it is set (DISCORD_SHARD_IDS), with pydantic's reason and
    never the value, which may be a secret."""
    return "settings: " + "; ".join(f"{str(e['loc'][0]).upper() if e['loc'] else 'value'}: {e['msg']}"
                                    for e in exc.errors())


def settings_for(args: argparse.Namespace) -> Settings:
    settings = Settings()
    if getattr(args, "no_llm", False):
        settings = settings.model_copy(update={"llm_enabled": False})
    return settings


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = settings_for(args)
    except ValidationError as exc:
        print(f"error: {settings_message(exc)}", file=sys.stderr)
        return 2
    try:
        return args.func(args, open_core(settings) if args.uses_core else settings)
    except WillItRunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
