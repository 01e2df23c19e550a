"""The terminal console `willitrun run` opens when no Discord token is configured: type what you would ask the bot."""
from __future__ import annotations

import shlex
from typing import TextIO

from bot.errors import WillItRunError

HELP = """Commands:
  size MODEL --gpu GPU [--gpus N] [--quant Q] [--context N] [--ram GB]   size a model on hardware
  kb NAME                                                                show a knowledge entry
  help | quit
Anything else is a question, answered as the Discord bot would answer a mention (a short follow-up such as
"what about 32k context?" builds on the previous sizing question)."""
POST_DIVIDER = "-" * 40


def bot_posts_text(answer) -> str:
    """What the Discord bot would post for `answer`, as text: every message, embed parts and chart included."""
    from bot.charts import chart_alt_text, memory_breakdown_chart
    from bot.discord.render import post_as_text, render_answer

    if answer.kind == "sizing" and answer.sizing is not None:
        posts = render_answer(answer, memory_breakdown_chart(answer.sizing), chart_alt_text(answer.sizing))
    else:
        posts = render_answer(answer)
    if not posts:
        return "(the bot would stay silent)"
    return f"\n{POST_DIVIDER}\n".join(post_as_text(p) for p in posts)


def run_console(stdin: TextIO, stdout: TextIO) -> int:
    from bot.catalog.load import load_catalog
    from bot.cli import build_parser
    from bot.format import sizing_text
    from bot.kb.load import load_knowledge, render_entry
    from bot.sizing.engine import SizingEngine

    engine = SizingEngine(load_catalog())
    kb, _ = load_knowledge()
    parser = build_parser()
    answerer = None           # built on the first question: loading the embedding model takes seconds
    previous = None           # the last sizing question, for follow-ups
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
                from bot.cli import _size_request
                args = parser.parse_args(shlex.split(line))
                print(sizing_text(engine.size(_size_request(args))), file=stdout)
            elif first == "kb" and len(line.split()) > 1:
                print(render_entry(kb.find(line.split(maxsplit=1)[1])), file=stdout)
            elif first == "help":
                print(HELP, file=stdout)
            else:
                if answerer is None:
                    from bot.answer import build_answerer
                    answerer = build_answerer()
                answer = answerer.answer(line, previous=previous, explicit=True)
                previous = answer.request or previous
                print(bot_posts_text(answer), file=stdout)
        except WillItRunError as exc:
            print(f"error: {exc}", file=stdout)
        except SystemExit:
            print(HELP, file=stdout)
        except ValueError as exc:
            print(f"error: {exc}", file=stdout)
