"""What the web app holds besides the core: the model's queue, caches of sizing reports and charts, the chart
thread and the metrics. Caches only: any worker can answer any request."""
from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

from bot.charts import context_chart, memory_breakdown_chart
from bot.core import Core
from bot.errors import InvalidRequestError
from bot.llm.queue import GenerationQueue
from bot.sizing.schema import SizingReport, SizingRequest
from bot.web.problems import timeout_problem
from bot.web.suggest import NameSuggester, hardware_suggester, model_suggester

T = TypeVar("T")
REPORTS_CACHED = 2048
CHARTS_CACHED = 128


class LRU:
    """A thread-safe least-recently-used cache: sizing runs in worker threads."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def peek(self, key: str) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
        return None

    def get_or_make(self, key: str, make: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
            self.misses += 1
        value = make()            # outside the lock: two threads may make the same value once each
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


class Timeout(Exception):
    def __init__(self, seconds: float):
        self.problem = timeout_problem(seconds)


@dataclass(eq=False)
class WebState:
    core: Core
    queue: GenerationQueue | None = None
    metrics: Any = None                      # bot.ops.metrics.Metrics when prometheus-client is installed
    reports: LRU = field(default_factory=lambda: LRU(REPORTS_CACHED))
    charts: LRU = field(default_factory=lambda: LRU(CHARTS_CACHED))
    # matplotlib is not made for drawing in parallel threads: one chart at a time, as the Discord bot does
    chart_thread: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1, "chart"))

    @property
    def settings(self):
        return self.core.settings

    @cached_property
    def models(self) -> NameSuggester:
        return model_suggester(self.core.catalog)

    @cached_property
    def hardware(self) -> NameSuggester:
        return hardware_suggester(self.core.catalog)

    def size_now(self, request: SizingRequest) -> tuple[SizingReport, bytes]:
        """The engine's report and its JSON, cached by the request (reports are never changed after this)."""
        if request.gguf:
            raise InvalidRequestError("gguf: sizing a file on the server is not offered over HTTP; give a model name "
                                      "(or run `willitrun size --gguf FILE` where the file is).")

        def make() -> tuple[SizingReport, bytes]:
            report = self.core.engine.size(request)
            return report, report.model_dump_json().encode()
        return self.reports.get_or_make(request.model_dump_json(), make)

    async def size(self, request: SizingRequest) -> tuple[SizingReport, bytes]:
        cached = self.reports.peek(request.model_dump_json())   # a repeated request skips the thread hop
        return cached if cached is not None and not request.gguf else await self.in_thread(self.size_now, request)

    async def chart(self, which: str, request: SizingRequest) -> bytes:
        def make() -> bytes:
            if which == "context":
                return context_chart(self.core.engine, request)
            return memory_breakdown_chart(self.size_now(request)[0])
        work = asyncio.get_running_loop().run_in_executor(
            self.chart_thread, self.charts.get_or_make, f"{which}:{request.model_dump_json()}", make)
        return await self._within(work)

    async def draw(self, key: str, make: Callable[[], bytes]) -> bytes:
        """A chart other than sizing's two (what can I run, compare), cached under `key`, drawn on the chart thread."""
        work = asyncio.get_running_loop().run_in_executor(self.chart_thread, self.charts.get_or_make, key, make)
        return await self._within(work)

    async def in_thread(self, function: Callable[..., T], *args) -> T:
        """CPU-bound work in the default thread pool, within WEB_TIMEOUT_S (the thread finishes on its own)."""
        return await self._within(asyncio.to_thread(function, *args))

    async def _within(self, work) -> Any:
        try:
            return await asyncio.wait_for(work, self.settings.web_timeout_s)
        except TimeoutError:
            raise Timeout(self.settings.web_timeout_s) from None

    async def close(self) -> None:
        if self.queue is not None:
            await self.queue.close()
        self.chart_thread.shutdown(wait=False, cancel_futures=True)
