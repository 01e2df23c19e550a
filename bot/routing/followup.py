"""Follow-ups to a sizing answer: "what about 32k context?", "and on a 4090?", "with 2 of them?".

A follow-up re-uses the previous question's fields with the ones it states changed; it only exists when there is
a previous question, so the same words alone are not a sizing question.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from bot.routing.extract import Extraction
from bot.routing.schema import GpuRef, SizingFields

MAX_FOLLOWUP_TOKENS = 12
_CUE = re.compile(r"^\s*(what about|how about|what if|and|with|at|on|or|same|now|then|instead|ok|okay|also|using|"
                  r"try|for|in|but|if)\b", re.IGNORECASE)


def is_followup(text: str, ex: Extraction) -> bool:
    """Short, states at least one sizing field, and either opens like a follow-up or says little else."""
    fields = ex.fields
    if len(ex.tokens) > MAX_FOLLOWUP_TOKENS or not fields.states_anything():
        return False
    if fields.model is not None and (fields.gpu is not None or fields.cpu_only):
        return False  # a complete question of its own
    return bool(_CUE.match(text)) or len(ex.tokens) <= 4


def merge(previous: SizingFields, stated: SizingFields,
          shared_memory: Callable[[str], bool] = lambda hardware_id: False) -> SizingFields:
    """`previous` with what `stated` says. A new GPU brings its own count; RAM on a Mac is its unified memory."""
    merged = previous.model_copy()
    updates: dict = {}
    if stated.model is not None:
        updates.update(model=stated.model, unknown_model=None)
    if stated.gpu is not None or stated.cpu_only:
        updates.update(gpu=stated.gpu, cpu_only=stated.cpu_only, gpus=stated.gpus)
    elif stated.gpus is not None:
        updates["gpus"] = stated.gpus
    for name in ("quant", "context"):
        if getattr(stated, name) is not None:
            updates[name] = getattr(stated, name)
    if stated.ram_gb is not None:
        gpu = updates.get("gpu", previous.gpu)
        if gpu is not None and gpu.id is not None and shared_memory(gpu.id):
            updates["gpu"] = GpuRef(id=gpu.id, memory_gb=stated.ram_gb)
        else:
            updates["ram_gb"] = stated.ram_gb
    return merged.model_copy(update=updates)
