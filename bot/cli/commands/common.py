"""What several commands print: errors as one JSON object (for --stdin), and pydantic's validation errors as one
line a person can act on."""
from __future__ import annotations

from pydantic import ValidationError

from bot.errors import UnknownNameError


def error_json(exc: Exception) -> dict:
    out = {"error": str(exc)}
    if isinstance(exc, UnknownNameError):
        out["suggestions"] = exc.suggestions
    return out


def validation_message(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'request'}: {e['msg']}" for e in exc.errors())
