"""One generation at a time in front of a backend, with a bounded line of waiting callers (asyncio).

    queue = GenerationQueue(backend, max_waiting=8)
    job = await queue.submit(messages, max_tokens=200)   # raises QueueFull at once when the line is full
    async for position in job.positions():                # e.g. 2, 1, 0; 0 means "generating now"
        show_place_in_line(position)
    async with contextlib.aclosing(job.stream()) as pieces:
        async for piece in pieces:                        # the text as it is generated
            show_text(piece)
    job.cancel()                                          # leave the line, or stop the generation under way

Jobs run in the order they were submitted, whether or not anyone reads them yet: the running job's pieces wait
inside the job until read. The backend's synchronous `stream` runs in a worker thread, so the event loop never
waits on the model. A backend error ends only its own job: `job.stream()` raises it, and the next job starts.
A job whose reader stops early (closes the stream) is cancelled, so the model is not kept busy for nobody.
"""
from __future__ import annotations

import asyncio
import enum
import threading
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from bot.llm.base import LLMBackend, LLMError, Message


class QueueFull(LLMError):
    """Too many questions are already waiting for the model."""


class JobState(enum.Enum):
    WAITING = "waiting"
    RUNNING = "running"
    FINISHED = "finished"  # the backend ended, with text or with an error
    CANCELLED = "cancelled"


class _End:
    """Marks the end of a job's pieces; carries the backend's error, if any."""

    def __init__(self, error: BaseException | None = None):
        self.error = error


class Job:
    """One submitted generation: its place in line, its pieces, and a way to cancel it. Made by `submit`."""

    def __init__(self, queue: GenerationQueue, messages: list[Message], gen_kwargs: dict[str, Any]):
        self.messages = messages
        self.gen_kwargs = gen_kwargs
        self.state = JobState.WAITING
        self.position = -1  # set by the queue as soon as the job is in line
        self._queue = queue
        self._cancel = threading.Event()  # read by the backend in its worker thread
        self._pieces: asyncio.Queue[str | _End] = asyncio.Queue()
        # replaced on each change, so every waiter sees a change made while it was not waiting
        self._change = asyncio.Event()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        """Leave the line if waiting, stop the generation if running; nothing once finished."""
        if self.state in (JobState.FINISHED, JobState.CANCELLED):
            return
        self._cancel.set()
        self._queue._withdraw(self)

    async def positions(self) -> AsyncIterator[int]:
        """The job's place in line now and after each move; ends after 0 (running), or when the job leaves."""
        last: int | None = None
        while True:
            change = self._change
            if self.state in (JobState.WAITING, JobState.RUNNING) and self.position != last:
                last = self.position
                yield last
            if self.state is not JobState.WAITING:
                return
            await change.wait()  # already set if the job moved while the caller held the last position

    async def stream(self) -> AsyncIterator[str]:
        """The generated text, piece by piece; raises the backend's error. Read it once."""
        try:
            while not self._cancel.is_set():
                item = await self._pieces.get()
                if isinstance(item, _End):
                    if item.error is not None:
                        raise item.error
                    return
                if not self._cancel.is_set():
                    yield item
        finally:
            # the reader is gone: stop generating for nobody
            self.cancel()

    def _moved(self) -> None:
        self._change.set()
        self._change = asyncio.Event()


class GenerationQueue:
    def __init__(self, backend: LLMBackend, max_waiting: int = 8):
        self.backend = backend
        self.max_waiting = max_waiting
        self._waiting: deque[Job] = deque()
        self._running: Job | None = None
        self._tasks: set[asyncio.Task[None]] = set()  # held so running jobs are not garbage-collected

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    async def submit(self, messages: list[Message], **gen_kwargs: Any) -> Job:
        """Put a generation in line; `gen_kwargs` go to `backend.stream` (max_tokens, temperature, stop)."""
        if self._running is not None and len(self._waiting) >= self.max_waiting:
            raise QueueFull(f"The model is busy and {len(self._waiting)} questions are already waiting; "
                            "try again in a minute.")
        job = Job(self, messages, gen_kwargs)
        self._waiting.append(job)
        self._advance()
        return job

    async def close(self) -> None:
        """Cancel every job and wait for the running one to stop."""
        for job in [*self._waiting, *([self._running] if self._running else [])]:
            job.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _withdraw(self, job: Job) -> None:
        """Called by `Job.cancel`: a waiting job leaves the line at once; a running one stops in its thread."""
        if job.state is JobState.WAITING:
            self._waiting.remove(job)
            job.state = JobState.CANCELLED
            job._pieces.put_nowait(_End())
            job._moved()
            self._advance()

    def _advance(self) -> None:
        """Start the next job if the model is free, then tell every job that moved its new place."""
        if self._running is None and self._waiting:
            job = self._waiting.popleft()
            job.state = JobState.RUNNING
            self._running = job
            task = asyncio.get_running_loop().create_task(self._run(job))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        line = ([self._running] if self._running else []) + list(self._waiting)
        for position, job in enumerate(line):
            if job.position != position:
                job.position = position
                job._moved()

    async def _run(self, job: Job) -> None:
        end = _End()
        try:
            await asyncio.to_thread(self._generate, job, asyncio.get_running_loop())
        except Exception as exc:  # any backend failure belongs to this job alone
            end = _End(exc)
        finally:
            job.state = JobState.CANCELLED if job.cancelled else JobState.FINISHED
            job._pieces.put_nowait(end)
            job._moved()
            self._running = None
            self._advance()

    def _generate(self, job: Job, loop: asyncio.AbstractEventLoop) -> None:
        """Runs in a worker thread: feeds the backend's pieces to the job on the event loop."""
        pieces = self.backend.stream(job.messages, cancel=job._cancel, **job.gen_kwargs)
        try:
            for piece in pieces:
                loop.call_soon_threadsafe(job._pieces.put_nowait, piece)
        finally:
            close = getattr(pieces, "close", None)
            if close is not None:
                close()
