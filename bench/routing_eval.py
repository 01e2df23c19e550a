"""Routing accuracy on the dev set tests/eval/routing.yaml (`make eval`).

Route accuracy: the share of messages routed as labelled (sizing / knowledge / none). Field accuracy: over every
field a sizing message's label states (model, gpu, gpus, memory_gb, quant, context, ram_gb), the share the router
extracted exactly; a sizing message routed elsewhere gets none of its fields. Targets: 95 % and 90 %.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from bot.core import open_core
from bot.routing.schema import SizingFields
from bot.settings import Settings

ROUTING = Path(__file__).resolve().parents[1] / "tests" / "eval" / "routing.yaml"
TARGETS = {"route": 0.95, "fields": 0.90}


def extracted(fields: SizingFields | None) -> dict:
    if fields is None:
        return {}
    gpu = fields.gpu
    return {"model": fields.model.id if fields.model else None, "gpu": gpu.id if gpu else None,
            "memory_gb": gpu.memory_gb if gpu else None, "gpus": fields.gpus, "quant": fields.quant,
            "context": fields.context, "ram_gb": fields.ram_gb}


def same(want, got) -> bool:
    if isinstance(want, (int, float)) and isinstance(got, (int, float)):
        return abs(want - got) < 1e-6
    if isinstance(want, str) and isinstance(got, str):
        return want.lower() == got.lower()
    return want == got


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="print every miss")
    parser.add_argument("--messages", type=Path, default=ROUTING, help="the message set (default: the dev set)")
    args = parser.parse_args(argv)
    messages = yaml.safe_load(args.messages.read_text(encoding="utf-8"))["messages"]
    router = open_core(Settings(), backend=None).router     # the bot's own router, retrieval scores included

    routes_right = fields_right = fields_total = 0
    by_route: dict[str, list[int]] = {}
    for m in messages:
        route = router.route(m["text"])
        ok = route.route == m["route"]
        routes_right += ok
        by_route.setdefault(m["route"], [0, 0])
        by_route[m["route"]][0] += ok
        by_route[m["route"]][1] += 1
        if args.verbose and not ok:
            print(f"  route miss: {m['text'][:70]!r} want {m['route']} got {route.route} ({route.reason})")
        want = m.get("sizing") or {}
        got = extracted(route.sizing) if ok else {}
        for name, value in want.items():
            fields_total += 1
            right = ok and same(value, got.get(name))
            fields_right += right
            if args.verbose and ok and not right:
                print(f"  field miss: {m['text'][:60]!r} {name}: want {value!r} got {got.get(name)!r}")

    route_acc = routes_right / len(messages)
    field_acc = fields_right / fields_total if fields_total else 1.0
    detail = ", ".join(f"{r} {right}/{n}" for r, (right, n) in sorted(by_route.items()))
    print(f"routing eval ({args.messages.name}): {len(messages)} messages ({detail})")
    print(f"  route accuracy {route_acc:.1%} (target >= {TARGETS['route']:.0%})")
    print(f"  field accuracy {field_acc:.1%} over {fields_total} labelled fields (target >= {TARGETS['fields']:.0%})")
    met = route_acc >= TARGETS["route"] and field_acc >= TARGETS["fields"]
    print("all routing targets met" if met else "routing targets missed")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
