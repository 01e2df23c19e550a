"""Charts (bot.charts.answer_chart) drawn one at a time on one thread, within a time budget, without one slow chart
holding up the rest.

matplotlib is not made for drawing in parallel threads, and twenty charts at once would only slow each other down,
so there is one chart thread. A thread cannot be stopped mid-drawing, so what keeps a slow chart (a thousand GPUs
in one request took 8.8 s) from holding every other answer up is what happens around it: its asker stops waiting
at the end of the budget and the answer goes out without a chart; a chart whose budget ran out while it waited is
never drawn; while the thread is still busy with a chart past its budget, new charts are left out at once instead
of queueing behind it; and at most `max_waiting` charts wait at all.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
R = TypeVar("R")
MAX_WAITING = 8


class ChartThread(Generic[R]):
    def __init__(self, draw: Callable[[R], bytes], max_waiting: int = MAX_WAITING,
                 clock: Callable[[], float] = time.monotonic):
        self._draw = draw
        self.max_waiting = max_waiting
        self._clock = clock
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chart")
        self._lock = threading.Lock()
        self._waiting = 0                          # submitted, not finished (the one drawing included)
        self._drawing_due: float | None = None     # the budget's end of the chart being drawn
        self.drawn = 0

    def _run(self, report: R, due: float) -> bytes | None:
        if self._clock() > due:          # its asker stopped waiting: drawing it now helps nobody
            return None
        self._drawing_due = due
        try:
            png = self._draw(report)
        finally:
            self._drawing_due = None
        self.drawn += 1
        return png

    def _finished(self, _future) -> None:
        with self._lock:
            self._waiting -= 1

    def busy_reason(self) -> str | None:
        """Why a new chart would not be drawn in time, or None."""
        due = self._drawing_due
        if due is not None and self._clock() > due:
            return "the chart thread is still drawing a chart past its budget"
        if self._waiting >= self.max_waiting:
            return f"{self._waiting} charts are already waiting"
        return None

    async def draw(self, report: R, budget_s: float) -> bytes | None:
        """The chart of `report`, or None when it cannot be ready within `budget_s` seconds."""
        reason = self.busy_reason()
        if reason is not None:
            log.warning("left the chart out: %s", reason)
            return None
        with self._lock:
            self._waiting += 1
        try:
            future = self._thread.submit(self._run, report, self._clock() + budget_s)
        except RuntimeError:                 # shut down: the bot is stopping
            self._finished(None)
            return None
        future.add_done_callback(self._finished)
        try:
            # cancelling the wrapper on time-out also takes a chart that has not started off the queue
            return await asyncio.wait_for(asyncio.wrap_future(future), budget_s)
        except TimeoutError:
            log.warning("left the chart out: drawing it took over %.1f s", budget_s)
            return None

    def shutdown(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)
