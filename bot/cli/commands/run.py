"""`willitrun run`: the Discord bot when DISCORD_TOKEN is set, else the terminal console."""
from __future__ import annotations

import argparse
import sys

from bot.core import Core


def add_parser(sub: argparse._SubParsersAction) -> None:
    run_parser = sub.add_parser("run", help="start the bot (a terminal console when no Discord token is set)")
    run_parser.set_defaults(func=run, uses_core=True)


def run(args: argparse.Namespace, core: Core) -> int:
    if core.settings.discord_token:
        from bot.discord.run import run_bot  # discord.py loads only for the bot

        return run_bot(core)
    from bot.console import run_console  # the console renders as the bot does (charts, Discord posts)

    return run_console(core, sys.stdin, sys.stdout)
