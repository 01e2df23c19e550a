"""Name resolution on the dev sets (tests/eval/names_models.yaml, names_hardware.yaml) and the held-out sets
(*_holdout.yaml, never tuned on), catalog alone (`make eval`).

Model: resolved, and right when the resolved model's total parameters are within 3 % of the truth and its layers and
KV heads equal the truth where the item gives them. A size named without a family ('a 70b model') has no single
true architecture: it is right when a representative is chosen, the assumption is stated, and its parameters are
within 15 % of the size named. Hardware: memory per device exact and the count right.
Silent substitution: a quantization label in the name sized as a different type with nothing said, or a model
resolved through a fine-tune, base-in-name, size-only or fuzzy step with nothing said. Target 0.
Time per name: the median and 95th percentile of resolving one name (index built once). Targets: >= 97 % right on
dev, 0 silent, < 2 ms median.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import yaml

from bot.catalog.load import normalize
from bot.core import open_core
from bot.errors import UnknownNameError
from bot.resolve.resolver import Resolver
from bot.settings import Settings

EVAL = Path(__file__).resolve().parents[1] / "tests" / "eval"
KNOWLEDGE = Path(__file__).resolve().parents[1] / "knowledge"
TARGETS = {"right": 0.97, "silent": 0, "ms": 2.0}


def model_right(item: dict, r) -> bool:
    m = r.model
    if item.get("kind") == "size_only":
        near = abs(m.params_b - item["params_b"]) <= 0.15 * item["params_b"]
        return r.how == "size_only" and bool(r.notes) and near
    if abs(m.params_b - item["params_b"]) > 0.03 * item["params_b"]:
        return False
    if item.get("layers") is not None and m.layers != item["layers"]:
        return False
    kv = m.kv_heads if isinstance(m.kv_heads, int) else max(m.kv_heads)
    return item.get("kv_heads") is None or kv == item["kv_heads"]


def silent(r) -> bool:
    if r.how in ("finetune", "base_in_name", "size_only", "fuzzy", "hub") and not r.notes:
        return True
    q = r.quant
    if q is None or q.note:
        return False
    ft = q.file_type
    same = {normalize(ft.name), *(normalize(a) for a in ft.aliases)}
    parts = q.label.split()
    if normalize(q.label) in same or normalize("".join(reversed(parts))) in same:
        return False
    return not any(normalize(part) in same for part in parts)


def timed(fn, text):
    start = time.perf_counter()
    try:
        out = fn(text)
    except UnknownNameError:
        out = None
    return out, (time.perf_counter() - start) * 1000


def eval_models(resolver: Resolver, path: Path, verbose: bool) -> dict:
    items = yaml.safe_load(path.read_text())
    resolved = right = quiet = 0
    ms = []
    for item in items:
        r, t = timed(resolver.model, item["text"])
        ms.append(t)
        ok = r is not None and model_right(item, r)
        resolved += r is not None
        right += ok
        if r is not None and silent(r):
            quiet += 1
            if verbose:
                print(f"  SILENT {item['text']!r} -> {r.model.id} {r.quant}")
        if verbose and not ok:
            print(f"  MISS {item['text']!r} -> {r.model.id + ' ' + r.how if r else None} (want {item['base']})")
    return {"n": len(items), "resolved": resolved, "right": right, "silent": quiet, "ms": ms}


def eval_hardware(resolver: Resolver, path: Path, verbose: bool) -> dict:
    items = yaml.safe_load(path.read_text())
    resolved = right = 0
    ms = []
    for item in items:
        r, t = timed(resolver.hardware, item["text"])
        ms.append(t)
        ok = r is not None and r.memory_gb == item["memory_gb"] and r.count == item["count"]
        resolved += r is not None
        right += ok
        if verbose and not ok:
            got = f"{r.hardware.id if r.hardware else None} {r.memory_gb:g} GB x{r.count}" if r else None
            print(f"  MISS {item['text']!r} -> {got} (want {item['memory_gb']:g} GB x{item['count']})")
    return {"n": len(items), "resolved": resolved, "right": right, "silent": 0, "ms": ms}


def line(name: str, s: dict) -> str:
    ms = sorted(s["ms"])
    p95 = ms[int(0.95 * (len(ms) - 1))]
    return (f"{name:<22} n={s['n']:>3}  resolved {s['resolved'] / s['n']:6.1%}  right {s['right'] / s['n']:6.1%}  "
            f"silent substitutions {s['silent']}  time/name p50 {statistics.median(ms):.2f} ms p95 {p95:.2f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="print every miss")
    parser.add_argument("--holdout", action="store_true", help="the held-out sets only")
    args = parser.parse_args(argv)
    resolver = Resolver(open_core(Settings(), backend=None).catalog)   # catalog alone: no Hugging Face look-ups
    resolver.model("llama 3.1 8b")                     # build the indexes outside the timing
    resolver.hardware("3090")
    sets = [("holdout", "_holdout")] if args.holdout else [("dev", ""), ("holdout", "_holdout")]
    failed = False
    print("name resolution, catalog alone")
    for label, suffix in sets:
        verbose = args.verbose and label == "dev"       # misses on held-out are never printed: nothing tunes on them
        m = eval_models(resolver, EVAL / f"names_models{suffix}.yaml", verbose)
        h = eval_hardware(resolver, EVAL / f"names_hardware{suffix}.yaml", verbose)
        print(line(f"models ({label})", m))
        print(line(f"hardware ({label})", h))
        for s in (m, h):
            failed |= s["silent"] > TARGETS["silent"] or statistics.median(s["ms"]) > TARGETS["ms"]
            if label == "dev":
                failed |= s["right"] / s["n"] < TARGETS["right"]
    print(f"targets: right >= {TARGETS['right']:.0%} on dev, {TARGETS['silent']} silent, p50 < {TARGETS['ms']} ms")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
