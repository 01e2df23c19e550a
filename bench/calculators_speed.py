"""Time of one answer from each calculator (median of repeated calls on a warm catalog); target under 20 ms."""
from __future__ import annotations

import statistics
import sys
import time

from bot.calc import cost, finetune, image, serve
from bot.calc.schema import load_image_catalog, load_prices
from bot.catalog.load import load_catalog
from bot.settings import Settings
from bot.sizing.engine import SizingEngine

TARGET_MS = 20.0


def _median_ms(fn, repeats: int = 30) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    settings = Settings()
    catalog = load_catalog(settings.knowledge_dir)
    engine = SizingEngine(catalog)
    models = image.ImageModels(load_image_catalog(settings.knowledge_dir))
    prices = load_prices(settings.knowledge_dir)
    calls = {
        "finetune": lambda: finetune.estimate(finetune.FinetuneRequest("llama 3.1 8b", "qlora", gpu="rtx 4090"),
                                              catalog),
        "serve": lambda: serve.estimate(serve.ServeRequest("llama 3.1 70b", "h100 sxm", gpus=2), engine),
        "image": lambda: image.estimate(image.ImageRequest("flux dev", gpu="rtx 4090"), models, catalog),
        "cost": lambda: cost.estimate(cost.CostRequest("llama 3.1 8b", "rtx 4090"), engine, prices),
    }
    failed = False
    for name, fn in calls.items():
        ms = _median_ms(fn)
        ok = ms < TARGET_MS
        failed |= not ok
        print(f"{name:<9}{ms:7.2f} ms per answer (target < {TARGET_MS:g} ms): {'ok' if ok else 'MISSED'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
