"""`size --chart PATH`: the memory picture of a report, written as PNG."""
from __future__ import annotations

from pathlib import Path

from bot.charts import context_chart, memory_breakdown_chart
from bot.sizing.engine import SizingEngine
from bot.sizing.schema import SizingReport, SizingRequest


def write_chart(report: SizingReport, path: str | Path, engine: SizingEngine | None = None,
                request: SizingRequest | None = None) -> list[Path]:
    """Write the memory breakdown of `report` as PNG to `path`. Given the engine and the request that produced the
    report (llama.cpp runtime), also write memory against context next to it as `<stem>-context.png`.
    Returns the paths written."""
    path = Path(path)
    path.write_bytes(memory_breakdown_chart(report))
    written = [path]
    if engine is not None and request is not None and request.runtime == "llama.cpp":
        context_path = path.with_name(f"{path.stem}-context.png")
        context_path.write_bytes(context_chart(engine, request))
        written.append(context_path)
    return written
