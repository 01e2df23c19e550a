"""Name resolution on the dev sets (tests/eval/names_models.yaml, names_hardware.yaml) and the held-out sets
(*_holdout.yaml, never tuned on), in two columns (`make eval`): the catalog alone, and with look-ups against a local
Hugging Face server (HF_ENDPOINT pointed at it) that serves the real config.json files in tests/eval/hub_configs/.

Model: resolved, and right when the resolved model's total parameters are within 3 % of the truth and its layers and
KV heads equal the truth where the item gives them. A size named without a family ('a 70b model') has no single
true architecture: it is right when a representative is chosen, the assumption is stated, and its parameters are
within 15 % of the size named. Hardware: memory per device exact and the count right.
Silent substitution: a quantization label in the name sized as a different type with nothing said, or a model
resolved through a fine-tune, base-in-name, size-only or fuzzy step with nothing said. Target 0.
Time per name: the median and 95th percentile of resolving one name (index built once). Targets: >= 97 % right on
dev, 0 silent, < 2 ms median on the catalog path, in both columns. Names that reached a look-up are timed apart:
the first fetch (empty cache: HTTP requests to localhost, then the result written to the SQLite cache) and the same
name again from that cache.
Hardware names have no look-up, so its second column is the first.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

from bot.catalog.load import normalize
from bot.core import Core, open_core
from bot.errors import WillItRunError
from bot.resolve.resolver import Resolver
from bot.settings import Settings
from tests.fake_hub import FakeHub

EVAL = Path(__file__).resolve().parents[1] / "tests" / "eval"
KNOWLEDGE = Path(__file__).resolve().parents[1] / "knowledge"
HUB_CONFIGS = EVAL / "hub_configs"
TARGETS = {"right": 0.97, "silent": 0, "ms": 2.0}


class LocalHub(FakeHub):
    """The test suite's stand-in Hub (same URL layout, real HTTP on 127.0.0.1) serving tests/eval/hub_configs/.
    Repo ids match whatever their case, as on the Hub, which redirects a renamed or differently cased id to the
    repo (EleutherAI/gpt-j-6B, the name in older posts, is now EleutherAI/gpt-j-6b)."""

    def _repo(self, h, repo_id, file):
        canonical = {r.lower(): r for r in self.repos}.get(repo_id.lower(), repo_id)
        return super()._repo(h, canonical, file)


def local_hub() -> LocalHub:
    hub = LocalHub()
    for config in sorted(HUB_CONFIGS.glob("*/*/config.json")):
        hub.add(f"{config.parent.parent.name}/{config.parent.name}", {"config.json": config.read_bytes()})
    return hub


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
    except WillItRunError:          # an unknown name, or a look-up that found no repo (HubError): unresolved
        out = None
    return out, (time.perf_counter() - start) * 1000


def eval_models(resolver: Resolver, path: Path, verbose: bool, server: LocalHub | None = None) -> dict:
    """`server`: the local Hub; a name that sent it a request is timed as a look-up, not on the catalog path."""
    items = yaml.safe_load(path.read_text())
    resolved = right = quiet = 0
    ms, hub_ms, cached_ms, looked_up = [], [], [], []
    for item in items:
        sent = len(server.requests) if server else 0
        r, t = timed(resolver.model, item["text"])
        if server and len(server.requests) > sent:
            hub_ms.append(t)
            looked_up.append(item["text"])
        else:
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
    for text in looked_up:          # the same names again: answered from the on-disk cache
        cached_ms.append(timed(resolver.model, text)[1])
    return {"n": len(items), "resolved": resolved, "right": right, "silent": quiet, "ms": ms, "hub_ms": hub_ms,
            "cached_ms": cached_ms}


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


def percentiles(ms: list[float]) -> str:
    ms = sorted(ms)
    return f"p50 {statistics.median(ms):.2f} ms p95 {ms[int(0.95 * (len(ms) - 1))]:.2f} ms"


def line(name: str, s: dict) -> str:
    out = (f"{name:<22} n={s['n']:>3}  resolved {s['resolved'] / s['n']:6.1%}  right {s['right'] / s['n']:6.1%}  "
           f"silent substitutions {s['silent']}  time/name {percentiles(s['ms'])}")
    if s.get("hub_ms"):
        out += (f"\n{'':<22} look-ups: {len(s['hub_ms'])} name(s), first fetch {percentiles(s['hub_ms'])}, "
                f"from cache {percentiles(s['cached_ms'])}")
    return out


def failures(s: dict, dev: bool) -> bool:
    failed = s["silent"] > TARGETS["silent"] or statistics.median(s["ms"]) > TARGETS["ms"]
    return failed or (dev and s["right"] / s["n"] < TARGETS["right"])


def hub_core(endpoint: str, data_dir: Path) -> Core:
    """A core whose resolver (the one every entry point uses) looks names up at `endpoint` through HF_ENDPOINT,
    exactly as a deployed bot does, with an empty look-up cache."""
    os.environ["HF_ENDPOINT"] = endpoint
    os.environ.pop("HF_HUB_OFFLINE", None)
    return open_core(Settings(data_dir=data_dir), backend=None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="print every miss")
    parser.add_argument("--holdout", action="store_true", help="the held-out sets only")
    args = parser.parse_args(argv)
    sets = [("holdout", "_holdout")] if args.holdout else [("dev", ""), ("holdout", "_holdout")]
    failed = False

    resolver = Resolver(open_core(Settings(), backend=None).catalog)   # catalog alone: no Hugging Face look-ups
    resolver.model("llama 3.1 8b")                     # build the indexes outside the timing
    resolver.hardware("3090")
    print("name resolution, catalog alone")
    for label, suffix in sets:
        verbose = args.verbose and label == "dev"       # misses on held-out are never printed: nothing tunes on them
        m = eval_models(resolver, EVAL / f"names_models{suffix}.yaml", verbose)
        h = eval_hardware(resolver, EVAL / f"names_hardware{suffix}.yaml", verbose)
        print(line(f"models ({label})", m))
        print(line(f"hardware ({label})", h))
        failed |= failures(m, label == "dev") or failures(h, label == "dev")

    hub = local_hub()
    endpoint = hub.start()
    saved = {k: os.environ.get(k) for k in ("HF_ENDPOINT", "HF_HUB_OFFLINE")}
    try:
        with tempfile.TemporaryDirectory(prefix="names-eval-hub-") as data_dir:
            core = hub_core(endpoint, Path(data_dir))
            resolver = core.resolver
            resolver.model("llama 3.1 8b")
            core.hub.cache.get("warm-up")    # the client and its cache file open once per process, not per name
            print(f"name resolution, with look-ups against a local Hugging Face server ({len(hub.repos)} repos' "
                  "config.json, HF_ENDPOINT on 127.0.0.1; hardware has no look-up: as above)")
            for label, suffix in sets:
                m = eval_models(resolver, EVAL / f"names_models{suffix}.yaml", args.verbose and label == "dev", hub)
                print(line(f"models ({label})", m))
                failed |= failures(m, label == "dev")
            core.hub.close()
    finally:
        hub.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    print(f"targets: right >= {TARGETS['right']:.0%} on dev, {TARGETS['silent']} silent, p50 < {TARGETS['ms']} ms "
          "on the catalog path (look-ups are timed apart, no target)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
