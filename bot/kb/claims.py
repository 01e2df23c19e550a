"""Memory figures stated in entries (front matter `sizing_claims`) recomputed with the sizing engine: an entry may
not disagree with the engine by more than 10 %."""
from __future__ import annotations

from bot.errors import WillItRunError
from bot.kb.load import KnowledgeBase
from bot.sizing.engine import SizingEngine
from bot.sizing.schema import SizingRequest

TOLERANCE = 0.10
GB = 1e9  # decimal gigabytes, as file sizes are shown on Hugging Face


def claim_problems(kb: KnowledgeBase, engine: SizingEngine) -> list[str]:
    problems = []
    for entry in kb.entries.values():
        for i, claim in enumerate(entry.meta.sizing_claims):
            where = f"{entry.path}: sizing_claims.{i}"
            try:
                report = engine.size(SizingRequest(model=claim.model, quant=claim.quant, context=claim.context,
                                                   ram_gb=4096))
            except WillItRunError as exc:
                problems.append(f"{where}: {exc}")
                continue
            actual = {"weights_gb": report.weights_bytes, "kv_cache_gb": report.kv_cache_bytes,
                      "total_gb": report.total_bytes}[claim.field] / GB
            if abs(claim.value / actual - 1) > TOLERANCE:
                problems.append(f"{where}: {claim.field} {claim.value:g} GB disagrees with the sizing engine's "
                                f"{actual:.2f} GB (more than {TOLERANCE:.0%})")
    return problems
