"""The terminal console `willitrun run` opens when no Discord token is configured: type what you would ask the bot."""
from __future__ import annotations

import shlex
from typing import TextIO

from bot.errors import WillItRunError

HELP = """Commands:
  size MODEL --gpu GPU [--gpus N] [--quant Q] [--context N] [--ram GB]   size a model on hardware
  kb NAME                                                                show a knowledge entry
  help | quit"""


def run_console(stdin: TextIO, stdout: TextIO) -> int:
    from bot.catalog.load import load_catalog
    from bot.cli import build_parser
    from bot.format import sizing_text
    from bot.kb.load import load_knowledge, render_entry
    from bot.sizing.engine import SizingEngine

    engine = SizingEngine(load_catalog())
    kb, _ = load_knowledge()
    parser = build_parser()
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
            words = shlex.split(line)
            if words[0] == "size":
                from bot.cli import _size_request
                args = parser.parse_args(words)
                print(sizing_text(engine.size(_size_request(args))), file=stdout)
            elif words[0] == "kb" and len(words) > 1:
                print(render_entry(kb.find(" ".join(words[1:]))), file=stdout)
            else:
                print(HELP, file=stdout)
        except WillItRunError as exc:
            print(f"error: {exc}", file=stdout)
        except SystemExit:
            print(HELP, file=stdout)
        except ValueError as exc:
            print(f"error: {exc}", file=stdout)
