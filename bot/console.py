"""The terminal console `willitrun run` opens when no Discord token is configured: type what you would ask the bot."""
from __future__ import annotations

import argparse
import shlex
from typing import TextIO

from bot.answer.pipeline import answer
from bot.answer.schema import Answer
from bot.charts import answer_chart, answer_chart_alt
from bot.cli.commands.size import add_size_arguments, size_request
from bot.core import Core
from bot.discord.render import chart_report, post_as_text, render_answer
from bot.errors import WillItRunError
from bot.format import sizing_text
from bot.kb.load import render_entry

HELP = """Commands:
  size MODEL --gpu GPU [--gpus N] [--quant Q] [--context N] [--ram GB]   size a model on hardware
  kb NAME                                                                show a knowledge entry
  help | quit
Anything else is a question, answered as the Discord bot would answer a mention: sizing, what can I run, compare,
fine-tuning, serving, image models, cost. A short follow-up ("what about 32k context?", "and with 2 of them?",
"and with lora?") re-runs the previous question with that one thing changed."""
POST_DIVIDER = "-" * 40


def bot_posts_text(result: Answer) -> str:
    """What the Discord bot would post for `result`, as text: every message, embed parts and chart included."""
    report = chart_report(result)
    if report is not None:
        posts = render_answer(result, answer_chart(report), answer_chart_alt(report))
    else:
        posts = render_answer(result)
    if not posts:
        return "(the bot would stay silent)"
    return f"\n{POST_DIVIDER}\n".join(post_as_text(p) for p in posts)


def _size_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="size", add_help=False)
    add_size_arguments(parser)
    return parser


def run_console(core: Core, stdin: TextIO, stdout: TextIO) -> int:
    parser = _size_parser()
    previous = None           # the last computed question's fields (they name its kind), for follow-ups
    interactive = stdin.isatty()
    print("willitrun console (no DISCORD_TOKEN set). " + HELP, file=stdout)
    while True:
        if interactive:
            stdout.write("> ")
            stdout.flush()
        line = stdin.readline()
        if not line:
            return 0
        line = line.strip()
        if not line:
            continue
        if line in ("quit", "exit"):
            return 0
        try:
            first = line.split()[0]
            if first == "size":
                args = parser.parse_args(shlex.split(line)[1:])
                print(sizing_text(core.engine.size(size_request(args))), file=stdout)
            elif first == "kb" and len(line.split()) > 1:
                print(render_entry(core.kb.find(line.split(maxsplit=1)[1])), file=stdout)
            elif first == "help":
                print(HELP, file=stdout)
            else:
                result = answer(core, line, previous=previous, explicit=True)
                previous = result.request or previous
                print(bot_posts_text(result), file=stdout)
        except WillItRunError as exc:
            print(f"error: {exc}", file=stdout)
        except SystemExit:
            print(HELP, file=stdout)
        except ValueError as exc:
            print(f"error: {exc}", file=stdout)
