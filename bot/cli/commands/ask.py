"""`willitrun ask QUESTION`: the answer the bot gives, streamed as the model writes it (bot.answer.pipeline)."""
from __future__ import annotations

import argparse
import sys

from bot.answer.pipeline import answer
from bot.cli.commands.common import run_stdin
from bot.core import Core
from bot.format import answer_text


def add_parser(sub: argparse._SubParsersAction) -> None:
    ask = sub.add_parser("ask", help="answer a question as the bot would (streams the model's text)")
    ask.add_argument("question", nargs="?")
    ask.add_argument("--json", action="store_true", help="print the Answer as JSON")
    ask.add_argument("--stdin", action="store_true", help="one question per line in, one JSON line out")
    ask.add_argument("--no-llm", action="store_true", help="answer from the entries only, no language model")
    ask.set_defaults(func=run, uses_core=True)


def run(args: argparse.Namespace, core: Core) -> int:
    if args.stdin:
        return run_stdin(lambda line: answer(core, line))
    if not args.question:
        print("error: give a question, or --stdin", file=sys.stderr)
        return 2
    if args.json:
        print(answer(core, args.question).model_dump_json(indent=2))
        return 0
    shown = ""

    def show(text: str) -> None:          # stream: print what was added since the last piece
        nonlocal shown
        if text.startswith(shown):
            sys.stdout.write(text[len(shown):])
            sys.stdout.flush()
            shown = text

    result = answer(core, args.question, on_text=show)
    if shown:
        sys.stdout.write("\n")
        if result.fallback:           # the streamed text failed the guard: say so, then show the entries' text
            print(f"\n[discarded: {result.fallback_reason}]\n")
    streamed_as_is = bool(shown) and not result.fallback and result.text == shown
    print(answer_text(result, with_text=not streamed_as_is))
    return 0
