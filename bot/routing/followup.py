"""Follow-ups to an answer of any computed kind: "what about 32k context?", "and on a 4090?", "with 2 of them?",
"what about with lora?", "and for coding?".

A follow-up re-uses the previous question's fields with the ones it states changed, and is answered as the same
kind (the fields remember it); it only exists when there is a previous question, so the same words alone are not
a question of their own.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from bot.routing.extract import Extraction
from bot.routing.schema import CalcFields, GpuRef, SizingFields

MAX_FOLLOWUP_TOKENS = 12
_CUE = re.compile(r"^\s*(what about|how about|what if|and|with|at|on|or|same|now|then|instead|ok|okay|also|using|"
                  r"try|for|in|but|if)\b", re.IGNORECASE)


def is_followup(text: str, ex: Extraction, names_other: bool = False) -> bool:
    """Short, states at least one field (or, with `names_other`, something else the previous kind reads: a use, an
    image model), and either opens like a follow-up or says little else."""
    fields = ex.fields
    if len(ex.tokens) > MAX_FOLLOWUP_TOKENS or not (fields.states_anything() or names_other):
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
    if stated.calc is not None:
        updates["calc"] = merge_calc(previous.calc, stated.calc)
    if previous.kind == "what_can_i_run" and stated.model is not None:
        updates["kind"] = None          # a model on the hardware just ranked: a sizing question
    if stated.ram_gb is not None:
        gpu = updates.get("gpu", previous.gpu)
        if gpu is not None and gpu.id is not None and shared_memory(gpu.id):
            updates["gpu"] = GpuRef(id=gpu.id, memory_gb=stated.ram_gb)
        else:
            updates["ram_gb"] = stated.ram_gb
    return merged.model_copy(update=updates)


def merge_calc(previous: CalcFields | None, stated: CalcFields) -> CalcFields:
    """`previous` with every calculator field `stated` says; a new resolution replaces both sides."""
    if previous is None:
        return stated
    said = stated.model_dump(exclude_none=True)
    if "width" in said or "height" in said:
        said.setdefault("width", None)
        said.setdefault("height", None)
    return previous.model_copy(update=said)
