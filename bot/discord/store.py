"""What the bot remembers between questions and restarts, in one SQLite file: feedback on answers, the questions the
knowledge base could not answer (so it can grow where it is missing), each channel's mode, and what each answer was
about (so a reply or a button press on it can build on it, even after a restart).

Calls are short and synchronous; the adapter runs them in a worker thread (`softly`, which also makes a failing
database cost a log line instead of an answer). One connection, guarded by a lock, because SQLite connections are
not safe to share between threads on their own. The file is private to the bot's user (mode 0600): it holds what
people asked. A file that is not a sound database is moved aside at start-up and a new one started, so that a
corrupt file never keeps the bot from starting (under `restart: unless-stopped` that is a restart loop).
"""
from __future__ import annotations

import asyncio
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel

from bot.answer.schema import AnswerKind, Source
from bot.routing.schema import SizingFields
from bot.settings import DATABASE_FILE
from bot.sizing.schema import SizingRequest

log = logging.getLogger(__name__)
T = TypeVar("T")
ChannelMode = Literal["off", "mention", "listen"]
Vote = Literal["up", "down"]
DEFAULT_MODE: ChannelMode = "mention"
DAYS_KEPT = 30
DB_NAME = DATABASE_FILE
DAY_S = 86400

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


class SlashCommand(BaseModel):
    """A slash command as it was sent, one of its names unknown: asked again with the name picked from buttons."""
    name: str
    options: dict[str, str | int | float]       # option name -> value as typed
    option: str                                 # the option that holds the unknown name
    unknown: str                                # that name


class AnswerRecord(BaseModel):
    """What a bot message answered: enough to continue from it."""
    question: str
    kind: AnswerKind
    fields: SizingFields | None = None          # for follow-ups in a reply chain
    request: SizingRequest | None = None        # for "try another quantization or context"
    sources: list[Source] = []                  # for "show sources"
    command: SlashCommand | None = None         # for "did you mean" buttons (name_pick); None once answered


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


def integrity_problem(db: sqlite3.Connection) -> str | None:
    """What SQLite's quick check finds wrong with the database, or None when it is sound."""
    rows = db.execute("PRAGMA quick_check").fetchall()
    found = [str(r[0]) for r in rows if r[0] != "ok"]
    return "; ".join(found[:3]) if found else None


def _create_private(path: Path) -> None:
    """Create the file readable by its owner alone, before SQLite opens it (its -wal and -shm files take the
    database file's permissions); an existing file is made private too."""
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    try:
        os.chmod(path, 0o600)
    except OSError:        # a file owned by someone else: SQLite says what is wrong when it opens it
        pass


def move_aside(path: Path, clock: Callable[[], float] = time.time) -> Path:
    """Rename the database (and its -wal and -shm files) to `<name>.corrupt-<UTC time>`; returns the new name."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(clock()))
    moved = path.with_name(f"{path.name}.corrupt-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        part = path.with_name(path.name + suffix)
        if part.exists():
            part.rename(moved.with_name(moved.name + suffix))
    return moved


async def softly(call: Callable[..., T], *args, default: T, what: str) -> T:
    """`call(*args)` in a worker thread; when the database fails, a log line and `default` instead: a question
    is answered (once) whatever the store does."""
    try:
        return await asyncio.to_thread(call, *args)
    except (sqlite3.Error, OSError, ValueError) as exc:   # ValueError: a record that no longer validates
        log.error("the database failed to %s: %s", what, exc, exc_info=exc)
        return default


class Store:
    def __init__(self, path: Path, clock=time.time, retention_days: int = DAYS_KEPT):
        """Open (or create) the database at `path`; records older than `retention_days` are deleted now and by
        every `prune` (0 keeps them forever)."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self.retention_days = retention_days
        self._lock = threading.Lock()
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as exc:
            moved = move_aside(self.path, clock)
            log.error("the database %s is corrupt (%s): moved it to %s and started a new one", self.path, exc,
                      moved.name)
            self._db = self._open()
        self.prune()

    def _open(self) -> sqlite3.Connection:
        _create_private(self.path)
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            problem = integrity_problem(db)
            if problem:
                raise sqlite3.DatabaseError(problem)
            db.executescript(SCHEMA)
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def prune(self, days: int | None = None) -> dict[str, int]:
        """Delete answers, feedback and unanswered questions older than `days` (default: the retention period;
        0 keeps everything); returns how many rows went from each table."""
        days = self.retention_days if days is None else days
        if days <= 0:
            return {}
        cutoff = self._clock() - days * DAY_S
        removed = {}
        with self._lock:
            for table, column in (("answers", "at"), ("feedback", "at"), ("unanswered", "last_at")):
                removed[table] = self._db.execute(f"DELETE FROM {table} WHERE {column} < ?", (cutoff,)).rowcount
        return removed

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
