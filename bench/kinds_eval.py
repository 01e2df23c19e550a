"""Answer-kind accuracy on channel messages (tests/eval/kinds.yaml, `make eval`).

Kind accuracy: the share of messages whose routed kind is the labelled one. Wrong kind: an answer of another kind
than the one asked (a sizing answer to a fine-tuning question); `unsupported` is not wrong, only not answered, and
it is what kinds without a calculator yet must give. A pasted log (label `log`) is answered by the log kind, or, from
a tool the log reader does not know (ComfyUI's start-up lines), read for its facts as sizing or knowledge; a pasted
log that ends in an error (label `knowledge`) may get the log kind too, which answers with that error's entry.
Targets: kind accuracy >= 95 %, wrong kind 0.
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import yaml

from bot.core import open_core
from bot.routing.intents import NOT_BUILT
from bot.settings import Settings

KINDS = Path(__file__).resolve().parents[1] / "tests" / "eval" / "kinds.yaml"
TARGET_ACCURACY = 0.95
# what the router returns for a label: a sizing question without hardware is answered by choose, and so on
ACCEPTED = {"sizing": {"sizing", "clarify"}, "choose": {"choose", "clarify"}, "log": {"log", "sizing", "knowledge"},
            "knowledge": {"knowledge", "none", "log"}}


def accepted(label: str) -> set[str]:
    if label in NOT_BUILT:
        return {label, "unsupported"}
    return ACCEPTED.get(label, {label})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="print every miss")
    parser.add_argument("--messages", type=Path, default=KINDS, help="the message set (default: the dev set)")
    args = parser.parse_args(argv)
    items = yaml.safe_load(args.messages.read_text(encoding="utf-8"))["items"]
    router = open_core(Settings(), backend=None).router

    right = wrong = 0
    by_label: dict[str, Counter] = {}
    for item in items:
        route = router.route(item["text"])
        # in a listening channel "none" means silence; asked directly, the bot looks the question up
        got = route.kind
        label = item["kind"]
        counts = by_label.setdefault(label, Counter())
        counts["total"] += 1
        if got in accepted(label):
            right += 1
            counts["right"] += 1
        elif got != "unsupported":
            wrong += 1
            counts["wrong"] += 1
            if args.verbose:
                print(f"  wrong: {item['text'][:80]!r} want {label} got {got} ({route.reason})")
        elif args.verbose:
            print(f"  unsupported: {item['text'][:80]!r} want {label} ({route.reason})")
    accuracy = right / len(items)
    print(f"kind eval ({args.messages.name}): {len(items)} messages; kinds without a calculator yet "
          f"({', '.join(sorted(NOT_BUILT))}) count as right when answered `unsupported`")
    for label, c in sorted(by_label.items()):
        print(f"  {label:<15} {c['right']:>3}/{c['total']:<3} right, {c['wrong']} of another kind")
    print(f"  kind accuracy {accuracy:.1%} (target >= {TARGET_ACCURACY:.0%}); answers of another kind: {wrong} "
          "(target 0)")
    ok = accuracy >= TARGET_ACCURACY and wrong == 0
    print("all kind targets met" if ok else "kind targets missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
