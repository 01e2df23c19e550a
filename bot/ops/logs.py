"""Logging for a long-running bot: readable lines by default, or one JSON object per line (LOG_FORMAT=json) for a
log collector (Docker's json-file driver, Loki, journald) to parse without regular expressions.

Fields passed with `log.info("answered", extra={"route": "sizing", "ms": 12})` become keys of the JSON object.
"""
from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

from bot.settings import Settings
from bot.text import redact

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# attributes every LogRecord has; anything else on a record came from `extra=` and belongs in the JSON
_RECORD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class RedactingFormatter(logging.Formatter):
    """Every line with the credentials of any URL in it redacted (user:password@, ?api_key=, ?token=): an error
    from the LLM server's client repeats LLM_BASE_URL whole, and a log outlives the secret's rotation."""

    def __init__(self, *args, secrets: tuple[str | None, ...] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.format_unredacted(record), self.secrets)

    def format_unredacted(self, record: logging.LogRecord) -> str:
        return super().format(record)


class JsonFormatter(RedactingFormatter):
    def format_unredacted(self, record: logging.LogRecord) -> str:
        out = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, default=str, ensure_ascii=False)


def setup_logging(settings: Settings, level: int = logging.INFO, stream: TextIO | None = None) -> logging.Handler:
    """Send every log record at `level` or above to `stream` (stderr) in the configured format. Replaces the
    root logger's handlers, so calling it twice does not print every line twice. Returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    secrets = (settings.llm_api_key,)
    handler.setFormatter(JsonFormatter(secrets=secrets) if settings.log_format == "json"
                         else RedactingFormatter(TEXT_FORMAT, secrets=secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request URL at INFO, and an LLM_BASE_URL may carry a password or an API key
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return handler
