"""`willitrun`: the command-line adapter. Every query command has --json printing the same pydantic models the bot
renders, and --stdin for many requests in one process."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Callable

from pydantic import ValidationError

from bot.cli_choose import add_choose_parser
from bot.ops.cli import add_ops_parsers
from bot.errors import UnknownNameError, WillItRunError


def _size_request(args: argparse.Namespace):
    from bot.sizing.schema import SizingRequest

    fields = dict(model=args.model, gguf=args.gguf, gpu=args.gpu, gpus=args.gpus, quant=args.quant,
                  context=args.context, kv_cache_type=args.kv_cache, flash_attention=not args.no_flash_attention,
                  parallel=args.parallel, ram_gb=args.ram, memory_gb=args.memory, reserved_gb=args.reserved,
                  experts_in_ram=args.experts_in_ram, runtime=args.runtime)
    return SizingRequest(**{k: v for k, v in fields.items() if v is not None})


def _error_json(exc: Exception) -> dict:
    out = {"error": str(exc)}
    if isinstance(exc, UnknownNameError):
        out["suggestions"] = exc.suggestions
    return out


def _validation_message(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'request'}: {e['msg']}" for e in exc.errors())


def cmd_size(args: argparse.Namespace) -> int:
    from bot.catalog.load import load_catalog
    from bot.format import sizing_text
    from bot.sizing.engine import SizingEngine
    from bot.sizing.schema import SizingRequest

    engine = SizingEngine(load_catalog())
    if args.stdin:
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                report = engine.size(SizingRequest.model_validate_json(line))
                print(report.model_dump_json(), flush=True)
            except ValidationError as exc:
                print(json.dumps({"error": _validation_message(exc)}), flush=True)
            except WillItRunError as exc:
                print(json.dumps(_error_json(exc)), flush=True)
        return 0
    try:
        report = engine.size(_size_request(args))
    except ValidationError as exc:
        print(f"error: {_validation_message(exc)}", file=sys.stderr)
        return 2
    if args.chart:
        from bot.cli_choose import write_chart

        written = write_chart(report, args.chart, engine, _size_request(args) if not args.gguf else None)
        print("chart: " + ", ".join(str(p) for p in written), file=sys.stderr)
    print(report.model_dump_json(indent=2) if args.json else sizing_text(report))
    return 0


def cmd_kb_check(args: argparse.Namespace) -> int:
    from bot.catalog.load import load_catalog_checked
    from bot.kb.load import load_knowledge

    kb, problems = load_knowledge()
    catalog, catalog_problems = load_catalog_checked()
    problems = catalog_problems + problems
    if catalog is not None:
        from bot.kb.claims import claim_problems
        from bot.sizing.engine import SizingEngine
        problems += claim_problems(kb, SizingEngine(catalog))
    for p in problems:
        print(p)
    print(f"{len(kb.entries)} entries valid, {len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


def cmd_kb_show(args: argparse.Namespace) -> int:
    from bot.kb.load import load_knowledge, render_entry

    kb, _ = load_knowledge()
    entry = kb.find(args.name)
    print(entry.model_dump_json(indent=2) if args.json else render_entry(entry))
    return 0


def cmd_index_build(args: argparse.Namespace) -> int:
    from bot.retrieval import open_retriever

    _, stats = open_retriever(force=args.force)
    print(f"index: {stats.reason}; {stats.embedded} passages embedded, {stats.removed} removed, "
          f"{stats.total} in the index ({stats.seconds:.2f} s)")
    if stats.changed_entries:
        shown = ", ".join(stats.changed_entries[:10])
        more = len(stats.changed_entries) - 10
        print(f"changed entries: {shown}" + (f" and {more} more" if more > 0 else ""))
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from bot.format import search_text
    from bot.retrieval import open_retriever

    retriever, _ = open_retriever()
    if args.stdin:
        for line in sys.stdin:
            if line.strip():
                result = retriever.search(line.strip(), k=args.k, mode=args.mode)
                print(result.model_dump_json(), flush=True)
        return 0
    if not args.query:
        print("error: give a query, or --stdin", file=sys.stderr)
        return 2
    result = retriever.search(args.query, k=args.k, mode=args.mode)
    print(result.model_dump_json(indent=2) if args.json else search_text(result))
    return 0


def cmd_route(args: argparse.Namespace) -> int:
    from bot.catalog.load import load_catalog
    from bot.routing import Router

    router = Router(load_catalog())
    lines = (line.strip() for line in sys.stdin) if args.stdin else [args.message or ""]
    for text in lines:
        if not text:
            continue
        route = router.route(text)
        if args.json or args.stdin:
            print(route.model_dump_json(indent=None if args.stdin else 2), flush=True)
        else:
            print(f"{route.route} (confidence {route.confidence:.2f}): {route.reason}")
            if route.sizing is not None:
                print(route.sizing.model_dump_json(exclude_none=True))
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from bot.answer import build_answerer
    from bot.format import answer_text

    answerer = build_answerer(use_llm=not args.no_llm)
    if args.stdin:
        for line in sys.stdin:
            if line.strip():
                print(answerer.answer(line.strip()).model_dump_json(), flush=True)
        return 0
    if not args.question:
        print("error: give a question, or --stdin", file=sys.stderr)
        return 2
    if args.json:
        print(answerer.answer(args.question).model_dump_json(indent=2))
        return 0
    shown = ""

    def show(text: str) -> None:          # stream: print what was added since the last piece
        nonlocal shown
        if text.startswith(shown):
            sys.stdout.write(text[len(shown):])
            sys.stdout.flush()
            shown = text

    answer = answerer.answer(args.question, on_text=show)
    if shown:
        sys.stdout.write("\n")
        if answer.fallback:           # the streamed text failed the guard: say so, then show the entries' text
            print(f"\n[discarded: {answer.fallback_reason}]\n")
    streamed_as_is = bool(shown) and not answer.fallback and answer.text == shown
    print(answer_text(answer, with_text=not streamed_as_is))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from bot.settings import Settings

    settings = Settings()
    if settings.discord_token:
        from bot.discord.run import run_bot

        return run_bot(settings)
    from bot.console import run_console

    return run_console(sys.stdin, sys.stdout)


def cmd_report(args: argparse.Namespace) -> int:
    import datetime as dt

    from bot.discord.store import Store, default_path
    from bot.settings import Settings

    path = default_path(Settings().data_dir)
    if not path.exists():
        print(f"no questions recorded yet ({path} does not exist)", file=sys.stderr)
        return 0
    questions = Store(path).most_unanswered(args.limit)
    if args.json:
        print(json.dumps([q.model_dump() for q in questions], indent=2))
        return 0
    if not questions:
        print("no unanswered questions recorded")
    for q in questions:
        last = dt.datetime.fromtimestamp(q.last_asked).strftime("%Y-%m-%d")
        print(f"{q.count:>5}x  {q.question}  (last asked {last})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="willitrun", description="Will this model run on that hardware?")
    sub = parser.add_subparsers(dest="command", required=True)

    size = sub.add_parser("size", help="size a model on hardware (memory, offload, speed)")
    size.add_argument("model", nargs="?", help='model name, e.g. "llama 3.1 8b"')
    size.add_argument("--gguf", help="size a local GGUF file exactly from its tensors")
    size.add_argument("--gpu", help='GPU, Mac or CPU platform, e.g. "rtx 3060", "m2 max", "3090+3060"')
    size.add_argument("--gpus", type=int, help="how many of that GPU")
    size.add_argument("--quant", help="quantization, e.g. Q4_K_M (default), Q8_0, AWQ-4bit")
    size.add_argument("--context", type=int, help="context length in tokens (default 8192)")
    size.add_argument("--kv-cache", help="KV cache type: f16 (default), q8_0, q4_0")
    size.add_argument("--no-flash-attention", action="store_true", help="size with flash attention off")
    size.add_argument("--parallel", type=int, help="sequences served at once")
    size.add_argument("--ram", type=float, help="system RAM in GB")
    size.add_argument("--memory", type=float, help="memory option of a Mac or CPU platform, in GB")
    size.add_argument("--reserved", type=float, help="GPU memory already in use, in GB")
    size.add_argument("--experts-in-ram", action="store_true", default=None, help="MoE: keep routed experts in RAM")
    size.add_argument("--runtime", choices=["llama.cpp", "vllm"])
    size.add_argument("--json", action="store_true", help="print the SizingReport as JSON")
    size.add_argument("--stdin", action="store_true", help="one JSON request per line in, one JSON line out")
    size.add_argument("--chart", metavar="PNG", help="also draw the memory breakdown (and memory vs context)")
    size.set_defaults(func=cmd_size)

    add_choose_parser(sub)
    add_ops_parsers(sub)

    kb = sub.add_parser("kb", help="knowledge base tools").add_subparsers(dest="kb_command", required=True)
    check = kb.add_parser("check", help="validate every entry and catalog; exit 1 on any problem")
    check.set_defaults(func=cmd_kb_check)
    show = kb.add_parser("show", help="print an entry as the bot renders it")
    show.add_argument("name", help="id, title or alias")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_kb_show)

    index = sub.add_parser("index", help="the search index in index/").add_subparsers(dest="index_command",
                                                                                      required=True)
    build = index.add_parser("build", help="embed new or changed entries (all of them with --force)")
    build.add_argument("--force", action="store_true", help="rebuild from scratch")
    build.set_defaults(func=cmd_index_build)

    search = sub.add_parser("search", help="search the knowledge base (dense + BM25 hybrid)")
    search.add_argument("query", nargs="?")
    search.add_argument("-k", type=int, default=5, help="how many results (default 5)")
    search.add_argument("--mode", choices=["hybrid", "dense", "bm25"], default="hybrid")
    search.add_argument("--json", action="store_true", help="print the SearchResult as JSON")
    search.add_argument("--stdin", action="store_true", help="one query per line in, one JSON line out")
    search.set_defaults(func=cmd_search)

    route = sub.add_parser("route", help="how the bot would route a message (sizing / knowledge / none)")
    route.add_argument("message", nargs="?")
    route.add_argument("--json", action="store_true", help="print the Route as JSON")
    route.add_argument("--stdin", action="store_true", help="one message per line in, one JSON line out")
    route.set_defaults(func=cmd_route)

    ask = sub.add_parser("ask", help="answer a question as the bot would (streams the model's text)")
    ask.add_argument("question", nargs="?")
    ask.add_argument("--json", action="store_true", help="print the Answer as JSON")
    ask.add_argument("--stdin", action="store_true", help="one question per line in, one JSON line out")
    ask.add_argument("--no-llm", action="store_true", help="answer from the entries only, no language model")
    ask.set_defaults(func=cmd_ask)

    run = sub.add_parser("run", help="start the bot (a terminal console when no Discord token is set)")
    run.set_defaults(func=cmd_run)

    report = sub.add_parser("report", help="the most asked questions the knowledge base could not answer")
    report.add_argument("--limit", type=int, default=20, help="how many (default 20)")
    report.add_argument("--json", action="store_true", help="print them as JSON")
    report.set_defaults(func=cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except WillItRunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
