"""Links to the web calculator (bot/web): the query that asks a page a question, built in one place so that the
page's own permalinks and the "Open in calculator" links under Discord answers (PUBLIC_URL) ask the same.

Kinds with a page get links: sizing (/), what_can_i_run (/whatcanirun) and compare (/compare).
"""
from __future__ import annotations

from urllib.parse import urlencode

from bot.answer.schema import Answer
from bot.catalog.load import Catalog
from bot.sizing.schema import SizingRequest

# the sizing form's fields, in permalink order; each is a SizingRequest field of the same name
FORM_FIELDS = ("model", "gpu", "gpus", "quant", "context", "kv_cache_type", "runtime")
DEFAULTS = {"gpus": "1", "kv_cache_type": "f16", "runtime": "llama.cpp"}


def permalink_query(values: dict[str, str]) -> str:
    """The shortest query that asks the same: empty fields and defaults left out, fields in a fixed order."""
    return urlencode([(k, v) for k in FORM_FIELDS if (v := values.get(k)) and DEFAULTS.get(k) != v])


def sizing_permalink(public_url: str, request: SizingRequest) -> str | None:
    """The calculator page that answers `request` (`{public_url}/?model=...&gpu=...`), or None when the page's form
    cannot ask the same: a local GGUF file, system RAM, a memory option, anything else outside FORM_FIELDS (a link
    to a different verdict would be worse than none)."""
    outside = [name for name, spec in SizingRequest.model_fields.items()
               if name not in FORM_FIELDS and getattr(request, name) != spec.default]
    if outside or not request.model:
        return None
    values = {name: str(value) for name in FORM_FIELDS if (value := getattr(request, name)) is not None}
    return f"{public_url.rstrip('/')}/?{permalink_query(values)}"


def answer_permalink(public_url: str, answer: Answer, catalog: Catalog) -> str | None:
    """The page that answers the same as a what_can_i_run or compare answer, or None when its form cannot ask the
    same (a Mac's or platform's memory option: the forms name hardware, not memory)."""
    base = public_url.rstrip("/")
    if answer.kind == "what_can_i_run" and answer.what_can_i_run is not None:
        w = answer.what_can_i_run
        if w.hardware.memory_gb != catalog.gpu(w.hardware.id).memory_gb:
            return None
        query = [("gpu", w.hardware.id)] + ([("gpus", str(w.hardware.count))] if w.hardware.count > 1 else [])
        query += ([("use", w.use)] if w.use != "any" else []) + [("context", str(w.context))]
        return f"{base}/whatcanirun?{urlencode(query)}"
    if answer.kind == "compare" and answer.compare is not None:
        c = answer.compare
        if any(s.memory_gb != catalog.gpu(s.hardware.id).memory_gb * s.count for s in c.sides):
            return None
        query = [(name, f"{s.count}x {s.hardware.id}" if s.count > 1 else s.hardware.id)
                 for name, s in zip("abc", c.sides)]
        asked = answer.request
        if asked is not None and asked.model is not None:
            query.append(("model", asked.model.id))
        if asked is not None and asked.context:
            query.append(("context", str(asked.context)))
        return f"{base}/compare?{urlencode(query)}"
    return None
