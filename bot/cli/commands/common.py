"""What several commands print: errors as one JSON object (for --stdin), pydantic's validation errors as one line a
person can act on, and the --stdin loop (one line in, exactly one JSON line out, errors included)."""
from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from typing import TextIO

from pydantic import BaseModel, ValidationError

from bot.errors import UnknownNameError, WillItRunError, validation_message
from bot.text import escape_control

log = logging.getLogger(__name__)


def error_json(exc: Exception) -> dict:
    out = {"error": str(exc)}
    if isinstance(exc, UnknownNameError):
        out["suggestions"] = exc.suggestions
    return out


def answer_json(handle: Callable[[str], BaseModel], line: str) -> str:
    """`handle(line)` as one JSON line; a line that fails becomes one JSON error object, so that a script reading
    the output line by line stays in step with its input, and the lines after a bad one are still answered."""
    try:
        return handle(line).model_dump_json()
    except ValidationError as exc:
        return json.dumps({"error": validation_message(exc.errors())})
    except WillItRunError as exc:
        return json.dumps(error_json(exc))
    except (ValueError, ArithmeticError) as exc:   # a value no validator foresaw: this line's problem, not the run's
        log.warning("stdin line failed: %s", exc, exc_info=True)
        return json.dumps({"error": f"could not answer this line ({type(exc).__name__}: {exc})"})


def run_stdin(handle: Callable[[str], BaseModel], stdin: TextIO | None = None) -> int:
    """One JSON line on stdout for each non-blank line of stdin."""
    for line in stdin or sys.stdin:
        if line.strip():
            print(answer_json(handle, line.strip()), flush=True)
    return 0


def print_error(message: str) -> None:
    """`error: ...` on stderr, with any control characters in it (from the user's input) made visible."""
    print(f"error: {escape_control(message)}", file=sys.stderr)
