"""The calculators against published measurements: per calculator the median error of the range midpoint and the
share of measurements inside the range, against the targets. Exit 1 on a miss.

tests/eval/*_measurements.yaml are the dev sets the rules were tuned on; with --holdout the
*_measurements_holdout.yaml sets, gathered after the rules were frozen and never tuned on, are scored instead."""
from __future__ import annotations

import statistics
import sys
from pathlib import Path

import yaml

from bot.calc import finetune, image, serve
from bot.calc.schema import Range, load_image_catalog
from bot.catalog.load import load_catalog
from bot.settings import Settings
from bot.sizing.engine import SizingEngine

GIB = 2**30
EVAL = Path(__file__).resolve().parents[1] / "tests" / "eval"
TARGETS = {"finetune": (0.20, 0.70), "serve": (0.10, 0.70), "image": (0.20, 0.70)}


def _rows(name: str, held_out: bool) -> list[dict]:
    path = EVAL / f"{name}_measurements{'_holdout' if held_out else ''}.yaml"
    return (yaml.safe_load(path.read_text(encoding="utf-8")) or []) if path.exists() else []


def _measured_bytes(row: dict) -> float:
    return row["peak_gb"] * 1e9 if "peak_gb" in row else row["peak_gib"] * GIB


def finetune_errors(catalog, rows: list[dict]) -> list[tuple[float, bool, str]]:
    out = []
    for row in rows:
        r = finetune.estimate(finetune.FinetuneRequest(
            model=row["model"], method=row["method"], seq_len=row["seq_len"], batch_size=row["batch"],
            lora_rank=row.get("rank", 16), lora_targets=tuple(row.get("targets", finetune.ALL_TARGETS)),
            gradient_checkpointing=row.get("checkpointing", True), optimizer=row.get("optimizer"),
            recipe=row.get("recipe", "hf")), catalog)
        peak = r.peak_bytes
        if row.get("measure") == "allocated":    # torch's allocated bytes: no CUDA context
            peak = Range(low=peak.low - r.parts.overhead.low, high=peak.high - r.parts.overhead.high)
        real = _measured_bytes(row)
        out.append((peak.mid / real - 1, peak.low <= real <= peak.high,
                    f"{row['model']} {row['method']} s={row['seq_len']} b={row['batch']} ({row.get('measure')}): "
                    f"{peak.low / GIB:.1f}-{peak.high / GIB:.1f} vs {real / GIB:.2f} GiB"))
    return out


def serve_errors(engine, rows: list[dict]) -> list[tuple[float, bool, str]]:
    out = []
    for row in rows:
        fields = {k: row[k] for k in ("model", "gpu", "gpus", "quant", "context", "gpu_memory_utilization",
                                      "vllm_version", "vllm_release", "cuda_graphs_in_budget", "enforce_eager",
                                      "max_num_batched_tokens", "max_num_seqs", "kv_cache_dtype", "total_gib")
                  if k in row}
        r = serve.estimate(serve.ServeRequest(**fields), engine)
        if "kv_cache_gib" in row:     # a budget in GiB: the blocks it makes at the model's own bytes per token
            block = 16 * r.kv_bytes_per_token
            real = int(row["kv_cache_gib"] * GIB // block) * 16
        else:
            real = row["kv_cache_tokens"]
        err = r.kv_cache_tokens / real - 1
        out.append((err, abs(err) <= 0.10, f"{row['model']} on {row.get('gpus', 1)}x {row['gpu']} "
                                            f"M={row.get('context')}: {r.kv_cache_tokens:,} vs {real:,} tokens"))
    return out


def image_errors(catalog, knowledge_dir, rows: list[dict]) -> list[tuple[float, bool, str]]:
    models = image.ImageModels(load_image_catalog(knowledge_dir))
    out = []
    for row in rows:
        r = image.estimate(image.ImageRequest(model=row["model"], precision=row["precision"], offload=row["offload"],
                                              text_encoder_precision=row.get("text_encoder_precision"),
                                              resolution=row.get("resolution")), models, catalog)
        real = row["peak_gib"] * GIB
        peak = r.peak_bytes
        if row.get("measure") in ("reserved", "allocated"):     # torch's own counts: no CUDA context
            peak = Range(low=peak.low - image.CONTEXT_BYTES, high=peak.high - image.CONTEXT_BYTES)
        out.append((peak.mid / real - 1, peak.low <= real <= peak.high,
                    f"{row['model']} {row['precision']} offload {row['offload']} ({row.get('measure', 'card')}): "
                    f"{peak.low / GIB:.2f}-{peak.high / GIB:.2f} vs {row['peak_gib']} GiB"))
    return out


def main(argv: list[str] | None = None) -> int:
    held_out = "--holdout" in (sys.argv[1:] if argv is None else argv)
    which = "holdout" if held_out else "dev"
    settings = Settings()
    catalog = load_catalog(settings.knowledge_dir)
    engine = SizingEngine(catalog)
    results = {"finetune": finetune_errors(catalog, _rows("finetune", held_out)),
               "serve": serve_errors(engine, _rows("serve", held_out)),
               "image": image_errors(catalog, settings.knowledge_dir, _rows("image", held_out))}
    failed = False
    for name, rows in results.items():
        if not rows:
            print(f"{name}: no {which} measurements")
            continue
        for err, inside, line in rows:
            print(f"{name:<9}{line}  {err:+.1%} {'in range' if inside else 'OUT'}")
        median = statistics.median(abs(e) for e, _, _ in rows)
        share = sum(i for _, i, _ in rows) / len(rows)
        target_err, target_share = TARGETS[name]
        ok = median <= target_err and share >= target_share
        failed |= not ok
        print(f"{name} ({which}): median error {median:.1%} (target {target_err:.0%}), inside {share:.0%} "
              f"(target {target_share:.0%}) over {len(rows)} measurements: {'ok' if ok else 'MISSED'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
