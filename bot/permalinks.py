"""Links to the web calculator (bot/web): the query that asks a page a question, built in one place so that the
page's own permalinks and the "Open in calculator" links under Discord answers (PUBLIC_URL) ask the same.

Only kinds with a page get links: sizing today; /whatcanirun and /compare join here when their pages exist.
"""
from __future__ import annotations

from urllib.parse import urlencode

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
