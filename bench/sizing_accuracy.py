"""Sizing accuracy against published measurements (tests/data/reference_measurements.yaml) and the time of one
sizing call. Prints the median absolute error per quantity next to its target."""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import yaml

from bot.core import open_core
from bot.errors import WillItRunError
from bot.settings import Settings
from bot.sizing.engine import SizingEngine
from bot.sizing.schema import SizingRequest

MIB, GIB = 2**20, 2**30
REFERENCE = Path(__file__).resolve().parents[1] / "tests" / "data" / "reference_measurements.yaml"
TARGETS = {"weights": 0.03, "total memory": 0.08, "decode speed": 0.25}


def published_bytes(row: dict) -> float:
    if "bytes" in row:
        return row["bytes"]
    if "gib" in row:
        return row["gib"] * GIB
    return row["gb"] * 1e9


def compare(engine: SizingEngine, rows: list[dict]) -> tuple[dict[str, list[float]], list[str]]:
    errors: dict[str, list[float]] = {k: [] for k in TARGETS}
    lines: list[str] = []
    for row in rows:
        try:
            kind = row["kind"]
            if kind == "gguf_file_size":
                sized = engine.sized_model(SizingRequest(model=row["model"], quant=row["quant"]))
                pred, real = sized.layout.file_bytes, published_bytes(row)
                errors["weights"].append(pred / real - 1)
                lines.append(f"weights  {row['model']:<32} {row['quant']:<8} "
                             f"{pred / 1e9:8.2f} GB vs {real / 1e9:8.2f} GB "
                             f"{pred / real - 1:+7.1%}")
            elif kind == "llama_log":
                req = SizingRequest(model=row["model"], quant=row["quant"], context=row.get("context") or 4096,
                                    flash_attention=row.get("flash_attention", True),
                                    kv_cache_type=row.get("kv_cache_type", "f16"), ram_gb=512)
                r = engine.size(req)
                real = sum(row.get(k, 0) for k in ("model_buffer_mib", "cpu_mapped_mib", "kv_buffer_mib",
                                                   "compute_buffer_mib")) * MIB
                parts = ["model_buffer_mib" in row or "cpu_mapped_mib" in row, "kv_buffer_mib" in row,
                         "compute_buffer_mib" in row]
                pred = (r.weights_bytes if parts[0] else 0) + (r.kv_cache_bytes if parts[1] else 0) + \
                       (max(d.compute_bytes for d in r.devices) if parts[2] else 0)
                errors["total memory"].append(pred / real - 1)
                lines.append(f"memory   {row['model']:<32} {row['quant']:<8} "
                             f"{pred / GIB:8.2f} GiB vs {real / GIB:8.2f} GiB "
                             f"{pred / real - 1:+7.1%}")
            elif kind == "decode_speed":
                r = engine.size(SizingRequest(model=row["model"], quant=row["quant"], gpu=row["hardware"],
                                              gpus=row.get("gpus", 1), context=max(row.get("context") or 128, 1),
                                              ram_gb=row.get("ram_gb", 512)))
                if r.decode_tokens_per_s is None:
                    lines.append(f"speed    {row['model']:<32} {row['hardware']}: predicted not to fit")
                    continue
                point = (r.decode_tokens_per_s.low + r.decode_tokens_per_s.high) / 2
                real = row["tokens_per_s"]
                errors["decode speed"].append(point / real - 1)
                inside = r.decode_tokens_per_s.low <= real <= r.decode_tokens_per_s.high
                lines.append(f"speed    {row['model']:<20} {row['quant']:<6} {row['hardware']:<22} {point:7.1f} vs "
                             f"{real:7.1f} t/s {point / real - 1:+7.1%} {'in range' if inside else 'OUT of range'}")
        except WillItRunError as exc:
            lines.append(f"skipped  {row}: {exc}")
    return errors, lines


def time_one_call(engine: SizingEngine, repeats: int = 300) -> float:
    requests = [SizingRequest(model="llama 3.3 70b", gpu="rtx 3090", gpus=2, context=8192),
                SizingRequest(model="qwen3 30b a3b", gpu="rtx 4060 ti 16gb", ram_gb=32),
                SizingRequest(model="llama 3.1 8b", gpu="rtx 3060", context=32768)]
    for r in requests:
        engine.size(r)  # warm: the catalog and each model's tensor layout are computed once per process
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        engine.size(requests[i % len(requests)])
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    engine = open_core(Settings(), backend=None).engine
    rows = yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))
    errors, lines = compare(engine, rows)
    verbose = "-v" in sys.argv
    if verbose:
        print("\n".join(lines))
    print(f"reference rows: {len(rows)} ({REFERENCE.name})")
    for name, target in TARGETS.items():
        errs = errors[name]
        if not errs:
            print(f"{name:<14} no rows")
            continue
        mae = statistics.median(abs(e) for e in errs)
        print(f"{name:<14} median abs error {mae:6.1%} over {len(errs):3d} rows (target <= {target:.0%}) "
              f"{'OK' if mae <= target else 'MISSED'}")
    ms = time_one_call(engine) * 1000
    print(f"one sizing call (median, warm) {ms:.3f} ms (target < 1 ms) {'OK' if ms < 1 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
