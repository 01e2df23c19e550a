"""Look-ups already made, in SQLite in the data directory: the raw facts fetched (a config.json or a GGUF header)
and when. Any thread may use it: each call opens its own connection (SQLite serialises the writers)."""
from __future__ import annotations

import json
import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from bot.hub.schema import HubRecord

log = logging.getLogger(__name__)

SCHEMA = """CREATE TABLE IF NOT EXISTS hub_lookups (
    key TEXT PRIMARY KEY,
    fetched_at TEXT NOT NULL,      -- UTC, ISO 8601
    record TEXT NOT NULL           -- HubRecord as JSON, or {"repo": ...} for a name the search resolved
)"""


class HubCache:
    def __init__(self, path: Path):
        self.path = path
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=5)
        if not self._ready:
            conn.execute(SCHEMA)
            self._ready = True
        return conn

    def _run(self, sql: str, args: tuple):
        conn = self._connect()
        try:
            with conn:
                return conn.execute(sql, args).fetchone()
        finally:
            conn.close()

    def get(self, key: str) -> tuple[dict, datetime] | None:
        try:
            row = self._run("SELECT record, fetched_at FROM hub_lookups WHERE key = ?", (key,))
        except (sqlite3.Error, OSError) as exc:
            log.warning("hub cache %s unreadable: %s", self.path, exc)
            return None
        if row is None:
            return None
        return json.loads(row[0]), datetime.fromisoformat(row[1])

    def record(self, key: str) -> tuple[HubRecord, datetime] | None:
        found = self.get(key)
        if found is None or "kind" not in found[0]:
            return None
        return HubRecord.model_validate(found[0]), found[1]

    def put(self, key: str, value: dict | HubRecord, fetched_at: datetime | None = None) -> None:
        data = value.model_dump(mode="json") if isinstance(value, HubRecord) else value
        when = (fetched_at or datetime.now(UTC)).isoformat()
        try:
            self._run("INSERT OR REPLACE INTO hub_lookups (key, fetched_at, record) VALUES (?, ?, ?)",
                      (key, when, json.dumps(data)))
        except (sqlite3.Error, OSError) as exc:     # a read-only data directory costs the cache, not the answer
            log.warning("hub cache %s not written: %s", self.path, exc)
