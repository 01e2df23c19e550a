"""Show text that is still being written by editing one message, at most once per interval, always ending with a
final edit. One throttle per message: Discord's edit limits are per message (per channel bucket), and a global
clock would make one busy answer slow every other one down. llmcord uses one second between edits; so do we."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class ThrottledEdits(Generic[T]):
    """`push(text)` as often as text arrives (from the event loop); `await finish(text)` once at the end. The
    values are usually text, but anything the `edit` callable takes will do.

    Between two edits at least `interval` seconds pass, counted from the start of one edit to the start of the
    next; pushes in between are merged into the next edit, so only the latest text is ever sent. `finish` waits
    for a pending edit, then edits once more with the final text (after the interval), unless that text is
    already shown. An edit that fails is logged and the next one tries again: a lost preview costs nothing.
    """

    def __init__(self, edit: Callable[[T], Awaitable[object]], interval: float = 1.0,
                 clock: Callable[[], float] = time.monotonic):
        self._edit = edit
        self.interval = interval
        self._clock = clock
        self._latest: T | None = None
        self._shown: T | None = None
        self._last_edit = float("-inf")
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()     # one edit of this message in flight at a time
        self._sending = False           # an edit request is on its way to Discord: let it land, never cancel it
        self.edits = 0

    def push(self, text: T) -> None:
        self._latest = text
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._flush_when_allowed())

    async def _flush_when_allowed(self) -> None:
        async with self._lock:
            # text pushed while an edit was in flight is sent by the same task, so nothing waits for a next push
            while self._latest is not None and self._latest != self._shown:
                wait = self._last_edit + self.interval - self._clock()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not await self._send(self._latest):
                    return

    async def _send(self, text: T) -> bool:
        self._last_edit = self._clock()
        self._sending = True
        try:
            await self._edit(text)
        except Exception as exc:
            log.warning("a streaming edit failed (%s); the next push will try again", exc)
            return False
        finally:
            self._sending = False
        self._shown = text
        self.edits += 1
        return True

    async def finish(self, final: object, edit: Callable[[object], Awaitable[object]] | None = None) -> None:
        """The final edit, with `edit` when given (e.g. one that also adds buttons), else with the preview's edit,
        which skips it when `final` is already shown. Raises what the edit raises: the final answer must not be
        lost silently."""
        if self._task is not None and not self._task.done():
            # a preview still waiting for its turn is superseded by the final text; one already sent must land
            # first (cancelling it mid-request could leave a message the final edit does not know about)
            self._latest = None
            if not self._sending:
                self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        async with self._lock:
            if edit is None and final == self._shown:
                return
            wait = self._last_edit + self.interval - self._clock()
            if wait > 0:
                await asyncio.sleep(wait)
            self._last_edit = self._clock()
            await (edit or self._edit)(final)
            self.edits += 1
