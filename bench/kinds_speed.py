"""How long "what can I run" takes for the whole ranking (`make bench`): the first question after start-up (the
engine has no weights layouts cached yet) and warm questions, over a spread of hardware. Target: warm p95 <= 300 ms.
"""
from __future__ import annotations

import statistics
import sys
import time

from bot.core import open_core
from bot.kinds.compare import compare
from bot.kinds.what_can_i_run import what_can_i_run
from bot.routing.schema import CompareSide, GpuRef, SizingFields
from bot.settings import Settings

TARGET_MS = 300
SETUPS = [("rtx-3060-12gb", 1, None), ("rtx-3090", 1, None), ("rtx-3090", 2, None), ("rtx-4060-ti-16gb", 1, None),
          ("m2-max", 1, 64.0), ("rtx-4090", 1, None), ("rx-7900-xtx", 1, None), ("rtx-5090", 1, None)]
USES = ("any", "coding", "reasoning")


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def main() -> int:
    core = open_core(Settings(), backend=None)
    fields = [SizingFields(gpu=GpuRef(id=gpu, memory_gb=memory), gpus=count) for gpu, count, memory in SETUPS]
    cold = timed(lambda: what_can_i_run(core, fields[0], "any"))
    for f in fields:                                    # every setup once, so the layouts are cached
        what_can_i_run(core, f, "any")
    warm = [timed(lambda f=f, u=u: what_can_i_run(core, f, u)) for f in fields for u in USES]
    p95 = sorted(warm)[int(0.95 * (len(warm) - 1))]
    sides = [CompareSide(id="rtx-3090"), CompareSide(id="rtx-4060-ti-16gb")]
    versus = [timed(lambda: compare(core, sides, SizingFields(), None)) for _ in range(5)]
    print(f"what can I run: first question after start-up {cold:.0f} ms (layouts computed); warm over "
          f"{len(warm)} questions p50 {statistics.median(warm):.0f} ms, p95 {p95:.0f} ms (target <= {TARGET_MS} ms)")
    print(f"compare (two cards, 8B/32B/70B, with what each runs): median {statistics.median(versus):.0f} ms")
    ok = p95 <= TARGET_MS
    print("all what-can-I-run targets met" if ok else "targets missed: what-can-I-run p95")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
