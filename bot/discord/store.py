"""What the bot remembers between questions and restarts, in one SQLite file: feedback on answers, the questions the
knowledge base could not answer (so it can grow where it is missing), each channel's mode, and what each answer was
about (so a reply or a button press on it can build on it, even after a restart).

Calls are short and synchronous; the adapter runs them in a worker thread. One connection, guarded by a lock,
because SQLite connections are not safe to share between threads on their own.
"""
from __future__ import annotations

import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from bot.answer.schema import AnswerKind, Source
from bot.routing.schema import SizingFields
from bot.sizing.schema import SizingRequest

ChannelMode = Literal["off", "mention", "listen"]
Vote = Literal["up", "down"]
DEFAULT_MODE: ChannelMode = "mention"
ANSWER_DAYS_KEPT = 30
DB_NAME = "willitrun.sqlite3"

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    message_id INTEGER NOT NULL, user_id INTEGER NOT NULL, vote TEXT NOT NULL, question TEXT, kind TEXT,
    at REAL NOT NULL, PRIMARY KEY (message_id, user_id));
CREATE TABLE IF NOT EXISTS unanswered (
    key TEXT PRIMARY KEY, question TEXT NOT NULL, count INTEGER NOT NULL, first_at REAL NOT NULL,
    last_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS channel_modes (channel_id INTEGER PRIMARY KEY, mode TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS answers (message_id INTEGER PRIMARY KEY, record TEXT NOT NULL, at REAL NOT NULL);
"""


class AnswerRecord(BaseModel):
    """What a bot message answered: enough to continue from it."""
    question: str
    kind: AnswerKind
    fields: SizingFields | None = None          # for follow-ups in a reply chain
    request: SizingRequest | None = None        # for "try another quantization or context"
    sources: list[Source] = []                  # for "show sources"


class UnansweredQuestion(BaseModel):
    question: str        # the latest wording
    count: int
    first_asked: float   # unix time
    last_asked: float


class FeedbackCounts(BaseModel):
    up: int = 0
    down: int = 0


def question_key(question: str) -> str:
    """Questions that differ only in case, spacing or punctuation count as one."""
    return " ".join(re.sub(r"[^\w\s.+-]", " ", question.lower()).split())


def default_path(data_dir: Path) -> Path:
    return Path(data_dir) / DB_NAME


class Store:
    def __init__(self, path: Path, clock=time.time):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(SCHEMA)
            self._db.execute("DELETE FROM answers WHERE at < ?", (clock() - ANSWER_DAYS_KEPT * 86400,))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _run(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # -- feedback -----------------------------------------------------------------------------------------------
    def record_feedback(self, message_id: int, user_id: int, vote: Vote, question: str | None = None,
                        kind: str | None = None) -> FeedbackCounts:
        """One vote per person and answer; voting again replaces the earlier vote."""
        self._run("INSERT INTO feedback VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (message_id, user_id) DO UPDATE "
                  "SET vote = excluded.vote, at = excluded.at", (message_id, user_id, vote, question, kind,
                                                                 self._clock()))
        return self.feedback_counts(message_id)

    def feedback_counts(self, message_id: int) -> FeedbackCounts:
        rows = self._run("SELECT vote, COUNT(*) FROM feedback WHERE message_id = ? GROUP BY vote", (message_id,))
        return FeedbackCounts(**dict(rows))

    # -- unanswered questions ---------------------------------------------------------------------------------
    def record_unanswered(self, question: str) -> int:
        """Count one more asking of `question`; returns how often it has been asked."""
        now = self._clock()
        key = question_key(question)
        self._run("INSERT INTO unanswered VALUES (?, ?, 1, ?, ?) ON CONFLICT (key) DO UPDATE SET "
                  "count = count + 1, question = excluded.question, last_at = excluded.last_at",
                  (key, question.strip(), now, now))
        return self._run("SELECT count FROM unanswered WHERE key = ?", (key,))[0][0]

    def most_unanswered(self, limit: int = 20) -> list[UnansweredQuestion]:
        rows = self._run("SELECT question, count, first_at, last_at FROM unanswered "
                         "ORDER BY count DESC, last_at DESC LIMIT ?", (limit,))
        return [UnansweredQuestion(question=q, count=c, first_asked=f, last_asked=last) for q, c, f, last in rows]

    # -- channel modes ----------------------------------------------------------------------------------------
    def set_channel_mode(self, channel_id: int, mode: ChannelMode) -> None:
        self._run("INSERT INTO channel_modes VALUES (?, ?) ON CONFLICT (channel_id) DO UPDATE SET mode = "
                  "excluded.mode", (channel_id, mode))

    def channel_mode(self, channel_id: int) -> ChannelMode:
        rows = self._run("SELECT mode FROM channel_modes WHERE channel_id = ?", (channel_id,))
        return rows[0][0] if rows else DEFAULT_MODE

    def channel_modes(self) -> dict[int, ChannelMode]:
        return dict(self._run("SELECT channel_id, mode FROM channel_modes"))

    # -- what each answer was about ---------------------------------------------------------------------------
    def remember_answer(self, message_id: int, record: AnswerRecord) -> None:
        self._run("INSERT OR REPLACE INTO answers VALUES (?, ?, ?)",
                  (message_id, record.model_dump_json(), self._clock()))

    def answer_record(self, message_id: int) -> AnswerRecord | None:
        rows = self._run("SELECT record FROM answers WHERE message_id = ?", (message_id,))
        return AnswerRecord.model_validate_json(rows[0][0]) if rows else None
